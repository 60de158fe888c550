"""btc's output formatting: map, printf, print and time text, byte for byte per dialect.

Inputs are plain data (MapDesc / TypeDesc / PrintfDesc dicts from .btc.meta, design.md §3)
and raw bytes; no kernel access. `dialect` is "btrace" (OpenBSD btrace) or "bpftrace"
(classic v0.23). Text may hold surrogate escapes for invalid UTF-8: write it with
errors="surrogateescape" to reproduce the kernel's bytes.

Public API (imported lazily, so `check_printf` costs no numpy import):

* ``format_map(desc, keys, values, dialect="btrace", top=0, div=1, stack_text=None) -> str``
  keys: (n, key_size) uint8; values: (n, ncpu, round_up(value_size, 8)) uint8, as read by
  BPF_MAP_LOOKUP_BATCH. The whole text of print(@m[, top[, div]]) or of the map at exit,
  including bpftrace's trailing newlines. btrace: "" for an empty map; scalar maps print
  only their value (the runtime decides which maps print at exit).
* ``format_printf(desc, payload, dialect="btrace", truncated=frozenset()) -> (text, warnings)``
  payload: the event bytes after the 8-byte (kind, id) header. warnings go to stderr
  (btrace `btrace: ...` lines). `truncated`: indices of bpftrace %s arguments that filled
  their str() buffer (they get the ".." trailer).
* ``format_value(typedesc, payload, dialect="btrace") -> str``: print(v) of a non-map value.
* ``format_time(fmt, dialect="btrace", event_ns=None, now=None) -> (text, warnings)``.
* ``check_printf(fmt, arg_kinds, func="printf") -> list[str]``: bpftrace's compile-time
  format check (error messages without location).
* JSON (bpftrace ``-f json``), each returns whole lines: ``json_map(desc, keys, values,
  top=0, div=1)``, ``json_message(kind, text)`` (printf/time/join/cat/syscall),
  ``json_value(typedesc, payload)``, ``json_lost_events(n)``, ``json_attached_probes(n)``,
  ``json_escape(text)``.
* ``decode_map(desc, keys, values, dialect) -> MapData`` and ``render_map(desc, md, dialect,
  top=0, div=1, stack_text=None)`` for callers that want to decode once.
* Stacks: ``format_stack(frames: list[Frame], kind, dialect) -> str`` (frames symbolized by
  the runtime); pass ``stack_text=lambda stack_id, kind: ...`` to format_map/render_map to
  print stack keys/values. Text messages: ``lost_events_text(n)``, ``attach_banner(n)``.
* Symbolic values (TypeDesc kinds stack, ksym, usym): ``SymbolText(stack=, ksym=, usym=)``
  callbacks, passed as ``sym=`` to format_printf / format_value / json_value / json_map and
  as ``stack_text=`` to format_map / render_map (a bare stack callback still works there).
"""
from __future__ import annotations

import importlib

_EXPORTS = {
    "format_map": "text", "render_map": "text", "decode_map": "decode", "MapData": "decode",
    "format_printf": "printf", "format_value": "values", "format_time": "time_fmt",
    "check_printf": "printf_bpftrace", "json_map": "json_out", "json_message": "json_out",
    "json_value": "json_out", "json_lost_events": "json_out",
    "json_attached_probes": "json_out", "json_escape": "json_out",
    "format_stack": "stacks", "Frame": "stacks", "lost_events_text": "stacks",
    "attach_banner": "stacks", "SymbolText": "symbolic",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str):
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{module}"), name)
