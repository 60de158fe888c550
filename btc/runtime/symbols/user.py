"""User-space symbols: usym(pid, addr) through /proc/PID/maps and the mapped ELF files,
uaddr(path, name) from one file. ELF tables are cached per file identity (dev, inode,
mtime, size); a process's mappings are read once (the first time one of its addresses is
looked up), so a process that exited before that gets hex addresses."""
from __future__ import annotations

from btc.runtime.symbols.elf import ElfSymbols, file_key, read_elf_symbols
from btc.runtime.symbols.process import Mapping, find_mapping, object_path, read_maps


class UserSymbols:
    def __init__(self) -> None:
        self._files: dict[tuple, ElfSymbols | None] = {}
        self._maps: dict[int, list[Mapping] | None] = {}

    def elf(self, path: str) -> ElfSymbols | None:
        key = file_key(path)
        if key is None:
            return None
        if key not in self._files:
            self._files[key] = read_elf_symbols(path)
        return self._files[key]

    def mappings(self, pid: int) -> list[Mapping] | None:
        if pid not in self._maps:
            self._maps[pid] = read_maps(pid)
        return self._maps[pid]

    def set_mappings(self, pid: int, maps: list[Mapping]) -> None:
        """Use `maps` for `pid` (a snapshot taken while it ran)."""
        self._maps[pid] = maps

    def lookup(self, pid: int, addr: int) -> tuple[str, int, str] | None:
        """(symbol, offset, file path) of `addr` in process `pid`, or None."""
        maps = self.mappings(pid)
        m = find_mapping(maps, addr) if maps else None
        if m is None and maps is not None:  # a library loaded after we read the maps
            fresh = read_maps(pid)
            if fresh:
                self._maps[pid] = maps = fresh
                m = find_mapping(maps, addr)
        if m is None:
            return None
        elf = self._elf_for(pid, m)
        if elf is None:
            return None
        vaddr = elf.vaddr_of_offset(addr - m.start + m.pgoff)
        hit = elf.lookup(vaddr) if vaddr is not None else None
        return (hit[0], hit[1], m.path) if hit else None

    def _elf_for(self, pid: int, m: Mapping) -> ElfSymbols | None:
        key = file_key(m.path)
        if key is not None and key[1] == m.inode:
            return self.elf(m.path)
        return self.elf(object_path(pid, m))  # another mount namespace, or replaced file

    def address(self, path: str, name: str) -> int | None:
        """uaddr: the symbol's link-time address in `path` (add the load bias for PIE)."""
        elf = self.elf(path)
        return None if elf is None else elf.by_name.get(name)
