"""Read a btc BPF object (ELF for EM_BPF, libbpf conventions) into plain data; no kernel calls.

What comes out: the `.btc.meta` dict, the license, every function of every executable section
(several may share a section), relocations per section, `.maps` symbols, global data sections,
and the BTF with its DATASECs fixed up from the symbol table.
"""
from __future__ import annotations

import json
import struct
from collections import namedtuple  # not typing.NamedTuple: typing costs ~6 ms of start-up

from btc.diagnostics import BtcError
from btc.runtime import abi
from btc.runtime.btf import Btf, BtfExt, parse_btf_ext

DATA_PREFIXES = (".rodata", ".data", ".bss")
_SHF_EXECINSTR = 0x4


# kind: STT_FUNC, STT_OBJECT, STT_SECTION, ...; shndx: -1 for undefined/special sections
Symbol = namedtuple("Symbol", "name value size kind shndx")


# offset: byte offset inside the target section; sym: a Symbol; type: R_BPF_*
Reloc = namedtuple("Reloc", "offset sym type")


# offset: byte offset inside its section; code: the instructions
Function = namedtuple("Function", "name section shndx offset code")


# data: zeros for .bss (NOBITS)
DataSection = namedtuple("DataSection", "name shndx data")


class ObjectFile:
    """Everything the loader needs from the object (a plain class: dataclasses cost ~1 ms
    each to create at import time, and `btc run prog.o` is a start-up path)."""

    def __init__(self, meta: dict, license: bytes, functions: dict[str, Function],
                 relocs: dict[int, list[Reloc]], section_names: dict[int, str],
                 map_symbols: dict[str, Symbol], maps_shndx: int,
                 data_sections: dict[str, DataSection], data_symbols: dict[str, Symbol]):
        self.meta = meta
        self.license = license
        self.functions = functions  # every STT_FUNC in an executable section, by name
        self.relocs = relocs  # target section index -> relocations
        self.section_names = section_names
        self.map_symbols = map_symbols  # .maps globals by name
        self.maps_shndx = maps_shndx
        self.data_sections = data_sections
        self.data_symbols = data_symbols  # named objects in the data sections
        self.btf: Btf | None = None
        self.btf_bytes: bytes | None = None  # fixed up, ready for BPF_BTF_LOAD
        self.btf_ext = BtfExt()

    def function_at(self, shndx: int, byte_off: int) -> Function | None:
        for f in self.functions.values():
            if f.shndx == shndx and f.offset <= byte_off < f.offset + len(f.code):
                return f
        return None


def parse_object(elf_bytes: bytes, what: str = "BPF object") -> ObjectFile:
    """Parse `elf_bytes`; any malformed input becomes one plain BtcError line."""
    if not isinstance(elf_bytes, (bytes, bytearray, memoryview)) or bytes(elf_bytes[:4]) != b"\x7fELF":
        raise BtcError(f"{what} is not an ELF file")
    data = bytes(elf_bytes)
    try:
        elf = _Elf(data, what)
        return _Reader(elf).read()
    except BtcError:
        raise
    except (struct.error, ValueError, KeyError, IndexError, UnicodeDecodeError) as e:
        raise BtcError(f"{what} is truncated or corrupt ({type(e).__name__}: {e})") from None


def parse_meta(elf_bytes: bytes, what: str = "BPF object") -> dict:
    """The `.btc.meta` dict alone (no symbols, relocations or BTF): what a cache check, the
    CLI's warnings and the run's set-up need, at a fraction of `parse_object`'s cost."""
    if not isinstance(elf_bytes, (bytes, bytearray, memoryview)) or bytes(elf_bytes[:4]) != b"\x7fELF":
        raise BtcError(f"{what} is not an ELF file")
    try:
        elf = _Elf(bytes(elf_bytes), what)
        i = elf.index(".btc.meta")
        return _decode_meta(None if i < 0 else elf.section_data(i))
    except BtcError:
        raise
    except (struct.error, ValueError, KeyError, IndexError, UnicodeDecodeError) as e:
        raise BtcError(f"{what} is truncated or corrupt ({type(e).__name__}: {e})") from None


