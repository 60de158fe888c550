"""bpftrace builtins that need more than a helper call: `username` (the uid, named in user
space) and `ctx` (the program's context pointer)."""
from __future__ import annotations

from btc.ir import nodes as ir
from btc.ir.types import UINT64, UserNameType
from btc.parser import ast
from btc.probes.base import PROG_TRACEPOINT


def username(lw, e: ast.Builtin) -> ir.Expr:
    """The uid typed so that printing shows its /etc/passwd name: bpftrace resolves the uid
    when it prints, not in the kernel (bpftrace.cpp resolve_uid)."""
    uid = lw.new.BuiltinRead("uid", None, UINT64, e.span)
    return ir.Cast(expr=uid, type=UserNameType(), span=e.span)


def ctx(lw, e: ast.Builtin) -> ir.Expr:
    """The context pointer as a u64 (btc has no pointer types): compare, mask, print it.
    bpftrace refuses it in tracepoints, where `args` is the typed view of the same memory."""
    spec = lw.facts.spec if lw.facts else None
    if spec is not None and spec.prog_type == PROG_TRACEPOINT:
        lw.error("Use args instead of ctx in tracepoint", e.span)
        return ir.Const(value=0, type=UINT64, span=e.span)
    return lw.new.BuiltinRead("ctx", None, UINT64, e.span)


__all__ = ["username", "ctx"]
