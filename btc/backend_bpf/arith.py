"""Integer arithmetic with BPF semantics and no LLVM undefined behaviour."""
from __future__ import annotations

from llvmlite import ir

from btc.diagnostics import BtcError


def binop(b: ir.IRBuilder, op: str, x: ir.Value, y: ir.Value, signed: bool) -> ir.Value:
    ty = x.type
    if op == "+":
        return b.add(x, y)
    if op == "-":
        return b.sub(x, y)
    if op == "*":
        return b.mul(x, y)
    if op == "&":
        return b.and_(x, y)
    if op == "|":
        return b.or_(x, y)
    if op == "^":
        return b.xor(x, y)
    if op in ("<<", ">>"):
        # shift counts >= the width are poison in LLVM: mask them as the BPF ISA does
        y = b.and_(y, ty(ty.width - 1))
        if op == "<<":
            return b.shl(x, y)
        return b.ashr(x, y) if signed else b.lshr(x, y)
    if op in ("/", "%"):
        return div_mod(b, op, x, y, signed)
    raise BtcError(f"unknown operator {op}")


def div_mod(b: ir.IRBuilder, op: str, x: ir.Value, y: ir.Value, signed: bool) -> ir.Value:
    """BPF semantics without UB: x/0 = 0, x%0 = x. cpu v3 has no signed division, so signed
    operands divide their magnitudes and fix the sign (truncating, like C)."""
    ty = x.type
    zero = b.icmp_unsigned("==", y, ty(0))
    if signed:
        xneg = b.icmp_signed("<", x, ty(0))
        yneg = b.icmp_signed("<", y, ty(0))
        x = b.select(xneg, b.neg(x), x)
        y = b.select(yneg, b.neg(y), y)
    d = b.select(zero, ty(1), y)
    if op == "/":
        r = b.udiv(x, d)
        if signed:
            r = b.select(b.xor(xneg, yneg), b.neg(r), r)
        return b.select(zero, ty(0), r)
    r = b.urem(x, d)
    if signed:
        r = b.select(xneg, b.neg(r), r)
    # x % 0 = x (the original x: urem by 1 gave 0, so restore it)
    orig = b.select(xneg, b.neg(x), x) if signed else x
    return b.select(zero, orig, r)


def floor_log2(b: ir.IRBuilder, v: ir.Value) -> ir.Value:
    """floor(log2(v)) of an unsigned i64 (0 for v = 0). Each step is `s = (v > 2^k - 1) << log2(k);
    v >>= s; m |= s`: one compare-and-set, a shift by register and an or (5 BPF instructions,
    bpftrace's shape), where selecting both v and m costs 8. Steps LLVM can prove false (a
    32-bit value's 32-bit step) fold away."""
    i64 = ir.IntType(64)
    m = i64(0)
    for lg in (5, 4, 3, 2, 1, 0):
        big = b.icmp_unsigned(">=", v, i64(1 << (1 << lg)))
        s = b.shl(b.zext(big, i64), i64(lg))
        v = b.lshr(v, s)
        m = b.or_(m, s)
    return m
