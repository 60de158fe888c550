"""Integer constants as the BPF machine computes them: 64-bit two's complement, narrowed to
the node's type."""
from __future__ import annotations

from btc.ir.types import IntType, Type


def wrap(value: int, t: Type) -> int:
    """`value` reduced to the range of integer type `t` (unchanged for other types)."""
    if not isinstance(t, IntType):
        return value
    mask = (1 << t.bits) - 1
    v = value & mask
    if t.signed and v >> (t.bits - 1):
        v -= 1 << t.bits
    return v


def as64(value: int, signed: bool) -> int:
    return wrap(value, IntType(64, signed))


def binop(op: str, a: int, b: int, signed: bool) -> int:
    """`a op b` on 64-bit operands; BPF semantics for x/0 (= 0) and x%0 (= x)."""
    a, b = as64(a, signed), as64(b, signed)
    if op == "+":
        return a + b
    if op == "-":
        return a - b
    if op == "*":
        return a * b
    if op == "/":
        return 0 if b == 0 else _trunc_div(a, b)
    if op == "%":
        return a if b == 0 else a - _trunc_div(a, b) * b
    if op == "&":
        return a & b
    if op == "|":
        return a | b
    if op == "^":
        return a ^ b
    if op == "<<":
        return a << (b & 63)  # BPF masks the shift count like x86
    if op == ">>":
        return a >> (b & 63) if signed else as64(a, False) >> (b & 63)
    return int(_compare(op, a, b))


def _trunc_div(a: int, b: int) -> int:
    q = abs(a) // abs(b)
    return q if (a >= 0) == (b >= 0) else -q


def _compare(op: str, a: int, b: int) -> bool:
    return {"==": a == b, "!=": a != b, "<": a < b, "<=": a <= b, ">": a > b, ">=": a >= b}[op]
