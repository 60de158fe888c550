"""Function symbols of one ELF file (.symtab, else .dynsym) and its PT_LOAD segments.

A file offset (what /proc/PID/maps gives for a mapped address) becomes a link-time virtual
address through the PT_LOAD segment holding it: vaddr = off - p_offset + p_vaddr. This is
the same for PIE, non-PIE executables and shared libraries; the load bias never matters.
"""
from __future__ import annotations

import os
from dataclasses import dataclass

import numpy as np

from btc.probes.debugfile import debug_file



@dataclass(frozen=True)
class Segment:
    vaddr: int
    memsz: int
    offset: int
    filesz: int


@dataclass
class ElfSymbols:
    """Sorted function symbols: starts (uint64), sizes, names."""

    path: str
    starts: np.ndarray
    sizes: np.ndarray
    names: list[str]
    segments: tuple[Segment, ...]
    by_name: dict[str, int]

    def vaddr_of_offset(self, off: int) -> int | None:
        for s in self.segments:
            if s.offset <= off < s.offset + max(s.filesz, 1):
                return off - s.offset + s.vaddr
        return None

    def offset_of_vaddr(self, vaddr: int) -> int | None:
        for s in self.segments:
            if s.vaddr <= vaddr < s.vaddr + s.memsz:
                return vaddr - s.vaddr + s.offset
        return None

    def lookup(self, vaddr: int) -> tuple[str, int] | None:
        """(symbol, offset) of the function containing `vaddr`. A symbol with size 0 (asm
        labels) covers everything up to the next symbol."""
        if not len(self.starts):
            return None
        i = int(np.searchsorted(self.starts, np.uint64(vaddr), side="right")) - 1
        if i < 0:
            return None
        off = vaddr - int(self.starts[i])
        size = int(self.sizes[i])
        if size and off >= size:
            return None
        return self.names[i], off


def file_key(path: str) -> tuple | None:
    """(dev, inode, mtime, size) of the file `path` names: the same file reached through
    another path (/proc/PID/map_files) shares the entry, a rebuilt one gets a new entry."""
    try:
        st = os.stat(path)
    except OSError:
        return None
    return (st.st_dev, st.st_ino, st.st_mtime_ns, st.st_size)


_SYM64 = np.dtype([("name", "<u4"), ("info", "u1"), ("other", "u1"), ("shndx", "<u2"),
                   ("value", "<u8"), ("size", "<u8")])
_STT_FUNC, _STT_GNU_IFUNC = 2, 10
_BIND_RANK = {1: 0, 2: 1}  # STB_GLOBAL, STB_WEAK; locals rank 2


def read_elf_symbols(path: str) -> ElfSymbols | None:
    """None when `path` is not a readable ELF file. The symbol tables are read as numpy
    records (pyelftools' per-symbol objects are ~100x slower on large binaries)."""
    from elftools.common.exceptions import ELFError
    from elftools.elf.elffile import ELFFile

    try:
        with open(path, "rb") as f:
            elf = ELFFile(f)
            if elf.elfclass != 64 or not elf.little_endian:
                return None
            segments = tuple(Segment(s["p_vaddr"], s["p_memsz"], s["p_offset"], s["p_filesz"])
                             for s in elf.iter_segments() if s["p_type"] == "PT_LOAD")
            tables = [_read_table(elf, sec) for sec in _symbol_sections(elf)]
            debug = None if elf.get_section_by_name(".symtab") else debug_file(path, elf)
    except (OSError, ELFError, ValueError):
        return None
    if debug is not None:  # a stripped file (Debian's libc): local symbols ship apart
        try:
            with open(debug, "rb") as f:
                delf = ELFFile(f)
                tables += [_read_table(delf, sec) for sec in _symbol_sections(delf)]
        except (OSError, ELFError, ValueError):
            pass  # only the local symbols are missing then
    return _build(path, segments, [t for t in tables if t is not None])


def _symbol_sections(elf) -> list:
    secs = [elf.get_section_by_name(n) for n in (".symtab", ".dynsym")]
    return [s for s in secs if s is not None and s["sh_type"] in ("SHT_SYMTAB", "SHT_DYNSYM")]


def _read_table(elf, sec) -> tuple[np.ndarray, bytes] | None:
    strtab = elf.get_section(sec["sh_link"])
    recs = np.frombuffer(sec.data(), dtype=_SYM64)
    stype = recs["info"] & 0xF
    keep = ((stype == _STT_FUNC) | (stype == _STT_GNU_IFUNC)) & (recs["value"] != 0) \
        & (recs["shndx"] != 0) & (recs["name"] != 0)
    return recs[keep], strtab.data()


def _name(strtab: bytes, off: int) -> str:
    end = strtab.find(b"\0", off)
    return strtab[off:end].decode("utf-8", "replace").split("@")[0]


def _rank(name: str, info: int) -> tuple:
    """Which of several names at one address to show: the plain public one (`getpid`, not
    `__getpid` or a local alias)."""
    return (len(name) - len(name.lstrip("_")), _BIND_RANK.get(info >> 4, 2), name)


def _build(path: str, segments: tuple, tables: list) -> ElfSymbols:
    rows: dict[int, tuple[int, str, tuple]] = {}
    by_name: dict[str, int] = {}
    for recs, strtab in tables:
        for noff, info, value, size in zip(recs["name"].tolist(), recs["info"].tolist(),
                                           recs["value"].tolist(), recs["size"].tolist()):
            name = _name(strtab, noff)
            by_name.setdefault(name, value)
            rank = _rank(name, info)
            if value not in rows or rank < rows[value][2]:
                rows[value] = (size, name, rank)
    starts = sorted(rows)
    return ElfSymbols(path, np.array(starts, dtype=np.uint64),
                      np.array([rows[a][0] for a in starts], dtype=np.uint64),
                      [rows[a][1] for a in starts], segments, by_name)
