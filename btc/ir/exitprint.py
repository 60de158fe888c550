"""Which maps print after END, and in what order (output-formats.md §2.5, conflict #6).

btrace: walk the rules in source order and each rule's top-level statements; a map whose entry
(`@m[k]`) or histogram (`@h = hist(...)`) appears directly as a statement's argument prints,
once, in that order. Scalars never print. btc extension: an unkeyed count/sum/min/max (which
btrace rejects as a syntax error) prints like a histogram would.
bpftrace: every user map, scalars included, in byte order of the name.
"""
from __future__ import annotations

from btc.ir.symbols import AGG_NAMES, SymbolTable, map_name
from btc.parser import ast

PRINTING_CALLS = ("printf", "print", "delete")


def exit_order(prog: ast.Program, symbols: SymbolTable) -> list[str]:
    if prog.dialect == "bpftrace":
        return sorted(name for name, sym in symbols.maps.items() if sym.stored)
    order: list[str] = []
    for rule in prog.rules:
        for stmt in rule.body.stmts:
            for name in _printed_by(stmt):
                if name not in order and name in symbols.maps:
                    order.append(name)
    return order


def _printed_by(stmt: ast.Stmt) -> list[str]:
    if isinstance(stmt, ast.Assign):
        out = []
        t, v = stmt.target, stmt.value
        if isinstance(t, ast.MapRef) and (t.keys is not None or _is_agg(v)):
            out.append(map_name(t))
        if isinstance(v, ast.MapRef) and v.keys is not None:
            out.append(map_name(v))
        return out
    if isinstance(stmt, ast.ExprStmt) and isinstance(stmt.expr, ast.Call) \
            and stmt.expr.name in PRINTING_CALLS:
        return [map_name(a) for a in stmt.expr.args if isinstance(a, ast.MapRef) and a.keys is not None]
    return []


def _is_agg(v: ast.Expr) -> bool:
    return isinstance(v, ast.Call) and v.name in AGG_NAMES
