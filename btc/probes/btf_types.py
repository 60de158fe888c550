"""C type sizes and field offsets for bpftrace's `sizeof(TYPE)` / `offsetof(TYPE, a.b)`:
the C base types of the LP64 Linux ABI, and every named type of /sys/kernel/btf/vmlinux
(structs, unions, enums, typedefs such as `u64` or `pid_t`).

Layout: include/uapi/linux/btf.h (struct btf_header, struct btf_type, per-kind trailers).
"""
from __future__ import annotations

import functools
import struct

from btc.probes._btf import VMLINUX

# BTF_KIND_* (include/uapi/linux/btf.h)
_INT, _PTR, _ARRAY, _STRUCT, _UNION, _ENUM, _FWD, _TYPEDEF = 1, 2, 3, 4, 5, 6, 7, 8
_VOLATILE, _CONST, _RESTRICT, _FLOAT, _TYPE_TAG, _ENUM64 = 9, 10, 11, 16, 18, 19
_MODIFIERS = (_TYPEDEF, _VOLATILE, _CONST, _RESTRICT, _TYPE_TAG)
_SIZED = (_INT, _STRUCT, _UNION, _ENUM, _FLOAT, _ENUM64)
_FIXED_EXTRA = {1: 4, 3: 12, 14: 4, 17: 4}  # INT, ARRAY, VAR, DECL_TAG
_PER_MEMBER = {4: 12, 5: 12, 6: 8, 13: 8, 15: 12, 19: 12}  # STRUCT UNION ENUM PROTO DATASEC ENUM64
_PREFIX_KIND = {"struct": (_STRUCT,), "union": (_UNION,), "enum": (_ENUM, _ENUM64)}

# C base types on LP64 Linux (x86_64, aarch64, ...): what `sizeof` gives without BTF
C_BASE_SIZES = {
    "char": 1, "short": 2, "int": 4, "long": 8, "_Bool": 1, "float": 4, "double": 8,
    "int8_t": 1, "int16_t": 2, "int32_t": 4, "int64_t": 8,
    "uint8_t": 1, "uint16_t": 2, "uint32_t": 4, "uint64_t": 8, "size_t": 8, "ssize_t": 8,
}


class TypeLookupError(LookupError):
    """`what` was not found; `known` are the names it could have meant (for a hint)."""

    def __init__(self, message: str, what: str, known: list[str]):
        super().__init__(message)
        self.what, self.known = what, known


