"""Filter simplification."""
from btc.ir.passes import filter_simplify
from btc.ir.types import BOOL, INT64
from ir_util import b, c, ir, pid, program, scalar_map


def fn_after(filt, body=()):
    return filter_simplify.run(program(body, filt=filt, maps=[scalar_map()])).functions[0]


STORE = ir.MapSet(map="@x", key=None, value=c(1))


def test_constant_true_filter_is_removed():
    fn = fn_after(c(7), [STORE])
    assert fn.filter is None and fn.body == (STORE,)


def test_constant_false_filter_empties_the_body_but_keeps_the_function():
    fn = fn_after(c(0), [STORE])
    assert fn.filter is None and fn.body == ()
    assert fn.name == "p0_BEGIN"


def test_double_negation():
    e = ir.Unary(op="!", operand=ir.Unary(op="!", operand=pid(), type=BOOL), type=BOOL)
    assert fn_after(e).filter == pid()


def test_not_equal_zero_in_filter():
    assert fn_after(b("!=", pid(), c(0))).filter == pid()


def test_negated_comparison():
    e = ir.Unary(op="!", operand=b("<", pid(), c(5)), type=BOOL)
    assert fn_after(e).filter == b(">=", pid(), c(5))


def test_constant_moves_right():
    assert fn_after(b("<", c(5), pid())).filter == b(">", pid(), c(5))


def test_if_conditions_and_logical_operands_are_simplified():
    inner = ir.Logical(op="&&", lhs=b("!=", pid(), c(0)), rhs=c(1, INT64), type=BOOL)
    fn = fn_after(None, [ir.If(cond=inner, then=(STORE,))])
    assert fn.body[0].cond.lhs == pid()


def test_unchanged_function_is_shared():
    prog = program([STORE], filt=pid(), maps=[scalar_map()])
    assert filter_simplify.run(prog) is prog
