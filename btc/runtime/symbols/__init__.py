"""Symbols for stacks and ksym/usym/kaddr/uaddr: kernel (/proc/kallsyms) and user space
(/proc/PID/maps + ELF .symtab/.dynsym), looked up lazily and cached for one run.

Public API:
* ``Symbolizer()``: ``ksym(addr) -> str``, ``usym(pid, addr) -> str``,
  ``kaddr(name) -> int | None``, ``uaddr(path, name) -> int | None``,
  ``kernel_frames(addrs) -> list[Frame]``, ``user_frames(pid, addrs) -> list[Frame]``.
* ``resolve_library(name) -> str | None`` (from btc.probes.ldcache).
* ``StackReader(maps, symbolizer, dialect)``: ``frames(value, kind)``, ``text(value, kind)``
  (`maps`: LoadedObject.maps; value: a stored kstack/ustack u64).
* ``RunSymbols(maps, dialect)``: the lazy per-run owner of both; ``.text()`` is the
  output.SymbolText the EventSink passes to the formatters; ``note_process(pid)`` snapshots
  a live process's mappings.

Only ``RunSymbols`` is imported eagerly (no numpy, no pyelftools until a lookup).
"""
from __future__ import annotations

import importlib

from btc.runtime.symbols.lazy import RunSymbols

_LAZY = {"Symbolizer": "symbolizer", "StackReader": "stacks",
         "read_stack_addresses": "stacks", "split_stack_id": "stacks"}
__all__ = ["RunSymbols", "resolve_library", *_LAZY]


def resolve_library(name: str) -> str | None:
    """A library name (`libc`, `libc.so.6`) -> its path through the ld.so cache."""
    from btc.probes.ldcache import resolve_library as resolve

    return resolve(name)


def __getattr__(name: str):
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{module}"), name)