class BtfTypes:
    """The type section of one BTF blob, walked once; names are decoded on demand. Each
    record is a plain tuple (kind, name_off, size_type, vlen, kflag, at), `at` being the
    word index of its trailer: vmlinux has ~130k types and this walk is on the compile path."""

    def __init__(self, data: bytes):
        _magic, _ver, _flags, hdr_len, type_off, type_len, str_off, str_len = \
            struct.unpack_from("<HBBIIIII", data, 0)
        self._strs = data[hdr_len + str_off:hdr_len + str_off + str_len]
        start = hdr_len + type_off
        self._words = memoryview(data)[start:start + type_len].cast("I")
        self._recs = self._walk()

    def _walk(self) -> list[tuple]:
        words, recs, at, end = self._words, [(0, 0, 0, 0, False, 0)], 0, len(self._words)
        # words to skip after each record's 3-word head, per kind: fixed part + per member
        fixed = [_FIXED_EXTRA.get(k, 0) // 4 for k in range(32)]
        per = [_PER_MEMBER.get(k, 0) // 4 for k in range(32)]
        append = recs.append
        while at < end:
            info = words[at + 1]
            kind, vlen = (info >> 24) & 0x1F, info & 0xFFFF
            append((kind, words[at], words[at + 2], vlen, info >= 0x80000000, at + 3))
            at += 3 + fixed[kind] + per[kind] * vlen
        return recs

    def name(self, off: int) -> str:
        return self._strs[off:self._strs.index(b"\0", off)].decode()

    def find(self, name: str, kinds: tuple[int, ...]) -> int | None:
        """The id of the type `name` of one of `kinds` (a complete one, not a forward)."""
        at = self._strs.find(b"\0" + name.encode() + b"\0")
        if at < 0:
            return None
        off = at + 1  # BTF deduplicates strings: the name has this one offset
        for tid, r in enumerate(self._recs):
            if r[1] == off and r[0] in kinds:
                return tid
        return None

    def names(self, kinds: tuple[int, ...]) -> list[str]:
        """Every name of a type of these kinds (for 'did you mean' hints; slow-ish)."""
        return [self.name(r[1]) for r in self._recs if r[0] in kinds and r[1]]

    def size(self, tid: int) -> int:
        r = self._recs[tid]
        while r[0] in _MODIFIERS:
            r = self._recs[r[2]]
        if r[0] in _SIZED:
            return r[2]
        if r[0] == _PTR:
            return 8
        if r[0] == _ARRAY:
            elem, _index, n = self._words[r[5]:r[5] + 3]
            return n * self.size(elem)
        return 0

    def resolve(self, tid: int) -> int:
        while self._recs[tid][0] in _MODIFIERS:
            tid = self._recs[tid][2]
        return tid

    def members(self, tid: int) -> list[tuple[str, int, int]]:
        """(name, type id, byte offset) of a struct/union's fields; the fields of anonymous
        struct/union members are listed as the parent's own, as C lets you name them."""
        kind, _name, _size, vlen, kflag, at = self._recs[self.resolve(tid)]
        if kind not in (_STRUCT, _UNION):
            return []
        out = []
        for i in range(vlen):
            name_off, mtype, moff = self._words[at + 3 * i:at + 3 * i + 3]
            bit = moff & 0xFFFFFF if kflag else moff
            if name_off == 0:
                out.extend((n, t, o + bit // 8) for n, t, o in self.members(mtype))
            else:
                out.append((self.name(name_off), mtype, bit // 8))
        return out

    def type_name(self, tid: int) -> str:
        tid = self.resolve(tid)
        word = self.kind_word(tid)
        base = self.name(self._recs[tid][1]) or "(anonymous)"
        return f"{word} {base}" if word else base

    def kind_word(self, tid: int) -> str:
        k = self._recs[self.resolve(tid)][0]
        return {_STRUCT: "struct", _UNION: "union"}.get(k, "")


@functools.lru_cache(maxsize=1)
def vmlinux_types(path: str = VMLINUX) -> BtfTypes | None:
    """None when the kernel exposes no BTF."""
    try:
        with open(path, "rb") as f:
            return BtfTypes(f.read())
    except OSError:
        return None


def _type_id(types: BtfTypes, name: str) -> int | None:
    prefix, _, rest = name.partition(" ")
    if prefix in _PREFIX_KIND and rest:
        return types.find(rest.strip(), _PREFIX_KIND[prefix])
    return types.find(name, (_TYPEDEF, _INT, _FLOAT))


def type_size(name: str) -> int:
    """sizeof(name): a C base type, or a named kernel type (`struct task_struct`, `u64`).
    Pointers (`T *`) are 8 bytes. Raises TypeLookupError."""
    name = " ".join(name.split())
    if name.endswith("*"):  # the pointee must still exist, as bpftrace resolves it
        base = name.rstrip("* ")
        if base != "void":
            type_size(base)
        return 8
    if name in C_BASE_SIZES:
        return C_BASE_SIZES[name]
    types = vmlinux_types()
    tid = _type_id(types, name) if types is not None else None
    if tid is None:
        raise TypeLookupError(f"Unknown type: '{name}'", name, _known(types, name))
    return types.size(tid)


def _known(types: BtfTypes | None, name: str) -> list[str]:
    """Names `name` could have meant: same-kind kernel types for `struct X`, else the C
    base types and kernel typedefs."""
    prefix, _, rest = name.partition(" ")
    if types is None:
        return list(C_BASE_SIZES)
    if prefix in _PREFIX_KIND and rest:
        return [f"{prefix} {n}" for n in types.names(_PREFIX_KIND[prefix])]
    return list(C_BASE_SIZES) + types.names((_TYPEDEF,))


def field_offset(name: str, fields: tuple[str, ...]) -> int:
    """offsetof(name, a.b.c) in bytes. Raises TypeLookupError."""
    name = " ".join(name.split())
    types = vmlinux_types()
    tid = _type_id(types, name) if types is not None else None
    if tid is None:
        raise TypeLookupError(f'Cannot resolve unknown type "{name}"', name, _known(types, name))
    if not types.kind_word(tid):
        raise TypeLookupError(f"'{name}' is not a record type.", name, [])
    off, record = 0, name
    for i, f in enumerate(fields):
        members = types.members(tid)
        hit = next((m for m in members if m[0] == f), None)
        if hit is None:
            raise TypeLookupError(f"'{record}' has no field named '{f}'", f, [m[0] for m in members])
        _n, tid, moff = hit
        off += moff
        record = types.type_name(tid)
        if i + 1 < len(fields) and not types.kind_word(tid):
            raise TypeLookupError(f"'{record}' is not a record type.", f, [])
    return off


__all__ = ["type_size", "field_offset", "TypeLookupError", "C_BASE_SIZES",
           "vmlinux_types"]
