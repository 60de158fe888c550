"""Aggregation values: bucket numbers for hist/lhist (docs/design.md §3, per dialect) and the
in-place update / per-CPU combination rules of count, sum, min, max, avg, stats."""
from __future__ import annotations

from llvmlite import ir

from btc.backend_bpf import arith
from btc.ir import types as T

I1, I64 = ir.IntType(1), ir.IntType(64)


def bucket(b: ir.IRBuilder, dialect: str, agg: T.AggType, v: ir.Value) -> tuple[ir.Value, ir.Value | None]:
    """(bucket number, keep flag or None). `v` is the value as i64."""
    if agg.kind == "hist":
        if dialect == "bpftrace":
            return _log2_index(b, v, agg.bits, agg.elem.signed), None
        return _pow2_key(b, v, agg.elem.signed), None
    lo, hi, step = agg.lhist
    lt = b.icmp_signed if agg.elem.signed else b.icmp_unsigned
    below, above = lt("<", v, I64(lo)), lt(">", v, I64(hi))
    if dialect == "bpftrace":
        inside = b.add(b.udiv(b.sub(v, I64(lo)), I64(step)), I64(1))
        idx = b.select(above, I64(1 + (hi - lo) // step), inside)
        return b.select(below, I64(0), idx), None
    key = b.mul(b.add(b.udiv(v, I64(step)), I64(1)), I64(step))
    keep = b.not_(b.or_(below, above))
    return key, keep


def _log2_index(b: ir.IRBuilder, v: ir.Value, k: int, signed: bool) -> ir.Value:
    """bpftrace's log2(v, k) (output-formats.md §3.1)."""
    m = arith.floor_log2(b, v)
    sh = b.select(b.icmp_unsigned(">=", m, I64(k)), b.sub(m, I64(k)), I64(0))
    hi = b.shl(b.add(b.sub(m, I64(k)), I64(1)), I64(k))
    lo = b.and_(b.lshr(v, sh), I64((1 << k) - 1))
    big = b.add(b.add(hi, lo), I64(1))
    small = b.icmp_unsigned("<", v, I64(1 << k))
    idx = b.select(small, b.add(v, I64(1)), big)
    if signed:
        idx = b.select(b.icmp_signed("<", v, I64(0)), I64(0), idx)
    return idx


def _pow2_key(b: ir.IRBuilder, v: ir.Value, signed: bool) -> ir.Value:
    """btrace: the smallest power of two >= v (0 -> 0, 1 -> 1, negatives -> 0)."""
    m = arith.floor_log2(b, b.sub(v, I64(1)))
    sh = b.select(b.icmp_unsigned(">", m, I64(62)), I64(63), b.add(m, I64(1)))
    key = b.select(b.icmp_unsigned("<=", v, I64(1)), v, b.shl(I64(1), sh))
    if signed:
        key = b.select(b.icmp_signed("<", v, I64(0)), I64(0), key)
    return key


def _field(b: ir.IRBuilder, p: ir.Value, i: int) -> ir.Value:
    return p if i == 0 else b.gep(p, [I64(8 * i)], inbounds=True, source_etype=ir.IntType(8))


def _ld(b: ir.IRBuilder, p: ir.Value, i: int) -> ir.Value:
    return b.load(_field(b, p, i), typ=I64, align=8)


def _st(b: ir.IRBuilder, v: ir.Value, p: ir.Value, i: int) -> None:
    b.store(v, _field(b, p, i), align=8)


def _better(b: ir.IRBuilder, agg: T.AggType, x: ir.Value, cur: ir.Value) -> ir.Value:
    cmp = b.icmp_signed if agg.elem.signed else b.icmp_unsigned
    return cmp("<" if agg.kind == "min" else ">", x, cur)


def update_value(b: ir.IRBuilder, dialect: str, agg: T.AggType, p: ir.Value, v: ir.Value | None) -> None:
    """Apply one event to this CPU's value slot at `p` (plain stores: the map is per-CPU)."""
    kind = agg.kind
    if kind in ("count", "hist", "lhist"):
        _st(b, b.add(_ld(b, p, 0), I64(1)), p, 0)
    elif kind == "sum":
        _st(b, b.add(_ld(b, p, 0), v), p, 0)
    elif kind in ("avg", "stats"):
        _st(b, b.add(_ld(b, p, 0), v), p, 0)
        _st(b, b.add(_ld(b, p, 1), I64(1)), p, 1)
    elif kind in ("min", "max"):
        cur = _ld(b, p, 0)
        take = _better(b, agg, v, cur)
        if dialect == "bpftrace":  # the first value wins; btrace starts from 0
            unset = b.icmp_unsigned("==", _ld(b, p, 1), I64(0))
            take = b.or_(take, unset)
        _st(b, b.select(take, v, cur), p, 0)
        _st(b, I64(1), p, 1)
    else:
        raise ValueError(f"unknown aggregation {kind}")


def combine_cpu(b: ir.IRBuilder, dialect: str, agg: T.AggType, acc: ir.Value, p: ir.Value) -> None:
    """Fold one CPU's slot at `p` into the accumulator {value/total, isset/count} at `acc`."""
    kind = agg.kind
    if kind in ("count", "sum", "hist", "lhist"):
        _st(b, b.add(_ld(b, acc, 0), _ld(b, p, 0)), acc, 0)
    elif kind in ("avg", "stats"):
        _st(b, b.add(_ld(b, acc, 0), _ld(b, p, 0)), acc, 0)
        _st(b, b.add(_ld(b, acc, 1), _ld(b, p, 1)), acc, 1)
    else:
        x, cur = _ld(b, p, 0), _ld(b, acc, 0)
        acc_unset = b.icmp_unsigned("==", _ld(b, acc, 1), I64(0))
        take = b.or_(acc_unset, _better(b, agg, x, cur))
        if dialect == "bpftrace":
            take = b.and_(take, b.icmp_unsigned("!=", _ld(b, p, 1), I64(0)))
        _st(b, b.select(take, x, cur), acc, 0)
        _st(b, b.select(take, I64(1), _ld(b, acc, 1)), acc, 1)


def read_combined(b: ir.IRBuilder, agg: T.AggType, acc: ir.Value) -> ir.Value:
    if agg.kind in ("avg", "stats"):
        return arith.div_mod(b, "/", _ld(b, acc, 0), _ld(b, acc, 1), agg.elem.signed)
    return _ld(b, acc, 0)
