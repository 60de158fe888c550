"""Kernel symbols from /proc/kallsyms: a sorted address array searched with numpy.

Addresses read as 0 when kptr_restrict hides them from this process (not root, or
kptr_restrict=2); then every lookup misses and stacks print hex addresses.
"""
from __future__ import annotations

import numpy as np

KALLSYMS = "/proc/kallsyms"


class KernelSymbols:
    """Loaded once, on the first lookup."""

    def __init__(self, path: str = KALLSYMS):
        self.path = path
        self._addrs: np.ndarray | None = None
        self._names: list[str] = []
        self._by_name: dict[str, int] | None = None

    def _load(self) -> None:
        try:
            with open(self.path, "rb") as f:
                lines = f.read().splitlines()
        except OSError:
            lines = []
        rows = [p for p in (line.split(None, 3) for line in lines) if len(p) >= 3]
        arr = np.array([int(p[0], 16) for p in rows], dtype=np.uint64)
        order = np.argsort(arr, kind="stable")
        self._addrs = arr[order]
        self._names = [rows[i][2].decode("utf-8", "replace") for i in order.tolist()]
        if len(self._addrs) and not self._addrs.any():  # kptr_restrict: all zero
            self._addrs, self._names = self._addrs[:0], []

    @property
    def addrs(self) -> np.ndarray:
        if self._addrs is None:
            self._load()
        return self._addrs

    def lookup(self, addr: int) -> tuple[str, int] | None:
        """(symbol, offset) of the closest symbol at or below `addr`."""
        res = self.lookup_many(np.array([addr], dtype=np.uint64))
        return res[0]

    def lookup_many(self, addrs: np.ndarray) -> list[tuple[str, int] | None]:
        table = self.addrs
        if not len(table):
            return [None] * len(addrs)
        addrs = np.asarray(addrs, dtype=np.uint64)
        idx = np.searchsorted(table, addrs, side="right") - 1
        out: list[tuple[str, int] | None] = []
        for a, i in zip(addrs.tolist(), idx.tolist()):
            out.append(None if i < 0 else (self._names[i], a - int(table[i])))
        return out

    def address(self, name: str) -> int | None:
        """kaddr(name): the symbol's address (the first, for duplicated local names)."""
        if self._by_name is None:
            table = self.addrs.tolist()
            by_name: dict[str, int] = {}
            for a, n in zip(table, self._names):
                by_name.setdefault(n, a)
            self._by_name = by_name
        return self._by_name.get(name)
