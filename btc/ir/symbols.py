"""Symbol collection: every map and local the program names, found once before typing.

For each map: the kind of its first store (a plain value or an aggregation), whether it is
keyed and with how many keys, and whether anything ever stores to it. For each rule: the
locals it assigns. Typing (btc.ir.infer) and lowering consult this table; they never walk
the AST to rediscover it. Syntax-level map errors are reported here.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from btc.diagnostics import ErrorCollector, Span
from btc.ir.builtins.aggregations import FUNCTIONS as AGG_FUNCS
from btc.parser import ast

AGG_NAMES = frozenset(f.name for f in AGG_FUNCS)


@dataclass
class MapSym:
    name: str  # with the "@"
    kind: str | None = None  # "plain" or an aggregation kind, from the first store
    kind_span: Span | None = None
    keyed: bool | None = None  # from the first use with or without keys
    arity: int = 0
    stored: bool = False  # assigned, aggregated or incremented somewhere
    first_span: Span | None = None


@dataclass
class SymbolTable:
    maps: dict[str, MapSym] = field(default_factory=dict)
    locals: dict[int, set[str]] = field(default_factory=dict)  # rule index -> assigned names

    def map(self, name: str) -> MapSym:
        return self.maps[name]


def map_name(ref: ast.MapRef) -> str:
    return "@" + ref.name


def agg_call(value: ast.Expr) -> ast.Call | None:
    return value if isinstance(value, ast.Call) and value.name in AGG_NAMES else None


def collect(prog: ast.Program, errors: ErrorCollector) -> SymbolTable:
    table = SymbolTable()
    for i, rule in enumerate(prog.rules):
        table.locals[i] = set()
        _Walker(table, errors, prog.dialect, i).walk(rule)
    return table


class _Walker:
    def __init__(self, table: SymbolTable, errors: ErrorCollector, dialect: str, rule: int):
        self.t, self.errors, self.dialect, self.rule = table, errors, dialect, rule

    def walk(self, n) -> None:
        if isinstance(n, ast.Assign):
            self._store(n.target, "plain" if agg_call(n.value) is None else n.value.name, n.span)
        elif isinstance(n, (ast.CompoundAssign,)):
            self._store(n.target, "plain", n.span)
        elif isinstance(n, ast.IncDec):
            self._store(n.target, "plain", n.span)
        elif isinstance(n, ast.Let):
            self.t.locals[self.rule].add(n.name)
        elif isinstance(n, ast.For):
            self.t.locals[self.rule].add(n.var)
        elif isinstance(n, ast.MapRef):
            self._use(n)
        for child in _children(n):
            self.walk(child)

    def _store(self, target: ast.Expr, kind: str, span: Span) -> None:
        if isinstance(target, ast.Var):
            self.t.locals[self.rule].add(target.name)
            return
        if not isinstance(target, ast.MapRef):
            return
        sym = self._sym(target)
        sym.stored = True
        if sym.kind is None:
            sym.kind, sym.kind_span = kind, span

    def _use(self, ref: ast.MapRef) -> None:
        sym = self._sym(ref)
        if ref.keys is None:
            return
        if self.dialect == "btrace" and any(isinstance(k, ast.Tuple) for k in ref.keys):
            bad = next(k for k in ref.keys if isinstance(k, ast.Tuple))
            self.errors.add("tuple cannot be used as map key", bad.span)
        if sym.keyed is None:
            sym.keyed, sym.arity = True, _arity(ref)

    def _sym(self, ref: ast.MapRef) -> MapSym:
        name = map_name(ref)
        sym = self.t.maps.get(name)
        if sym is None:
            sym = self.t.maps[name] = MapSym(name, first_span=ref.span)
        return sym


def _arity(ref: ast.MapRef) -> int:
    keys = ref.keys or ()
    if len(keys) == 1 and isinstance(keys[0], ast.Tuple):
        return len(keys[0].elems)  # bpftrace: @m[(a, b)] is @m[a, b]
    return len(keys)


def _children(n) -> list:
    """Child nodes of an AST node, in source order (generic over the dataclass fields)."""
    out = []
    for name in getattr(n, "__dataclass_fields__", {}):
        if name == "span":
            continue
        v = getattr(n, name)
        if isinstance(v, ast.Node):
            out.append(v)
        elif isinstance(v, tuple):
            out.extend(x for x in v if isinstance(x, ast.Node))
    return out


children = _children
