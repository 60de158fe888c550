"""The types analysis has settled for maps and locals, and the program-wide tables the
lowering fills (printf formats, print types, time formats, positional parameters)."""
from __future__ import annotations

from dataclasses import dataclass, field

from btc.diagnostics import BtcError, Span
from btc.ir import nodes as ir
from btc.ir.types import Type

SCALAR = "scalar"  # map_key value for a map used without keys


@dataclass
class Env:
    """Types of maps (by name with "@") and bpftrace locals (by function index and name).
    Inference fills it to a fixed point; the final lowering only reads it."""

    map_key: dict[str, Type | str] = field(default_factory=dict)  # Type or SCALAR
    map_val: dict[str, Type] = field(default_factory=dict)
    locals: dict[tuple[int, str], Type] = field(default_factory=dict)
    # Every lookup made while inferring, as (table, key, value seen): when each value is still
    # the final one after a round, nothing was typed with a stale type and inference is done.
    seen: list[tuple[str, object, object]] = field(default_factory=list)
    recording: bool = True

    def key(self, name: str):
        return self._look("map_key", name)

    def val(self, name: str):
        return self._look("map_val", name)

    def local(self, key: tuple[int, str]):
        return self._look("locals", key)

    def _look(self, table: str, key):
        value = getattr(self, table).get(key)
        if self.recording:
            self.seen.append((table, key, value))
        return value

    def converged(self) -> bool:
        tables = {"map_key": self.map_key, "map_val": self.map_val, "locals": self.locals}
        for t, k, v in self.seen:
            now = tables[t].get(k)
            if now is not v and now != v:  # identity first: types are usually shared
                return False
        return True

    def snapshot(self) -> tuple:
        return (dict(self.map_key), dict(self.map_val), dict(self.locals))


@dataclass
class Tables:
    """Program-level lists that statements index into (deduplicated)."""

    printfs: list[ir.PrintfDecl] = field(default_factory=list)
    prints: list[Type] = field(default_factory=list)
    times: list[str] = field(default_factory=list)
    params: set[tuple[int, Type]] = field(default_factory=set)
    warnings: list[BtcError] = field(default_factory=list)
    hidden: dict[str, Span] = field(default_factory=dict)  # btrace locals' hidden maps
    uses_btf: bool = False  # a constant came from the kernel's BTF (sizeof/offsetof)

    def printf(self, fmt: str, types: tuple[Type, ...], span: Span) -> int:
        for i, d in enumerate(self.printfs):
            if d.fmt == fmt and d.arg_types == types:
                return i
        self.printfs.append(ir.PrintfDecl(fmt=fmt, arg_types=types, span=span))
        return len(self.printfs) - 1

    def print_type(self, t: Type) -> int:
        if t not in self.prints:
            self.prints.append(t)
        return self.prints.index(t)

    def time(self, fmt: str) -> int:
        if fmt not in self.times:
            self.times.append(fmt)
        return self.times.index(fmt)
