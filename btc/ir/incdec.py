"""`x++` / `--x` used as a value (bpftrace): the update becomes statements hoisted before the
statement that holds it, and the expression reads the old (postfix) or new (prefix) value.

Hoisting is exact where the expression is evaluated once per statement, unconditionally. A
loop condition, the right side of `&&`/`||` and a ternary branch run it zero or many times,
so there it is an error; so is a probe filter (it has no statement to hoist into)."""
from __future__ import annotations

from btc.ir import nodes as ir
from btc.ir.symbols import children
from btc.ir.types import INT64
from btc.parser import ast


def lower_incdec_value(lw, e: ast.IncDec) -> ir.Expr:
    """The value of `e`, queuing its update on `lw.hoisted` (None: no statement to hoist into)."""
    hoisted = getattr(lw, "hoisted", None)
    if hoisted is None or lw.dialect != "bpftrace":
        lw.error(f"'{e.op}' can only be used as a statement here", e.span)
        return ir.Const(value=0, type=INT64, span=e.span)
    one = ast.Int(value=1, span=e.span)
    op = "+" if e.op == "++" else "-"
    # the value is kept in a temporary: a later `++` in the same statement must not change it
    tmp = ast.Var(name=f"__{'inc' if op == '+' else 'dec'}.{e.span.line}.{e.span.col}", span=e.span)
    if e.prefix:
        _extend(hoisted, lw._update(e.target, op, one, e.span))
    _extend(hoisted, lw._assign_local(tmp, e.target, e.span))
    if not e.prefix:
        _extend(hoisted, lw._update(e.target, op, one, e.span))
    return lw.expr(tmp)


def conditional_incdecs(e: ast.Expr, conditional: bool = False) -> list[ast.IncDec]:
    """The `++`/`--` values inside `e` that would run conditionally (see the module doc)."""
    if isinstance(e, ast.IncDec):
        return [e] if conditional else []
    if isinstance(e, ast.Binary) and e.op in ("&&", "||"):
        return conditional_incdecs(e.lhs, conditional) + conditional_incdecs(e.rhs, True)
    if isinstance(e, ast.Ternary):
        return (conditional_incdecs(e.cond, conditional) + conditional_incdecs(e.then, True)
                + conditional_incdecs(e.orelse, True))
    out: list[ast.IncDec] = []
    for c in children(e):
        if isinstance(c, ast.Expr):
            out.extend(conditional_incdecs(c, conditional))
    return out


def _extend(out: list, got) -> None:
    if got is None:
        return
    out.extend(got if isinstance(got, (list, tuple)) else [got])