def executable_sections(elf_bytes: bytes) -> list[tuple[str, bytes]]:
    """(name, contents) of every non-empty executable section: for checks on fresh objects."""
    elf = _Elf(bytes(elf_bytes), "BPF object")
    return [(s.name, elf.section_data(i)) for i, s in enumerate(elf.sections)
            if s.flags & _SHF_EXECINSTR and s.size]


# --- a minimal ELF64 reader (stdlib only: pyelftools costs ~0.1 s to import) -----------------
# Layouts from the System V gABI (elf.h): Elf64_Ehdr, Elf64_Shdr, Elf64_Sym, Elf64_Rel.
_EHDR = struct.Struct("<16sHHIQQQIHHHHHH")
_SHDR = struct.Struct("<IIQQQQIIQQ")
_SYM = struct.Struct("<IBBHQQ")
_REL = struct.Struct("<QQ")
_ELFCLASS64, _ELFDATA2LSB = 2, 1
_SHT_SYMTAB, _SHT_NOBITS, _SHT_REL = 2, 8, 9
_SHN_LORESERVE = 0xFF00
_STT_NAMES = {0: "STT_NOTYPE", 1: "STT_OBJECT", 2: "STT_FUNC", 3: "STT_SECTION", 4: "STT_FILE"}


_Section = namedtuple("_Section", "name type flags offset size link info entsize")


class _Elf:
    """Section headers, names and contents of a little-endian ELF64 file, bounds-checked."""

    def __init__(self, data: bytes, what: str):
        self.data = data
        if len(data) < _EHDR.size:
            raise BtcError(f"{what} is truncated or corrupt (short ELF header)")
        ident, _type, machine, _v, _e, _ph, shoff, _f, _eh, _phs, _phn, shentsize, shnum, \
            shstrndx = _EHDR.unpack_from(data)
        if ident[4] != _ELFCLASS64 or ident[5] != _ELFDATA2LSB:
            raise BtcError(f"{what} is not a BPF object (not 64-bit little-endian ELF)")
        if machine != abi.EM_BPF:
            raise BtcError(f"{what} is not a BPF object (machine {machine})")
        if shentsize != _SHDR.size or shnum == 0 or shoff + shnum * _SHDR.size > len(data):
            raise BtcError(f"{what} is truncated or corrupt (section headers out of bounds)")
        raw = [_SHDR.unpack_from(data, shoff + i * _SHDR.size) for i in range(shnum)]
        if shstrndx >= shnum:
            raise BtcError(f"{what} is truncated or corrupt (bad section-name table index)")
        names = self._bytes(raw[shstrndx][4], raw[shstrndx][5], what)
        self.sections = [
            _Section(_cstr(names, r[0]), r[1], r[2], r[4], r[5], r[6], r[7], r[9]) for r in raw]
        for s in self.sections:
            if s.type != _SHT_NOBITS:
                self._bytes(s.offset, s.size, what)  # bounds check every section once

    def _bytes(self, off: int, size: int, what: str) -> bytes:
        if off + size > len(self.data):
            raise BtcError(f"{what} is truncated or corrupt (a section lies past the end)")
        return self.data[off:off + size]

    def section_data(self, i: int) -> bytes:
        s = self.sections[i]
        return bytes(s.size) if s.type == _SHT_NOBITS else self.data[s.offset:s.offset + s.size]

    def index(self, name: str) -> int:
        for i, s in enumerate(self.sections):
            if s.name == name:
                return i
        return -1


