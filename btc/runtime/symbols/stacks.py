"""Stack ids -> frames -> text: reads the STACK_TRACE maps `kstacks`/`ustacks` of a loaded
object (btc.meta.STACK_MAPS) and symbolizes the addresses.

Ids as the programs store them (btc/meta.py): a kstack value is bpf_get_stackid's id; a
ustack value is `(tgid << 32) | id`. A negative id (the helper failed) is an empty stack.
"""
from __future__ import annotations

import struct

from btc.meta import STACK_DEPTH, STACK_MAPS
from btc.runtime.output.stacks import Frame, format_stack
from btc.runtime.symbols.symbolizer import Symbolizer

_KEY = struct.Struct("<I")


def split_stack_id(value: int, kind: str) -> tuple[int, int]:
    """(stack id as s32, tgid) of a stored stack value; tgid is 0 for kernel stacks."""
    sid = value & 0xFFFFFFFF
    sid = sid - (1 << 32) if sid & 0x80000000 else sid
    return sid, (value >> 32) & 0xFFFFFFFF if kind == "user" else 0


def read_stack_addresses(handle, stack_id: int) -> list[int]:
    """The addresses of stack `stack_id` in a STACK_TRACE map (zero-terminated)."""
    if handle is None or stack_id < 0:
        return []
    raw = handle.lookup(_KEY.pack(stack_id))
    if not raw:
        return []
    addrs = struct.unpack_from(f"<{min(len(raw) // 8, STACK_DEPTH)}Q", raw)
    out = []
    for a in addrs:
        if a == 0:
            break
        out.append(a)
    return out


class StackReader:
    """The `stack_text(value, kind)` callback for the output package, caching texts."""

    def __init__(self, maps: dict, symbolizer: Symbolizer, dialect: str):
        self.maps = maps  # LoadedObject.maps: symbol -> MapHandle
        self.sym = symbolizer
        self.dialect = dialect
        self._texts: dict[tuple[int, str], str] = {}

    def frames(self, value: int, kind: str) -> list[Frame]:
        sid, tgid = split_stack_id(value, kind)
        addrs = read_stack_addresses(self.maps.get(STACK_MAPS[kind]), sid)
        if kind == "kernel":
            return self.sym.kernel_frames(addrs)
        return self.sym.user_frames(tgid, addrs)

    def text(self, value: int, kind: str, mode: str | None = None, limit: int = 0) -> str:
        """`mode`: bpftrace's stack mode (bpftrace, perf, raw); `limit`: most frames shown."""
        key = (value, kind, mode, limit)
        if key not in self._texts:
            frames = self.frames(value, kind)
            if limit > 0:
                frames = frames[:limit]
            self._texts[key] = format_stack(frames, kind, self.dialect, mode)
        return self._texts[key]

    __call__ = text
