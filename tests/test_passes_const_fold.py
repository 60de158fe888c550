"""Constant folding: signedness, 64-bit wraparound, BPF division by zero, side effects."""
import pytest

from btc.ir.passes import const_fold
from btc.ir.passes.const_fold import fold
from btc.ir.types import BOOL, INT64, UINT64, IntType
from btc.ir.verify import verify_program
from btc.ir.walk import rewrite_expr
from ir_util import b, c, ir, pid, program, scalar_map


def folded(e):
    return rewrite_expr(e, fold)


@pytest.mark.parametrize("op,lhs,rhs,signed,t,want", [
    ("+", 2, 3, True, INT64, 5),
    ("-", 0, 1, False, UINT64, 2**64 - 1),
    ("+", 2**63 - 1, 1, True, INT64, -2**63),          # signed wraparound
    ("*", 2**32, 2**32, False, UINT64, 0),
    ("/", -7, 2, True, INT64, -3),                      # C truncation, not floor
    ("%", -7, 2, True, INT64, -1),
    ("/", -7, 2, False, UINT64, (2**64 - 7) // 2),      # bpftrace: unsigned division
    ("/", 5, 0, True, INT64, 0),                        # BPF: x / 0 = 0
    ("%", 5, 0, False, UINT64, 5),                      # BPF: x % 0 = x
    ("/", -2**63, -1, True, INT64, -2**63),
    (">>", -8, 1, True, INT64, -4),
    (">>", -8, 1, False, UINT64, (2**64 - 8) >> 1),
    ("<<", 1, 65, False, UINT64, 2),                    # count masked to 6 bits
    ("<", -1, 1, True, BOOL, 1),
    ("<", -1, 1, False, BOOL, 0),                       # -1 is the largest u64
    ("==", 3, 3, True, BOOL, 1),
    ("&", 6, 3, True, INT64, 2),
])
def test_binary(op, lhs, rhs, signed, t, want):
    got = folded(b(op, c(lhs, INT64), c(rhs, INT64), signed, t))
    assert isinstance(got, ir.Const) and got.value == want and got.type == t


def test_narrow_result_type_wraps():
    u8 = IntType(8, False)
    got = folded(ir.Cast(expr=c(300), type=u8))
    assert got == ir.Const(value=44, type=u8)
    got = folded(ir.Cast(expr=c(255, INT64), type=IntType(8, True)))
    assert got.value == -1


def test_unary_and_nested():
    e = ir.Unary(op="-", operand=b("*", c(2), c(3)), type=INT64)
    assert folded(e) == c(-6)
    assert folded(ir.Unary(op="!", operand=c(0), type=BOOL)) == c(1, BOOL)
    assert folded(ir.Unary(op="~", operand=c(0, UINT64), type=UINT64)) == c(2**64 - 1, UINT64)


def test_non_constant_operands_stay():
    e = b("+", pid(), c(1))
    assert folded(e) is e


def test_logical_short_circuit():
    x = pid()
    and0 = ir.Logical(op="&&", lhs=c(0), rhs=x, type=BOOL)
    or1 = ir.Logical(op="||", lhs=c(1), rhs=x, type=BOOL)
    and1 = ir.Logical(op="&&", lhs=c(1), rhs=x, type=BOOL)
    assert folded(and0) == c(0, BOOL)
    assert folded(or1) == c(1, BOOL)
    assert folded(and1) == b("!=", x, ir.Const(value=0, type=x.type), signed=False, t=BOOL)


def test_btrace_logical_keeps_side_effects():
    read = ir.MapGet(map="@m", key=None, insert_missing=True, type=INT64)
    e = ir.Logical(op="&&", lhs=c(0), rhs=read, type=BOOL, short_circuit=False)
    assert folded(e) is e  # the read still inserts the key
    pure = ir.Logical(op="&&", lhs=c(0), rhs=pid(), type=BOOL, short_circuit=False)
    assert folded(pure) == c(0, BOOL)


def test_strcmp_and_ternary_and_tuple():
    s = lambda v: ir.StrConst(value=v, type=ir.StrType(8))
    assert folded(ir.StrCmp(op="==", lhs=s(b"ab"), rhs=s(b"ab"), type=BOOL)).value == 1
    assert folded(ir.StrCmp(op="!=", lhs=s(b"abc"), rhs=s(b"abd"), n=2, type=BOOL)).value == 0
    t = ir.Ternary(cond=b("<", c(1), c(2)), then=c(10), orelse=c(20), type=INT64)
    assert folded(t) == c(10)
    tup = ir.TupleNew(elems=(c(1), pid()), type=ir.TupleType((INT64, pid().type)))
    assert folded(ir.TupleGet(expr=tup, index=1, type=pid().type)) == pid()


def test_run_does_not_mutate_input_and_verifies():
    body = (ir.MapSet(map="@x", key=None, value=b("+", c(1), c(2))),)
    prog = program(body, maps=[scalar_map()])
    before = repr(prog)
    out = const_fold.run(prog)
    assert repr(prog) == before
    assert out.functions[0].body[0].value == c(3)
    verify_program(out)


def test_unchanged_program_is_returned_as_is():
    prog = program((ir.MapSet(map="@x", key=None, value=c(1)),), maps=[scalar_map()])
    assert const_fold.run(prog) is prog


# ---------------------------------------------------------------- property: agree with numpy

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

NP_OPS = {"+": np.add, "-": np.subtract, "*": np.multiply, "&": np.bitwise_and,
          "|": np.bitwise_or, "^": np.bitwise_xor}


@settings(max_examples=300, deadline=None)
@given(op=st.sampled_from(sorted(NP_OPS)), a=st.integers(-2**63, 2**63 - 1),
       b_=st.integers(-2**63, 2**63 - 1), signed=st.booleans())
def test_wraparound_matches_numpy(op, a, b_, signed):
    t = INT64 if signed else UINT64
    dt = np.int64 if signed else np.uint64
    av, bv = (np.array([x], dtype=np.int64).astype(dt) for x in (a, b_))
    with np.errstate(over="ignore"):
        want = int(NP_OPS[op](av, bv)[0])
    got = folded(b(op, c(a, INT64), c(b_, INT64), signed, t))
    assert got.value == want


@settings(max_examples=200, deadline=None)
@given(a=st.integers(-2**63, 2**63 - 1), b_=st.integers(-2**63, 2**63 - 1))
def test_signed_division_identity(a, b_):
    q = folded(b("/", c(a), c(b_), True, INT64)).value
    r = folded(b("%", c(a), c(b_), True, INT64)).value
    if b_ == 0:
        assert (q, r) == (0, a)
    else:
        assert ((q * b_ + r) - a) % 2**64 == 0  # a == q*b + r modulo 2^64
        assert abs(r) < abs(b_) and (r == 0 or (r < 0) == (a < 0))
