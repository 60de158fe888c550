"""Generic rebuilding walks over the IR, for passes: children first, new nodes only when
something changed (so unchanged subtrees are shared, never copied or mutated)."""
from __future__ import annotations

import dataclasses
from typing import Callable

from btc.ir import nodes as ir
from btc.parser.construct import replace  # dataclasses.replace for slotted nodes, faster

ExprFn = Callable[[ir.Expr], ir.Expr]
_FIELDS: dict[type, tuple[str, ...]] = {}
# Field annotations (strings: nodes.py uses postponed annotations) that never hold an
# expression or statement; the walks skip them.
_SCALAR_TYPES = frozenset(["str", "int", "bool", "bytes", "int | None", "str | None"])


def _names(cls: type) -> tuple[str, ...]:
    got = _FIELDS.get(cls)
    if got is None:
        got = _FIELDS[cls] = tuple(f.name for f in dataclasses.fields(cls)
                                   if f.name not in ("span", "type")
                                   and f.type not in _SCALAR_TYPES)
    return got


def rewrite_expr(e: ir.Expr, fn: ExprFn) -> ir.Expr:
    """Apply `fn` bottom-up to every expression under and including `e`."""
    changes = None
    names = _FIELDS.get(type(e))
    if names is None:
        names = _names(type(e))
    fields = _FIELDS
    for name in names:
        v = getattr(e, name)
        if isinstance(v, ir.Expr):
            # A leaf (no expression fields: most nodes) needs only `fn`, not another frame.
            nv = fn(v) if fields.get(type(v)) == () else rewrite_expr(v, fn)
            if nv is not v:
                if changes is None:
                    changes = {}
                changes[name] = nv
        elif type(v) is tuple and v and isinstance(v[0], ir.Expr):
            nv = tuple([rewrite_expr(x, fn) for x in v])
            if any(a is not b for a, b in zip(nv, v)):
                if changes is None:
                    changes = {}
                changes[name] = nv
    if changes:
        e = replace(e, **changes)
    return fn(e)


def rewrite_stmt_exprs(s: ir.Stmt, fn: ExprFn) -> ir.Stmt:
    """Apply `fn` to every expression of `s`, recursing into nested bodies."""
    changes = {}
    for name in _names(type(s)):
        v = getattr(s, name)
        if isinstance(v, ir.Expr):
            nv = rewrite_expr(v, fn)
            if nv is not v:
                changes[name] = nv
        elif isinstance(v, tuple) and v:
            if isinstance(v[0], ir.Stmt):
                nv = tuple(rewrite_stmt_exprs(x, fn) for x in v)
            elif isinstance(v[0], ir.Expr):
                nv = tuple(rewrite_expr(x, fn) for x in v)
            else:
                continue
            if any(a is not b for a, b in zip(nv, v)):
                changes[name] = nv
    return replace(s, **changes) if changes else s


def map_functions(prog: ir.Program, fn: Callable[[ir.Function], ir.Function]) -> ir.Program:
    new = tuple(fn(f) for f in prog.functions)
    if all(a is b for a, b in zip(new, prog.functions)):
        return prog
    return replace(prog, functions=new)


def iter_exprs(e: ir.Expr):
    """Every expression under and including `e` (pre-order)."""
    yield e
    for name in _names(type(e)):
        v = getattr(e, name)
        if isinstance(v, ir.Expr):
            yield from iter_exprs(v)
        elif isinstance(v, tuple):
            for x in v:
                if isinstance(x, ir.Expr):
                    yield from iter_exprs(x)


def iter_stmts(stmts):
    """Every statement in a body, nested ones included (pre-order)."""
    for s in stmts:
        yield s
        for name in _names(type(s)):
            v = getattr(s, name)
            if isinstance(v, tuple) and v and isinstance(v[0], ir.Stmt):
                yield from iter_stmts(v)


def stmt_exprs(s: ir.Stmt):
    """The expressions directly held by one statement (not those of nested statements)."""
    for name in _names(type(s)):
        v = getattr(s, name)
        if isinstance(v, ir.Expr):
            yield v
        elif isinstance(v, tuple):
            for x in v:
                if isinstance(x, ir.Expr):
                    yield x


def function_exprs(fn: ir.Function):
    if fn.filter is not None:
        yield from iter_exprs(fn.filter)
    for s in iter_stmts(fn.body):
        for e in stmt_exprs(s):
            yield from iter_exprs(e)


def is_pure(e: ir.Expr) -> bool:
    """No side effect: dropping or duplicating the expression changes nothing observable."""
    for x in iter_exprs(e):
        if isinstance(x, ir.MapGet) and x.insert_missing:
            return False
        if isinstance(x, ir.Call):
            return False
    return True


def child_nodes(n) -> list:
    """The IR nodes directly under `n`, in field order (read-only walks stack them)."""
    out = []
    for name in getattr(n, "__dataclass_fields__", {}):
        if name == "span":
            continue
        v = getattr(n, name)
        if isinstance(v, ir.Node):
            out.append(v)
        elif isinstance(v, tuple):
            out.extend(x for x in v if isinstance(x, ir.Node))
    return out
