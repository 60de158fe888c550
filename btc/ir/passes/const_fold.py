"""Constant folding: integer arithmetic, comparisons, logic, casts and string equality on
constants, with each op's signedness, 64-bit wraparound and BPF's x/0 = 0, x%0 = x.
Side effects are kept: an operand that may insert a map key (btrace reads) is never dropped."""
from __future__ import annotations

from btc.ir import nodes as ir
from btc.ir.consts import binop, wrap
from btc.ir.types import IntType
from btc.ir.walk import is_pure, map_functions, replace, rewrite_expr, rewrite_stmt_exprs

NAME = "const_fold"

BOOLEAN_NODES = (ir.Logical, ir.StrCmp, ir.MapHasKey)


def run(prog: ir.Program) -> ir.Program:
    return map_functions(prog, _function)


def _function(fn: ir.Function) -> ir.Function:
    filt = rewrite_expr(fn.filter, fold) if fn.filter is not None else None
    body = tuple(rewrite_stmt_exprs(s, fold) for s in fn.body)
    if filt is fn.filter and all(a is b for a, b in zip(body, fn.body)):
        return fn
    return replace(fn, filter=filt, body=body)


def fold(e: ir.Expr) -> ir.Expr:
    """Fold one node whose children are already folded."""
    handler = _HANDLERS.get(type(e))
    return handler(e) if handler else e


def _const(value: int, e: ir.Expr) -> ir.Const:
    return ir.Const(value=wrap(value, e.type), type=e.type, span=e.span)


def _binary(e: ir.Binary) -> ir.Expr:
    if isinstance(e.lhs, ir.Const) and isinstance(e.rhs, ir.Const):
        return _const(binop(e.op, e.lhs.value, e.rhs.value, e.signed), e)
    return e


def _logical(e: ir.Logical) -> ir.Expr:
    lhs, rhs = e.lhs, e.rhs
    if isinstance(lhs, ir.Const) and isinstance(rhs, ir.Const):
        a, b = lhs.value != 0, rhs.value != 0
        return _const(int(a and b) if e.op == "&&" else int(a or b), e)
    if not isinstance(lhs, ir.Const) or not (e.short_circuit or is_pure(rhs)):
        return e
    decided = (lhs.value == 0) if e.op == "&&" else (lhs.value != 0)
    if decided:  # 0 && x, 1 || x
        return _const(0 if e.op == "&&" else 1, e)
    return as_bool(rhs, e)  # 1 && x, 0 || x


def as_bool(x: ir.Expr, like: ir.Expr) -> ir.Expr:
    """`x` as a 0/1 value of the type of `like` (the node it replaces)."""
    if is_boolean(x) and x.type == like.type:
        return x
    zero = ir.Const(value=0, type=x.type, span=x.span)
    return ir.Binary(op="!=", lhs=x, rhs=zero, signed=False, type=like.type, span=like.span)


def is_boolean(x: ir.Expr) -> bool:
    if isinstance(x, BOOLEAN_NODES):
        return True
    if isinstance(x, ir.Binary) and x.op in ("==", "!=", "<", "<=", ">", ">="):
        return True
    if isinstance(x, ir.Unary) and x.op == "!":
        return True
    return isinstance(x, ir.Const) and x.value in (0, 1)


def _unary(e: ir.Unary) -> ir.Expr:
    x = e.operand
    if not isinstance(x, ir.Const):
        return e
    if e.op == "!":
        return _const(int(x.value == 0), e)
    if e.op == "-":
        return _const(-x.value, e)
    return _const(~x.value, e)


def _cast(e: ir.Cast) -> ir.Expr:
    x = e.expr
    if isinstance(x, ir.Const) and isinstance(e.type, IntType):
        return _const(x.value, e)
    if x.type == e.type:
        return x
    return e


def _ternary(e: ir.Ternary) -> ir.Expr:
    if isinstance(e.cond, ir.Const):
        return e.then if e.cond.value != 0 else e.orelse
    return e


def _strcmp(e: ir.StrCmp) -> ir.Expr:
    if isinstance(e.lhs, ir.StrConst) and isinstance(e.rhs, ir.StrConst):
        a, b = e.lhs.value, e.rhs.value
        if e.n is not None:
            a, b = a[: e.n], b[: e.n]
        equal = a == b
        return _const(int(equal if e.op == "==" else not equal), e)
    return e


def _tuple_get(e: ir.TupleGet) -> ir.Expr:
    if isinstance(e.expr, ir.TupleNew) and all(is_pure(x) for x in e.expr.elems):
        return e.expr.elems[e.index]
    return e


_HANDLERS = {ir.Binary: _binary, ir.Logical: _logical, ir.Unary: _unary, ir.Cast: _cast,
             ir.Ternary: _ternary, ir.StrCmp: _strcmp, ir.TupleGet: _tuple_get}
