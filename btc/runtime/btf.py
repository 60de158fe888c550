"""BTF from the object: fix up DATASECs, load it with BPF_BTF_LOAD, read `.BTF.ext` records.

LLVM leaves DATASEC sizes and VAR offsets at 0 and lets the loader fill them in from the ELF
symbol table (libbpf does the same); the kernel rejects them as they are. Loading failures are
loud: a program loaded without BTF loses the bt line numbers in verifier messages.
"""
from __future__ import annotations

import ctypes
import struct

from btc.diagnostics import BtcError
from btc.records import Record, field
from btc.runtime import abi, syscalls

_HDR = struct.Struct("<HBBIIIII")  # magic, version, flags, hdr_len, type_off/len, str_off/len
_TYPE = struct.Struct("<III")  # name_off, info, size|type
_MODIFIERS = {abi.BtfKind.TYPEDEF, abi.BtfKind.VOLATILE, abi.BtfKind.CONST,
              abi.BtfKind.RESTRICT, abi.BtfKind.TYPE_TAG}


class BtfType(Record):
    kind: abi.BtfKind
    name: str
    vlen: int
    size_or_type: int
    off: int  # byte offset of this record inside the whole .BTF blob
    members: tuple = ()  # STRUCT/UNION: (name, type, bit_off); DATASEC: (type, offset, size)
    array: tuple = ()  # ARRAY: (elem_type, index_type, nelems)