def _decode_meta(raw: bytes | None) -> dict:
    if raw is None:
        raise BtcError("the BPF object has no .btc.meta section (not built by btc)")
    try:
        meta = json.loads(raw.rstrip(b"\0").decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise BtcError(f"the object's .btc.meta is not valid JSON ({e})") from None
    if not isinstance(meta, dict) or not isinstance(meta.get("programs"), list):
        raise BtcError("the object's .btc.meta has no `programs` list")
    if not isinstance(meta.get("maps", []), list):
        raise BtcError("the object's .btc.meta `maps` is not a list")
    return meta


def _cstr(table: bytes, off: int) -> str:
    end = table.index(b"\0", off)
    return table[off:end].decode("utf-8")


class _Reader:
    def __init__(self, elf: _Elf):
        self.elf = elf
        self.sections = elf.sections
        self.names = {i: s.name for i, s in enumerate(self.sections)}
        self.symbols = self._symbols()

    def read(self) -> ObjectFile:
        maps_shndx = self.elf.index(".maps")
        obj = ObjectFile(
            meta=self._meta(), license=self._license(), functions=self._functions(),
            relocs=self._relocs(), section_names=self.names,
            map_symbols={s.name: s for s in self.symbols
                         if s.shndx == maps_shndx and s.kind == "STT_OBJECT" and s.name},
            maps_shndx=maps_shndx, data_sections=self._data_sections(), data_symbols={})
        obj.data_symbols = {s.name: s for s in self.symbols if s.name and s.kind == "STT_OBJECT"
                            and self.names.get(s.shndx) in obj.data_sections}
        self._btf(obj)
        return obj

    def _section_data(self, name: str) -> bytes | None:
        i = self.elf.index(name)
        return None if i < 0 else self.elf.section_data(i)

    def _meta(self) -> dict:
        return _decode_meta(self._section_data(".btc.meta"))

    def _license(self) -> bytes:
        raw = self._section_data("license")
        if raw is None:
            return b"GPL"
        return raw.split(b"\0", 1)[0] or b"GPL"

    def _symbols(self) -> list[Symbol]:
        idx = next((i for i, s in enumerate(self.sections) if s.type == _SHT_SYMTAB), -1)
        if idx < 0:
            raise BtcError("the BPF object has no symbol table")
        sec = self.sections[idx]
        data, strtab = self.elf.section_data(idx), self.elf.section_data(sec.link)
        out = []
        for off in range(0, len(data) - _SYM.size + 1, _SYM.size):
            name, info, _other, shndx, value, size = _SYM.unpack_from(data, off)
            special = shndx == 0 or shndx >= _SHN_LORESERVE
            out.append(Symbol(_cstr(strtab, name), value, size, _STT_NAMES.get(info & 0xF, "STT_OTHER"),
                              -1 if special else shndx))
        return out

    def _functions(self) -> dict[str, Function]:
        funcs: dict[str, Function] = {}
        for sym in self.symbols:
            if sym.kind != "STT_FUNC" or sym.shndx < 0:
                continue
            sec = self.sections[sym.shndx]
            if not sec.flags & _SHF_EXECINSTR:
                continue
            data = self.elf.section_data(sym.shndx)
            size = sym.size or len(data) - sym.value
            code = data[sym.value:sym.value + size]
            if len(code) != size or size % abi.BPF_INSN_SIZE:
                raise BtcError(f"function {sym.name} in {sec.name} is truncated")
            funcs[sym.name] = Function(sym.name, sec.name, sym.shndx, sym.value, code)
        return funcs

    def _relocs(self) -> dict[int, list[Reloc]]:
        out: dict[int, list[Reloc]] = {}
        for i, sec in enumerate(self.sections):
            if sec.type != _SHT_REL:
                continue
            if not self.sections[sec.info].flags & _SHF_EXECINSTR:
                continue  # .rel.BTF, .rel.debug_*: nothing for the loader
            data = self.elf.section_data(i)
            rels = [_REL.unpack_from(data, off) for off in range(0, len(data) - _REL.size + 1, _REL.size)]
            out[sec.info] = [Reloc(off, self.symbols[info >> 32], info & 0xFFFFFFFF)
                             for off, info in rels]
        return out

    def _data_sections(self) -> dict[str, DataSection]:
        out = {}
        for i, sec in enumerate(self.sections):
            if not sec.name.startswith(DATA_PREFIXES) or sec.size == 0:
                continue
            out[sec.name] = DataSection(sec.name, i, self.elf.section_data(i))
        return out

    def _btf(self, obj: ObjectFile) -> None:
        raw = self._section_data(".BTF")
        if raw is None:
            return
        btf = Btf(raw)
        sizes = {s.name: s.size for s in self.sections}
        syms = {(self.names.get(s.shndx, ""), s.name): (s.value, s.size)
                for s in self.symbols if s.shndx >= 0 and s.name}
        obj.btf = btf
        obj.btf_bytes = btf.fixed_datasecs(sizes, syms)
        ext = self._section_data(".BTF.ext")
        if ext is not None:
            obj.btf_ext = parse_btf_ext(ext, btf)
