"""The pass pipeline runner: order, dumps, timings, error labels, verifier."""
import io

import pytest

from btc.diagnostics import BtcError
from btc.ir import passes
from btc.ir.passes import run_pipeline
from btc.ir.types import INT64
from btc.ir.verify import verify_program
from ir_util import b, c, ir, pid, program, scalar_map


def sample():
    body = (ir.If(cond=b("==", c(1), c(1)), then=(ir.MapSet(map="@x", key=None, value=b("*", c(6), c(7))),)),
            ir.Exit(), ir.MapSet(map="@x", key=None, value=c(0)))
    return program(body, filt=ir.Unary(op="!", operand=ir.Unary(op="!", operand=pid(), type=INT64), type=INT64),
                   maps=[scalar_map()])


def test_pipeline_order_is_declared():
    assert passes.PASS_NAMES == ("const_fold", "filter_simplify", "dce")


def test_full_pipeline_result():
    out = run_pipeline(sample(), verify=True)
    fn = out.functions[0]
    assert fn.filter == pid()
    assert fn.body == (ir.MapSet(map="@x", key=None, value=c(42)), ir.Exit())


def test_dump_after_one_pass_and_all():
    buf = io.StringIO()
    run_pipeline(sample(), dump_after="const_fold", out=buf)
    text = buf.getvalue()
    assert text.startswith("; IR after const_fold\n") and text.count("; IR after") == 1
    assert "@x = 42:int64" in text
    buf = io.StringIO()
    run_pipeline(sample(), dump_after="all", out=buf)
    assert buf.getvalue().count("; IR after") == 3


def test_unknown_dump_pass():
    with pytest.raises(BtcError, match="unknown pass 'nope'"):
        run_pipeline(sample(), dump_after="nope")


def test_timings_collected():
    t = []
    run_pipeline(sample(), timings=t)
    assert [n for n, _ in t] == list(passes.PASS_NAMES)
    assert all(s >= 0 for _, s in t)


def test_errors_are_labelled_with_the_pass(monkeypatch):
    def boom(prog):
        raise BtcError("bad thing")

    monkeypatch.setattr(passes.dce, "run", boom)
    with pytest.raises(BtcError, match=r"bad thing \(in pass dce\)"):
        run_pipeline(sample())


def test_internal_errors_become_btc_errors(monkeypatch):
    monkeypatch.setattr(passes.const_fold, "run", lambda prog: 1 / 0)
    with pytest.raises(BtcError, match="internal error in pass const_fold: ZeroDivisionError"):
        run_pipeline(sample())


def test_verifier_catches_broken_ir():
    bad = program([ir.MapSet(map="@nope", key=None, value=c(1))], maps=[scalar_map()])
    with pytest.raises(BtcError, match="undeclared map @nope"):
        verify_program(bad)
    bad = program([ir.Break()], maps=[scalar_map()])
    with pytest.raises(BtcError, match="break outside a loop"):
        verify_program(bad)
    bad = program([ir.MapSet(map="@x", key=None, value=ir.Const(value=2**63, type=INT64))],
                  maps=[scalar_map()])
    with pytest.raises(BtcError, match="out of range"):
        verify_program(bad)
