"""Aggregation functions: count, sum, min, max, avg, stats, hist, lhist.

A hook returns `(AggType, value_expr | None)`; the lowerer wraps it in `ir.MapAgg`. Argument
checks use each dialect's own messages (bt-language.md §8)."""
from __future__ import annotations

from btc.ir import nodes as ir
from btc.ir.builtins.base import BOTH, BPFTRACE, FuncDesc
from btc.ir.types import INT64, UINT64, AggType, IntType
from btc.parser import ast

LHIST_MAX_BUCKETS = 1000


def _elem(lw, value: ir.Expr | None, unsigned_default: bool = False) -> IntType:
    if lw.dialect == "btrace":
        return INT64  # btrace values are C longs
    if value is None:
        return UINT64 if unsigned_default else INT64
    t = value.type
    return IntType(64, t.signed) if isinstance(t, IntType) else INT64


def _count(lw, call: ast.Call):
    return AggType("count", _elem(lw, None, unsigned_default=True)), None


def _simple(kind: str):
    def lower(lw, call: ast.Call):
        value = lw.int_expr(call.args[0], kind)
        from_zero = kind in ("min", "max") and lw.dialect == "btrace"
        return AggType(kind, _elem(lw, value), from_zero=from_zero), value

    return lower


def _hist(lw, call: ast.Call):
    value = lw.int_expr(call.args[0], "hist")
    bits = 0
    if len(call.args) > 1:
        if lw.dialect == "btrace":
            lw.error("too many arguments", call.args[1].span)
        else:
            got = lw.const_arg(call.args[1], "hist", "bits")
            if got is not None and not 0 <= got <= 5:
                lw.error(f"hist: bits {got} must be 0..5", call.args[1].span)
            elif got is not None:
                bits = got
    return AggType("hist", _elem(lw, value), bits=bits), value


def _lhist(lw, call: ast.Call):
    if lw.dialect == "btrace":
        params = _lhist_btrace(lw, call)
    else:
        params = _lhist_bpftrace(lw, call)
    value = lw.int_expr(call.args[0], "lhist") if call.args else None
    return AggType("lhist", _elem(lw, value), lhist=params or (0, 1, 1)), value


def _lhist_btrace(lw, call: ast.Call) -> tuple[int, int, int] | None:
    n = len(call.args)
    if n < 4:
        lw.error(f"{4 - n} missing arguments", call.span)
        return None
    if n > 4:
        lw.error("too many arguments", call.args[4].span)
        return None
    nums = []
    for a in call.args[1:]:
        if not isinstance(a, ast.Int):
            lw.error("type invalid", a.span)
            return None
        nums.append(a.value)
    lo, hi, step = nums
    if lo < 0:
        lw.error("negative minimum", call.args[1].span)
        return None
    if hi < lo:
        lw.error("maximum smaller than minimum (max < min)", call.args[2].span)
        return None
    if step < 1:
        lw.error("type invalid", call.args[3].span)  # upstream would divide by zero
        return None
    return lo, hi, step


def _lhist_bpftrace(lw, call: ast.Call) -> tuple[int, int, int] | None:
    if len(call.args) != 4:
        lw.error(f"lhist() requires 4 arguments ({len(call.args)} provided)", call.span)
        return None
    nums = [lw.const_arg(a, "lhist", what) for a, what in zip(call.args[1:], ("min", "max", "step"))]
    if any(v is None for v in nums):
        return None
    lo, hi, step = nums
    if step < 1:
        lw.error(f"lhist() step must be >= 1 ({step} provided)", call.args[3].span)
        return None
    if lo < 0:
        lw.error(f"lhist() min must be non-negative (provided min {lo})", call.args[1].span)
        return None
    if lo > hi:
        lw.error(f"lhist() min must be less than max (provided min {lo} and max {hi})",
                 call.args[1].span.join(call.args[2].span))
        return None
    if hi - lo < step:
        lw.error(f"lhist() step is too large for the given range (provided step {step} "
                 f"for range {hi - lo})", call.args[3].span)
        return None
    buckets = (hi - lo) // step
    if buckets > LHIST_MAX_BUCKETS:
        lw.error(f"lhist() too many buckets, must be <= {LHIST_MAX_BUCKETS} (would need {buckets})",
                 call.span)
        return None
    return lo, hi, step


FUNCTIONS: tuple[FuncDesc, ...] = (
    FuncDesc("count", "agg", BOTH, 0, 0, _count),
    FuncDesc("sum", "agg", BOTH, 1, 1, _simple("sum")),
    FuncDesc("min", "agg", BOTH, 1, 1, _simple("min")),
    FuncDesc("max", "agg", BOTH, 1, 1, _simple("max")),
    FuncDesc("avg", "agg", BPFTRACE, 1, 1, _simple("avg")),
    FuncDesc("stats", "agg", BPFTRACE, 1, 1, _simple("stats")),
    FuncDesc("hist", "agg", BOTH, 1, 2, _hist),
    FuncDesc("lhist", "agg", BOTH, 1, 5, _lhist),
)
