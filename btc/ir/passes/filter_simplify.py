"""Filter and condition simplification.

* A constant-true filter is removed. A constant-false filter empties the function's body
  (the function and its probe stay: the attach count and `Attaching N probes` banner then
  match upstream, and maps the rule names are still declared).
* In truth contexts (filters, if/while conditions, && / || operands): `!!x` -> `x`,
  `x != 0` -> `x`, `!(a < b)` -> `a >= b` (and the other comparisons), and a constant
  compared with a variable is moved to the right (`0 == x` -> `x == 0`).
"""
from __future__ import annotations

from btc.ir import nodes as ir
from btc.ir.types import IntType
from btc.ir.walk import map_functions, replace, rewrite_expr

NAME = "filter_simplify"

NEGATE = {"==": "!=", "!=": "==", "<": ">=", ">=": "<", ">": "<=", "<=": ">"}
MIRROR = {"==": "==", "!=": "!=", "<": ">", ">": "<", "<=": ">=", ">=": "<="}


def run(prog: ir.Program) -> ir.Program:
    return map_functions(prog, _function)


def _function(fn: ir.Function) -> ir.Function:
    filt = simplify_cond(fn.filter) if fn.filter is not None else None
    body = _block(fn.body)
    if isinstance(filt, ir.Const):
        if filt.value == 0:
            return replace(fn, filter=None, body=())
        filt = None
    if filt is fn.filter and body is fn.body:
        return fn
    return replace(fn, filter=filt, body=body)


def _block(stmts: tuple[ir.Stmt, ...]) -> tuple[ir.Stmt, ...]:
    new = tuple(_stmt(s) for s in stmts)
    return stmts if all(a is b for a, b in zip(new, stmts)) else new


def _stmt(s: ir.Stmt) -> ir.Stmt:
    if isinstance(s, ir.If):
        cond, then, orelse = simplify_cond(s.cond), _block(s.then), _block(s.orelse)
        if cond is s.cond and then is s.then and orelse is s.orelse:
            return s
        return replace(s, cond=cond, then=then, orelse=orelse)
    if isinstance(s, ir.While):
        cond, body = simplify_cond(s.cond), _block(s.body)
        if cond is s.cond and body is s.body:
            return s
        return replace(s, cond=cond, body=body)
    if isinstance(s, ir.Unroll):
        body = _block(s.body)
        return s if body is s.body else replace(s, body=body)
    return s


def simplify_cond(e: ir.Expr) -> ir.Expr:
    """`e` rewritten for a context that only asks "is it non-zero?"."""
    e = rewrite_expr(e, _normalize)
    return _truth(e)


def _truth(e: ir.Expr) -> ir.Expr:
    while True:
        if isinstance(e, ir.Unary) and e.op == "!" and isinstance(e.operand, ir.Unary) \
                and e.operand.op == "!" and isinstance(e.operand.operand.type, IntType):
            e = e.operand.operand  # !!x
        elif isinstance(e, ir.Binary) and e.op == "!=" and _is_zero(e.rhs) \
                and isinstance(e.lhs.type, IntType):
            e = e.lhs  # x != 0
        else:
            break
    if isinstance(e, ir.Logical):
        lhs, rhs = _truth(e.lhs), _truth(e.rhs)
        if lhs is not e.lhs or rhs is not e.rhs:
            e = replace(e, lhs=lhs, rhs=rhs)
    return e


def _normalize(e: ir.Expr) -> ir.Expr:
    if isinstance(e, ir.Unary) and e.op == "!" and isinstance(e.operand, ir.Binary) \
            and e.operand.op in NEGATE:
        inner = e.operand
        return replace(inner, op=NEGATE[inner.op], span=e.span)
    if isinstance(e, ir.Binary) and e.op in MIRROR and isinstance(e.lhs, ir.Const) \
            and not isinstance(e.rhs, ir.Const):
        return replace(e, op=MIRROR[e.op], lhs=e.rhs, rhs=e.lhs)
    return e


def _is_zero(e: ir.Expr) -> bool:
    return isinstance(e, ir.Const) and e.value == 0
