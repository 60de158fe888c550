"""Just enough of /sys/kernel/btf/vmlinux: function names (fentry/fexit) and the
`btf_trace_NAME` typedefs that name raw tracepoints, with their argument counts.

Layout: include/uapi/linux/btf.h (struct btf_header, struct btf_type, per-kind trailers).
"""
from __future__ import annotations

import functools
import re
import struct
from dataclasses import dataclass

VMLINUX = "/sys/kernel/btf/vmlinux"

# BTF_KIND_* (include/uapi/linux/btf.h) and the bytes that follow each struct btf_type
_PTR, _TYPEDEF, _FUNC, _FUNC_PROTO = 2, 8, 12, 13
_FIXED_EXTRA = {1: 4, 3: 12, 14: 4, 17: 4}  # INT, ARRAY, VAR, DECL_TAG
_PER_MEMBER = {4: 12, 5: 12, 6: 8, 13: 8, 15: 12, 19: 12}  # STRUCT UNION ENUM PROTO DATASEC ENUM64


@dataclass(frozen=True)
class BtfIndex:
    funcs: dict[str, tuple[int, int]]  # name -> (btf id, number of parameters)
    raw_tracepoints: dict[str, int]  # NAME of btf_trace_NAME -> number of tracepoint args


@functools.lru_cache(maxsize=1)
def btf_index(path: str = VMLINUX) -> BtfIndex | None:
    """None when the kernel exposes no BTF."""
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError:
        return None
    return _index(data)


def _index(data: bytes) -> BtfIndex:
    _magic, _ver, _flags, hdr_len, type_off, type_len, str_off, _str_len = \
        struct.unpack_from("<HBBIIIII", data, 0)
    types_at, strs_at = hdr_len + type_off, hdr_len + str_off
    end = types_at + type_len

    def name(off: int) -> str:
        stop = data.index(b"\0", strs_at + off)
        return data[strs_at + off:stop].decode()

    # every record is a whole number of u32 words, so walk the section as a u32 array
    words = memoryview(data)[types_at:end].cast("I")
    kinds: list[tuple[int, int, int, int]] = [(0, 0, 0, 0)]  # id -> (kind, name_off, type, vlen)
    at, count = 0, len(words)
    while at < count:
        name_off, info, size_type = words[at], words[at + 1], words[at + 2]
        kind, vlen = (info >> 24) & 0x1F, info & 0xFFFF
        kinds.append((kind, name_off, size_type, vlen))
        at += 3 + (_FIXED_EXTRA.get(kind, 0) + _PER_MEMBER.get(kind, 0) * vlen) // 4
    funcs, raw = {}, {}
    for tid, (kind, name_off, ref, _vlen) in enumerate(kinds):
        if kind == _FUNC:
            funcs[name(name_off)] = (tid, kinds[ref][3])
        elif kind == _TYPEDEF and name_off:
            tname = name(name_off)
            if tname.startswith("btf_trace_"):
                ptr = kinds[ref]
                proto = kinds[ptr[2]] if ptr[0] == _PTR else ptr
                # the first parameter is the `void *__data` every probe function receives
                raw[tname[len("btf_trace_"):]] = max(proto[3] - 1, 0)
    return BtfIndex(funcs, raw)


@functools.lru_cache(maxsize=1)
def raw_tracepoint_names(path: str = VMLINUX) -> tuple[str, ...] | None:
    """Names of btf_trace_* typedefs straight from the string section: a regex instead of a
    full type walk, so that listing stays fast. None without BTF."""
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError:
        return None
    hdr_len, _to, _tl, str_off, str_len = struct.unpack_from("<IIIII", data, 4)
    strs = data[hdr_len + str_off:hdr_len + str_off + str_len]
    return tuple(sorted({m.decode() for m in re.findall(rb"\0btf_trace_(\w+)(?=\0)", strs)}))