class Btf:
    """A parsed `.BTF` blob (read-only view; `fixed_datasecs` returns patched bytes)."""

    def __init__(self, data: bytes):
        if len(data) < _HDR.size:
            raise BtcError("the object's .BTF section is truncated")
        magic, version, _flags, hdr_len, type_off, type_len, str_off, str_len = _HDR.unpack_from(data)
        if magic != abi.BTF_MAGIC or version != 1:
            raise BtcError("the object's .BTF section is not BTF (bad magic or version)")
        self.data = bytes(data)
        self.type_start = hdr_len + type_off
        self.type_end = self.type_start + type_len
        self.str_start = hdr_len + str_off
        self.str_end = self.str_start + str_len
        if self.type_end > len(data) or self.str_end > len(data):
            raise BtcError("the object's .BTF section is truncated")
        self.types: list[BtfType | None] = [None]  # id 0 is void
        self._parse_types()

    def string(self, off: int) -> str:
        start = self.str_start + off
        if off < 0 or start >= self.str_end:
            return ""
        end = self.data.index(b"\0", start, self.str_end)
        return self.data[start:end].decode("utf-8", "replace")

    def _parse_types(self) -> None:
        pos = self.type_start
        while pos < self.type_end:
            name_off, info, st = _TYPE.unpack_from(self.data, pos)
            kind = abi.BtfKind((info >> 24) & 0x1F)
            vlen = info & 0xFFFF
            body = pos + _TYPE.size
            members: tuple = ()
            array: tuple = ()
            if kind in (abi.BtfKind.STRUCT, abi.BtfKind.UNION):
                members = tuple(
                    (self.string(m[0]), m[1], m[2])
                    for m in struct.iter_unpack("<III", self.data[body:body + 12 * vlen]))
            elif kind == abi.BtfKind.DATASEC:
                members = tuple(struct.iter_unpack("<III", self.data[body:body + 12 * vlen]))
            elif kind == abi.BtfKind.ARRAY:
                array = struct.unpack_from("<III", self.data, body)
            self.types.append(BtfType(kind, self.string(name_off), vlen, st, pos, members, array))
            pos = body + _extra_size(kind, vlen)

    def find(self, name: str, kind: abi.BtfKind | None = None) -> int | None:
        for tid, t in enumerate(self.types):
            if t is not None and t.name == name and (kind is None or t.kind == kind):
                return tid
        return None

    def resolve(self, tid: int) -> int:
        """Skip typedefs and qualifiers."""
        for _ in range(64):
            t = self.types[tid] if 0 < tid < len(self.types) else None
            if t is None or t.kind not in _MODIFIERS:
                return tid
            tid = t.size_or_type
        return tid

    def size_of(self, tid: int) -> int | None:
        tid = self.resolve(tid)
        t = self.types[tid] if 0 < tid < len(self.types) else None
        if t is None:
            return None
        if t.kind in (abi.BtfKind.INT, abi.BtfKind.STRUCT, abi.BtfKind.UNION, abi.BtfKind.ENUM,
                      abi.BtfKind.ENUM64, abi.BtfKind.FLOAT, abi.BtfKind.DATASEC):
            return t.size_or_type
        if t.kind == abi.BtfKind.PTR:
            return 8
        if t.kind == abi.BtfKind.ARRAY:
            elem = self.size_of(t.array[0])
            return None if elem is None else elem * t.array[2]
        return None

    def fixed_datasecs(self, sections: dict[str, int],
                       symbols: dict[tuple[str, str], tuple[int, int]]) -> bytes:
        """The blob with every DATASEC's size and VAR offsets filled in from the ELF.

        `sections` maps section name -> size; `symbols` maps (section, symbol) -> (value, size).
        """
        out = bytearray(self.data)
        for t in self.types:
            if t is None or t.kind != abi.BtfKind.DATASEC:
                continue
            if t.name not in sections:
                raise BtcError(f"BTF describes section {t.name!r}, which the object lacks")
            struct.pack_into("<I", out, t.off + 8, sections[t.name])
            entries = [self._fixed_var(t.name, e, symbols) for e in t.members]
            entries.sort(key=lambda e: e[1])  # the kernel wants increasing offsets
            for i, e in enumerate(entries):
                struct.pack_into("<III", out, t.off + 12 + 12 * i, *e)
        return bytes(out)

    def _fixed_var(self, sec: str, entry: tuple[int, int, int],
                   symbols: dict[tuple[str, str], tuple[int, int]]) -> tuple[int, int, int]:
        vtype, off, size = entry
        var = self.types[vtype] if 0 < vtype < len(self.types) else None
        if var is None or var.kind != abi.BtfKind.VAR:
            return entry
        sym = symbols.get((sec, var.name))
        if sym is None:
            raise BtcError(f"BTF variable {var.name!r} in {sec} has no ELF symbol")
        value, sym_size = sym
        return vtype, value, size or sym_size or (self.size_of(var.size_or_type) or 0)

    def map_definition(self, var_name: str) -> "BtfMapDef | None":
        """The BTF-defined map `var_name` in DATASEC .maps (libbpf's __uint/__type encoding)."""
        sec = self.find(".maps", abi.BtfKind.DATASEC)
        if sec is None:
            return None
        for vtype, _off, _size in self.types[sec].members:
            var = self.types[vtype]
            if var is not None and var.kind == abi.BtfKind.VAR and var.name == var_name:
                return self._map_def(self.resolve(var.size_or_type))
        return None

    def _map_def(self, struct_id: int) -> "BtfMapDef | None":
        st = self.types[struct_id]
        if st is None or st.kind != abi.BtfKind.STRUCT:
            return None
        d = BtfMapDef()
        for name, mtype, _bit in st.members:
            ptr = self.types[self.resolve(mtype)]
            if ptr is None or ptr.kind != abi.BtfKind.PTR:
                continue
            target = self.resolve(ptr.size_or_type)
            if name in ("key", "value"):
                d.fields[name + "_type_id"] = ptr.size_or_type
                d.fields[name + "_size"] = self.size_of(target) or 0
            else:
                arr = self.types[target]
                if arr is not None and arr.kind == abi.BtfKind.ARRAY:
                    d.fields[name] = arr.array[2]
        return d


class BtfMapDef(Record, frozen=False):
    """Fields of a BTF map definition: type, max_entries, map_flags, key_size, value_size,
    key_type_id, value_type_id (whatever the definition has)."""

    fields: dict[str, int] = field(default_factory=dict)


