"""The output package's SymbolText for one run, built on first use: a run without stacks,
ksym or usym never reads /proc/kallsyms or imports the ELF reader."""
from __future__ import annotations

from btc.runtime.output.symbolic import SymbolText


class RunSymbols:
    """Owns the run's Symbolizer and StackReader, created on the first lookup."""

    def __init__(self, maps: dict, dialect: str):
        self.maps, self.dialect = maps, dialect
        self._symbolizer = None
        self._reader = None

    @property
    def symbolizer(self):
        if self._symbolizer is None:
            from btc.runtime.symbols.symbolizer import Symbolizer

            self._symbolizer = Symbolizer()
        return self._symbolizer

    @property
    def reader(self):
        if self._reader is None:
            from btc.runtime.symbols.stacks import StackReader

            self._reader = StackReader(self.maps, self.symbolizer, self.dialect)
        return self._reader

    def stack(self, value: int, kind: str, mode: str | None = None, limit: int = 0) -> str:
        return self.reader.text(value, kind, mode, limit)

    def ksym(self, addr: int) -> str:
        return self.symbolizer.ksym(addr)

    def usym(self, pid: int, addr: int) -> str:
        return self.symbolizer.usym(pid, addr)

    def note_process(self, pid: int) -> None:
        """Re-read a live process's mappings now, so its addresses still resolve after it
        exits (e.g. the `-c` child, whose maps print after its end)."""
        from btc.runtime.symbols.process import read_maps

        maps = read_maps(pid)
        if maps:
            self.symbolizer.user.set_mappings(pid, maps)

    def text(self) -> SymbolText:
        return SymbolText(stack=self.stack, ksym=self.ksym, usym=self.usym)
