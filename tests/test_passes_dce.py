"""Dead-code elimination."""
from btc.ir.passes import dce
from btc.ir.types import INT64
from ir_util import b, c, ir, pid, program, scalar_map


def body_after(stmts, maps=(scalar_map(),)):
    return dce.run(program(stmts, maps=maps)).functions[0].body


def store(v=1):
    return ir.MapSet(map="@x", key=None, value=c(v))


def test_code_after_exit_is_dropped():
    assert body_after([store(1), ir.Exit(), store(2)]) == (store(1), ir.Exit())


def test_code_after_return_in_branch_only_drops_in_that_branch():
    s = ir.If(cond=pid(), then=(ir.Return(), store(2)), orelse=())
    assert body_after([s, store(3)]) == (ir.If(cond=pid(), then=(ir.Return(),)), store(3))


def test_if_on_constant():
    assert body_after([ir.If(cond=c(1), then=(store(1),), orelse=(store(2),))]) == (store(1),)
    assert body_after([ir.If(cond=c(0), then=(store(1),), orelse=(store(2),))]) == (store(2),)


def test_empty_if_with_pure_condition_goes_but_side_effects_stay():
    assert body_after([ir.If(cond=pid(), then=())]) == ()
    read = ir.MapGet(map="@x", key=None, insert_missing=True, type=INT64)
    assert body_after([ir.If(cond=read, then=())]) == (ir.ExprStmt(expr=read),)


def test_unused_local_store():
    dead = ir.LocalSet(name="a", value=b("+", pid(), c(1), t=INT64))
    live = ir.LocalSet(name="b", value=c(2))
    use = ir.MapSet(map="@x", key=None, value=ir.LocalGet(name="b", type=INT64))
    assert body_after([dead, live, use]) == (live, use)


def test_unused_local_with_side_effect_keeps_the_value():
    read = ir.MapGet(map="@x", key=None, insert_missing=True, type=INT64)
    got = body_after([ir.LocalSet(name="a", value=read)])
    assert got == (ir.ExprStmt(expr=read),)


def test_while_zero_and_pure_expression_statement():
    assert body_after([ir.While(cond=c(0), body=(store(),)), ir.ExprStmt(expr=pid())]) == ()


def test_input_not_mutated():
    prog = program([store(1), ir.Exit(), store(2)], maps=[scalar_map()])
    before = repr(prog)
    dce.run(prog)
    assert repr(prog) == before


def test_unchanged_program_is_shared():
    prog = program([store(1), ir.If(cond=pid(), then=(store(2),))], maps=[scalar_map()])
    assert dce.run(prog) is prog