def _extra_size(kind: abi.BtfKind, vlen: int) -> int:
    if kind in (abi.BtfKind.INT, abi.BtfKind.VAR, abi.BtfKind.DECL_TAG):
        return 4
    if kind == abi.BtfKind.ARRAY:
        return 12
    if kind in (abi.BtfKind.STRUCT, abi.BtfKind.UNION, abi.BtfKind.DATASEC, abi.BtfKind.ENUM64):
        return 12 * vlen
    if kind in (abi.BtfKind.ENUM, abi.BtfKind.FUNC_PROTO):
        return 8 * vlen
    return 0


def load_btf(blob: bytes) -> int:
    """BPF_BTF_LOAD; returns the BTF fd, or raises a BtcError with the kernel's BTF log."""
    buf = ctypes.create_string_buffer(blob, len(blob))
    attr = abi.AttrBtfLoad(btf=syscalls.addr(buf), btf_size=len(blob))
    res = syscalls.bpf_raw(abi.BpfCmd.BTF_LOAD, attr)
    if res >= 0:
        return res
    log = ctypes.create_string_buffer(1 << 20)
    attr = abi.AttrBtfLoad(btf=syscalls.addr(buf), btf_size=len(blob), btf_log_buf=syscalls.addr(log),
                           btf_log_size=len(log), btf_log_level=1)
    res2 = syscalls.bpf_raw(abi.BpfCmd.BTF_LOAD, attr)
    if res2 >= 0:  # flaky first failure; keep the fd
        return res2
    text = log.value.decode("utf-8", "replace").strip()
    last = text.splitlines()[-1] if text else ""
    err = syscalls.SyscallError("loading the object's BTF (BPF_BTF_LOAD)", -res)
    raise BtcError(f"{err.message}{': ' + last if last else ''}",
                   hint=err.hint or "the back end emitted BTF this kernel does not accept") from None


# --- .BTF.ext ------------------------------------------------------------------------------
class BtfExt(Record, frozen=False):
    """Per-section records; insn_off still in bytes from the section start."""

    func_info: dict[str, list[tuple[int, int]]] = field(default_factory=dict)
    line_info: dict[str, list[tuple[int, int, int, int]]] = field(default_factory=dict)


def parse_btf_ext(data: bytes, btf: Btf) -> BtfExt:
    if len(data) < 24:
        raise BtcError("the object's .BTF.ext section is truncated")
    magic, version, _flags, hdr_len = struct.unpack_from("<HBBI", data)
    if magic != abi.BTF_MAGIC or version != 1:
        raise BtcError("the object's .BTF.ext section is not BTF.ext (bad magic)")
    fi_off, fi_len, li_off, li_len = struct.unpack_from("<IIII", data, 8)
    ext = BtfExt()
    ext.func_info = {k: [(r[0], r[1]) for r in v]
                     for k, v in _info_block(data, hdr_len + fi_off, fi_len, 8, btf).items()}
    ext.line_info = {k: [tuple(r[:4]) for r in v]
                     for k, v in _info_block(data, hdr_len + li_off, li_len, 16, btf).items()}
    return ext


def _info_block(data: bytes, off: int, length: int, min_rec: int, btf: Btf) -> dict[str, list]:
    out: dict[str, list] = {}
    if length == 0:
        return out
    end = off + length
    if end > len(data):
        raise BtcError("the object's .BTF.ext section is truncated")
    rec_size = struct.unpack_from("<I", data, off)[0]
    if rec_size < min_rec:
        raise BtcError(f"unexpected .BTF.ext record size {rec_size}")
    pos = off + 4
    nwords = min_rec // 4
    while pos < end:
        sec_off, num = struct.unpack_from("<II", data, pos)
        pos += 8
        recs = [struct.unpack_from(f"<{nwords}I", data, pos + i * rec_size) for i in range(num)]
        out.setdefault(btf.string(sec_off), []).extend(recs)
        pos += num * rec_size
    return out
