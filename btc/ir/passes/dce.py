"""Dead-code elimination.

* Statements after `exit`, `return`, `break` or `continue` in the same block never run.
* `if` on a constant keeps only the branch taken; an `if` with two empty branches and a
  side-effect-free condition goes; `while (0)` goes.
* A pure expression statement goes.
* A store to a local that nothing reads goes (its value too, when side-effect free).
  Only bpftrace locals are `LocalSet`s; btrace's persist in maps and are never dropped.
"""
from __future__ import annotations

from btc.ir import nodes as ir
from btc.ir.walk import function_exprs, is_pure, map_functions, replace

NAME = "dce"

TERMINATORS = (ir.Exit, ir.Return, ir.Break, ir.Continue)


def run(prog: ir.Program) -> ir.Program:
    return map_functions(prog, _function)


def _function(fn: ir.Function) -> ir.Function:
    body = _block(fn.body, _Reads(fn))
    return fn if body is fn.body else replace(fn, body=body)


class _Reads:
    """The locals a function reads, found on the first question: walking every expression
    is most of this pass, and only functions that set bpftrace locals ask."""

    def __init__(self, fn: ir.Function):
        self.fn, self.names = fn, None

    def __contains__(self, name: str) -> bool:
        if self.names is None:
            self.names = {e.name for e in function_exprs(self.fn) if isinstance(e, ir.LocalGet)}
        return name in self.names


def _block(stmts: tuple[ir.Stmt, ...], read: _Reads) -> tuple[ir.Stmt, ...]:
    """The block without dead statements; `stmts` itself when nothing changed."""
    out: list[ir.Stmt] = []
    for s in stmts:
        out.extend(_stmt(s, read))
        if out and isinstance(out[-1], TERMINATORS):
            break
    same = len(out) == len(stmts) and all(a is b for a, b in zip(out, stmts))
    return stmts if same else tuple(out)


def _stmt(s: ir.Stmt, read: _Reads) -> list[ir.Stmt]:
    if isinstance(s, ir.If):
        return _if(s, read)
    if isinstance(s, ir.While):
        if isinstance(s.cond, ir.Const) and s.cond.value == 0:
            return []
        body = _block(s.body, read)
        return [s if body is s.body else replace(s, body=body)]
    if isinstance(s, ir.Unroll):
        body = _block(s.body, read)
        if not body:
            return []
        return [s if body is s.body else replace(s, body=body)]
    if isinstance(s, ir.ExprStmt):
        return [] if is_pure(s.expr) else [s]
    if isinstance(s, ir.LocalSet) and s.name not in read:
        return [] if is_pure(s.value) else [ir.ExprStmt(expr=s.value, span=s.span)]
    return [s]


def _if(s: ir.If, read: _Reads) -> list[ir.Stmt]:
    if isinstance(s.cond, ir.Const):
        taken = s.then if s.cond.value != 0 else s.orelse
        return list(_block(taken, read))
    then, orelse = _block(s.then, read), _block(s.orelse, read)
    if not then and not orelse:
        return [] if is_pure(s.cond) else [ir.ExprStmt(expr=s.cond, span=s.span)]
    if then is s.then and orelse is s.orelse:
        return [s]
    return [replace(s, then=then, orelse=orelse)]
