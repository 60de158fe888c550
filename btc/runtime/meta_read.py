"""Reading an object's `.btc.meta` and building the load-time `.rodata` image.

Positional parameters, `$#`, the trace start time and the realtime clock offset are not
compiled in: the runtime writes them into the object's read-only globals before loading, so
one object serves every run (and the verifier still sees them as constants).
"""
from __future__ import annotations

import struct
import time

from btc.diagnostics import BtcError
from btc.runtime.objfile import parse_object

META_VERSION = 1  # the version of btc/meta.py this runtime reads


def read_meta(obj: bytes) -> dict:
    meta = parse_object(obj).meta
    version = meta.get("version")
    if version != META_VERSION:
        raise BtcError(f"the object's metadata is version {version!r}, this btc reads version "
                       f"{META_VERSION}: recompile it with this btc")
    return meta


class Clocks:
    """The clock readings one run is based on (boot-clock ns and the realtime offset)."""

    def __init__(self) -> None:
        boot = time.clock_gettime_ns(time.CLOCK_BOOTTIME)
        self.start_ns = boot
        self.realtime_offset_ns = time.time_ns() - boot


def rodata_image(meta: dict, params: list[str], dialect: str,
                 clocks: Clocks | None = None) -> dict[str, bytes]:
    """{symbol: bytes} for the loader: every slot of the object's `.rodata` constants."""
    ro = meta.get("rodata") or {}
    slots = ro.get("slots") or []
    if not ro.get("sym") or not slots:
        return {}
    clocks = clocks or Clocks()
    size = max(s["offset"] + _slot_size(s["t"]) for s in slots)
    image = bytearray(size)
    for s in slots:
        value = _slot_value(s, params, dialect, clocks)
        image[s["offset"]:s["offset"] + len(value)] = value
    return {ro["sym"]: bytes(image)}


def _slot_size(t: dict) -> int:
    return int(t.get("size", 8))


def _slot_value(slot: dict, params: list[str], dialect: str, clocks: Clocks) -> bytes:
    role, t = slot["role"], slot["t"]
    if role == "param":
        return _param_bytes(slot["index"], t, params, dialect)
    if role == "param_count":
        return struct.pack("<Q", len(params))
    if role == "start_ns":
        return struct.pack("<Q", clocks.start_ns)
    if role == "realtime_offset_ns":
        return struct.pack("<q", clocks.realtime_offset_ns)
    raise BtcError(f"the object needs a load-time value this btc does not know: {role!r}")


def _param_bytes(index: int, t: dict, params: list[str], dialect: str) -> bytes:
    word = params[index - 1] if 0 < index <= len(params) else None
    if t["k"] == "str":
        raw = (word or "").encode("utf-8", "surrogateescape")[: t["size"] - 1]
        return raw.ljust(t["size"], b"\0")
    value = 0 if word is None else _param_int(index, word, dialect)
    return (value & ((1 << (8 * t["size"])) - 1)).to_bytes(t["size"], "little")


def _param_int(index: int, word: str, dialect: str) -> int:
    try:
        return c_long(word)
    except ValueError:
        if dialect == "bpftrace":
            raise BtcError(f'${index} used numerically but given "{word}". Try using str(${index}).')
        # btrace: a word that is not a number is a string, which is 1 in numbers when non-empty
        return 1 if word else 0


def c_long(word: str) -> int:
    """The whole word as C's strtol(word, NULL, 0) reads it (0x hex, leading-0 octal)."""
    body = word.strip()
    sign = -1 if body.startswith("-") else 1
    body = body[1:] if body[:1] in "+-" else body
    base = 16 if body[:2].lower() == "0x" else 8 if len(body) > 1 and body[0] == "0" else 10
    return sign * int(body, base)
