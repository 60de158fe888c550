"""Read a btc BPF object (ELF for EM_BPF, libbpf conventions) into plain data; no kernel calls.

What comes out: the `.btc.meta` dict, the license, every function of every executable section
(several may share a section), relocations per section, `.maps` symbols, global data sections,
and the BTF with its DATASECs fixed up from the symbol table.
"""
from __future__ import annotations

import io
import json
from dataclasses import dataclass, field

from elftools.common.exceptions import ELFError
from elftools.elf.elffile import ELFFile

from btc.diagnostics import BtcError
from btc.runtime import abi
from btc.runtime.btf import Btf, BtfExt, parse_btf_ext

DATA_PREFIXES = (".rodata", ".data", ".bss")
_SHF_EXECINSTR = 0x4


@dataclass(frozen=True)
class Symbol:
    name: str
    value: int
    size: int
    kind: str  # STT_FUNC, STT_OBJECT, STT_SECTION, ...
    shndx: int  # -1 for undefined/special sections


@dataclass(frozen=True)
class Reloc:
    offset: int  # byte offset inside the target section
    sym: Symbol
    type: int


@dataclass(frozen=True)
class Function:
    name: str
    section: str
    shndx: int
    offset: int  # byte offset inside its section
    code: bytes


@dataclass(frozen=True)
class DataSection:
    name: str
    shndx: int
    data: bytes  # zeros for .bss (NOBITS)


@dataclass
class ObjectFile:
    meta: dict
    license: bytes
    functions: dict[str, Function]  # every STT_FUNC in an executable section, by name
    relocs: dict[int, list[Reloc]]  # target section index -> relocations
    section_names: dict[int, str]
    map_symbols: dict[str, Symbol]  # .maps globals by name
    maps_shndx: int
    data_sections: dict[str, DataSection]
    data_symbols: dict[str, Symbol]  # named objects in the data sections
    btf: Btf | None = None
    btf_bytes: bytes | None = None  # fixed up, ready for BPF_BTF_LOAD
    btf_ext: BtfExt = field(default_factory=BtfExt)

    def function_at(self, shndx: int, byte_off: int) -> Function | None:
        for f in self.functions.values():
            if f.shndx == shndx and f.offset <= byte_off < f.offset + len(f.code):
                return f
        return None


def parse_object(elf_bytes: bytes, what: str = "BPF object") -> ObjectFile:
    """Parse `elf_bytes`; any malformed input becomes one plain BtcError line."""
    if not isinstance(elf_bytes, (bytes, bytearray, memoryview)) or bytes(elf_bytes[:4]) != b"\x7fELF":
        raise BtcError(f"{what} is not an ELF file")
    try:
        elf = ELFFile(io.BytesIO(bytes(elf_bytes)))
        if elf["e_machine"] not in ("EM_BPF", abi.EM_BPF):
            raise BtcError(f"{what} is not a BPF object (machine {elf['e_machine']})")
        return _Reader(elf).read()
    except BtcError:
        raise
    except (ELFError, ValueError, KeyError, IndexError, TypeError, EOFError, OSError) as e:
        raise BtcError(f"{what} is truncated or corrupt ({type(e).__name__}: {e})") from None
    except Exception as e:  # pyelftools raises assorted errors (e.g. construct's) on bad input
        raise BtcError(f"{what} is truncated or corrupt ({type(e).__name__})") from None


class _Reader:
    def __init__(self, elf: ELFFile):
        self.elf = elf
        self.sections = list(elf.iter_sections())
        self.names = {i: s.name for i, s in enumerate(self.sections)}
        self.symbols = self._symbols()

    def read(self) -> ObjectFile:
        maps_shndx = self._index(".maps")
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

    def _index(self, name: str) -> int:
        for i, s in enumerate(self.sections):
            if s.name == name:
                return i
        return -1

    def _section_data(self, name: str) -> bytes | None:
        sec = self.elf.get_section_by_name(name)
        return None if sec is None else sec.data()

    def _meta(self) -> dict:
        raw = self._section_data(".btc.meta")
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

    def _license(self) -> bytes:
        raw = self._section_data("license")
        if raw is None:
            return b"GPL"
        return raw.split(b"\0", 1)[0] or b"GPL"

    def _symbols(self) -> list[Symbol]:
        symtab = self.elf.get_section_by_name(".symtab")
        if symtab is None:
            raise BtcError("the BPF object has no symbol table")
        out = []
        for s in symtab.iter_symbols():
            shndx = s["st_shndx"]
            out.append(Symbol(s.name, s["st_value"], s["st_size"], s["st_info"]["type"],
                              shndx if isinstance(shndx, int) else -1))
        return out

    def _functions(self) -> dict[str, Function]:
        funcs: dict[str, Function] = {}
        for sym in self.symbols:
            if sym.kind != "STT_FUNC" or sym.shndx < 0:
                continue
            sec = self.sections[sym.shndx]
            if not sec["sh_flags"] & _SHF_EXECINSTR:
                continue
            data = sec.data()
            size = sym.size or len(data) - sym.value
            code = data[sym.value:sym.value + size]
            if len(code) != size or size % abi.BPF_INSN_SIZE:
                raise BtcError(f"function {sym.name} in {sec.name} is truncated")
            funcs[sym.name] = Function(sym.name, sec.name, sym.shndx, sym.value, code)
        return funcs

    def _relocs(self) -> dict[int, list[Reloc]]:
        out: dict[int, list[Reloc]] = {}
        for sec in self.sections:
            if sec["sh_type"] != "SHT_REL":
                continue
            target = sec["sh_info"]
            if not self.sections[target]["sh_flags"] & _SHF_EXECINSTR:
                continue  # .rel.BTF, .rel.debug_*: nothing for the loader
            out[target] = [Reloc(r["r_offset"], self.symbols[r["r_info_sym"]], r["r_info_type"])
                           for r in sec.iter_relocations()]
        return out

    def _data_sections(self) -> dict[str, DataSection]:
        out = {}
        for i, sec in enumerate(self.sections):
            if not sec.name.startswith(DATA_PREFIXES) or sec["sh_size"] == 0:
                continue
            data = bytes(sec["sh_size"]) if sec["sh_type"] == "SHT_NOBITS" else sec.data()
            out[sec.name] = DataSection(sec.name, i, data)
        return out

    def _btf(self, obj: ObjectFile) -> None:
        raw = self._section_data(".BTF")
        if raw is None:
            return
        btf = Btf(raw)
        sizes = {s.name: s["sh_size"] for s in self.sections}
        syms = {(self.names.get(s.shndx, ""), s.name): (s.value, s.size)
                for s in self.symbols if s.shndx >= 0 and s.name}
        obj.btf = btf
        obj.btf_bytes = btf.fixed_datasecs(sizes, syms)
        ext = self._section_data(".BTF.ext")
        if ext is not None:
            obj.btf_ext = parse_btf_ext(ext, btf)
