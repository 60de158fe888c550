"""Reading an object's `.btc.meta` and building the load-time `.rodata` image.

Positional parameters, `$#`, the trace start time and the realtime clock offset are not
compiled in: the runtime writes them into the object's read-only globals before loading, so
one object serves every run (and the verifier still sees them as constants).
"""
from __future__ import annotations

import struct
import time

from btc.diagnostics import BtcError
from btc.runtime import kernel_facts
from btc.runtime.objfile import parse_meta, parse_object

META_VERSION = 1  # the version of btc/meta.py this runtime reads


def read_meta(obj: bytes, check_kernel: bool = True, whole: bool = True) -> dict:
    """The object's metadata, refused (one plain line) when this btc cannot read it or, with
    `check_kernel`, when the object was built for a kernel whose layouts differ from this one.
    `whole`: parse (and so check) the whole object, not only its metadata section."""
    meta = parse_object(obj).meta if whole else parse_meta(obj)
    version = meta.get("version")
    if version != META_VERSION:
        raise BtcError(f"the object's metadata is version {version!r}, this btc reads version "
                       f"{META_VERSION}: recompile it with this btc")
    if check_kernel:
        kernel_facts.check(meta)
    return meta


class Clocks:
    """The clock readings one run is based on (boot-clock ns and the realtime offset)."""

    def __init__(self) -> None:
        boot = time.clock_gettime_ns(time.CLOCK_BOOTTIME)
        self.start_ns = boot
        self.realtime_offset_ns = time.time_ns() - boot
        self.tai_offset_ns = time.clock_gettime_ns(time.CLOCK_TAI) - boot


class LoadValues:
    """Values known only when a run starts, patched into `.rodata` besides `$N` and `$#`.
    (A plain class: a dataclass costs ~1 ms to define, on the start-up path.)"""

    __slots__ = ("target_pid", "cpid")

    def __init__(self, target_pid: int = 0, cpid: int = 0):
        self.target_pid = target_pid  # `-p PID`; 0 = every process
        self.cpid = cpid  # pid of `-c CMD`; 0 without one


def rodata_image(meta: dict, params: list[str], dialect: str, clocks: Clocks | None = None,
                 values: LoadValues | None = None) -> dict[str, bytes]:
    """{symbol: bytes} for the loader: every slot of the object's `.rodata` constants."""
    ro = meta.get("rodata") or {}
    slots = ro.get("slots") or []
    values = values or LoadValues()
    if values.target_pid and _has_probes(meta) and not any(s["role"] == "target_pid" for s in slots):
        raise BtcError("this object was compiled without -p support: recompile it with this btc")
    if not ro.get("sym") or not slots:
        return {}
    clocks = clocks or Clocks()
    size = max(s["offset"] + _slot_size(s["t"]) for s in slots)
    image = bytearray(size)
    for s in slots:
        value = _slot_value(s, params, dialect, clocks, values)
        image[s["offset"]:s["offset"] + len(value)] = value
    return {ro["sym"]: bytes(image)}


def _has_probes(meta: dict) -> bool:
    return any(p["attach"].get("kind") not in ("begin", "end") for p in meta.get("programs", []))


def _slot_size(t: dict) -> int:
    return int(t.get("size", 8))


def _slot_value(slot: dict, params: list[str], dialect: str, clocks: Clocks,
                values: LoadValues) -> bytes:
    role, t = slot["role"], slot["t"]
    if role == "param":
        return _param_bytes(slot["index"], t, params, dialect)
    if role == "param_count":
        return struct.pack("<Q", len(params))
    if role == "start_ns":
        return struct.pack("<Q", clocks.start_ns)
    if role == "realtime_offset_ns":
        return struct.pack("<q", clocks.realtime_offset_ns)
    if role == "tai_offset_ns":
        return struct.pack("<q", clocks.tai_offset_ns)
    if role == "target_pid":
        return struct.pack("<Q", values.target_pid)
    if role == "cpid":
        return struct.pack("<Q", values.cpid)
    if role == "kaddr":
        return struct.pack("<Q", _kernel_address(slot["name"]))
    if role == "cgroupid":
        from btc.runtime.cgroups import cgroup_id

        return struct.pack("<Q", cgroup_id(slot["name"], dialect))
    raise BtcError(f"the object needs a load-time value this btc does not know: {role!r}")


def _kernel_address(name: str) -> int:
    """kaddr(): looked up at every load, since KASLR moves the kernel at each boot."""
    from btc.runtime.symbols import Symbolizer

    addr = Symbolizer().kaddr(name)
    if addr is None:
        raise BtcError(f"kaddr: unknown kernel symbol '{name}' (not in /proc/kallsyms)")
    return addr


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
        # btrace types $N by the word given when compiling (a number unless it is not one):
        # only an object compiled with a number, or none, for $N gets here
        raise BtcError(f'${index} is a number in this object but was given "{word}": compile it '
                       f'with a string for ${index} (btc compile FILE ARGS...)')


def c_long(word: str) -> int:
    """The whole word as C's strtol(word, NULL, 0) reads it (0x hex, leading-0 octal)."""
    body = word.strip()
    sign = -1 if body.startswith("-") else 1
    body = body[1:] if body[:1] in "+-" else body
    base = 16 if body[:2].lower() == "0x" else 8 if len(body) > 1 and body[0] == "0" else 10
    return sign * int(body, base)
