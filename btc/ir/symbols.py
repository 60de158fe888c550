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

    def walk(self, root) -> None:
        # Iterative pre-order (children pushed in reverse): the first store of a map must
        # be seen first, exactly as a recursive walk would. A value that is not a node
        # (None, a stray scalar) has no action and no plan, so it is simply dropped.
        stack = [root]
        actions, plans = _ACTIONS, _PLANS
        while stack:
            n = stack.pop()
            cls = type(n)
            action = actions.get(cls)
            if action is not None:
                action(self, n)
            plan = plans.get(cls)
            if plan is None:
                plan = _plan(cls)
            for name, many in plan:
                v = getattr(n, name)
                if v is None:
                    continue
                if many:
                    stack.extend(v[::-1])
                else:
                    stack.append(v)

    def _assign(self, n: ast.Assign) -> None:
        self._store(n.target, "plain" if agg_call(n.value) is None else n.value.name, n.span)

    def _update(self, n) -> None:
        self._store(n.target, "plain", n.span)

    def _let(self, n: ast.Let) -> None:
        self.t.locals[self.rule].add(n.name)

    def _for(self, n: ast.For) -> None:
        self.t.locals[self.rule].add(n.var)

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


_FIELDS: dict[type, tuple[str, ...]] = {}
# Field annotations (strings: the AST module uses postponed annotations) that never hold a
# node; skipping them keeps the walks short.
_SCALAR_TYPES = frozenset(["str", "int", "bool", "str | None", "int | str", "tuple[str, ...]"])


def _fields(cls: type) -> tuple[str, ...]:
    names = _FIELDS.get(cls)
    if names is None:
        names = _FIELDS[cls] = tuple(
            name for name, f in getattr(cls, "__dataclass_fields__", {}).items()
            if name not in ("span", "source") and f.type not in _SCALAR_TYPES)
    return names


_PLANS: dict[type, tuple[tuple[str, bool], ...]] = {}


def _plan(cls: type) -> tuple[tuple[str, bool], ...]:
    """The fields of `cls` that may hold nodes, last first, each with whether it holds a
    tuple of them (by annotation: `tuple[...]`); () for a class that is not a node."""
    plan = _PLANS.get(cls)
    if plan is None:
        fields = getattr(cls, "__dataclass_fields__", {})
        plan = _PLANS[cls] = tuple(
            (name, str(fields[name].type).startswith("tuple["))
            for name in reversed(_fields(cls)))
    return plan


def used_locals(root) -> set[str]:
    """Names of the `$locals` read or written anywhere under `root` (a `for` body)."""
    out, stack = set(), [root]
    while stack:
        n = stack.pop()
        if isinstance(n, ast.Var):
            out.add(n.name)
        stack.extend(children(n))
    return out


def children(n) -> list:
    """Child nodes of an AST node, in source order (generic over the dataclass fields)."""
    out = []
    for name in _fields(type(n)):
        v = getattr(n, name)
        if isinstance(v, ast.Node):
            out.append(v)
        elif isinstance(v, tuple):
            out.extend(x for x in v if isinstance(x, ast.Node))
    return out


_ACTIONS = {
    ast.Assign: _Walker._assign, ast.CompoundAssign: _Walker._update, ast.IncDec: _Walker._update,
    ast.Let: _Walker._let, ast.For: _Walker._for, ast.MapRef: _Walker._use,
}
