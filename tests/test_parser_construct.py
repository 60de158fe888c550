"""btc.parser.construct: the fast constructors and replace must build exactly what the
classes' own keyword constructors and dataclasses.replace build."""
from __future__ import annotations

import dataclasses

import pytest

from btc.diagnostics import Span
from btc.ir import nodes as ir
from btc.ir.types import INT64, UINT64
from btc.parser import ast
from btc.parser.construct import constructor, replace

S = Span("f.bt", 1, 2, 3, 4)


@pytest.mark.parametrize("cls, values", [
    (Span, dict(file="x", line=1, col=2, end_line=1, end_col=9)),
    (ast.Int, dict(value=7, span=S)),
    (ast.MapRef, dict(name="m", span=S)),  # keys left at its default
    (ast.Binary, dict(op="+", lhs=ast.Int(value=1), rhs=ast.Int(value=2), span=S)),
    (ir.Const, dict(value=1, type=INT64, span=S)),
    (ir.MapGet, dict(map="@m", key=None, insert_missing=True, type=UINT64, span=S)),
    (ir.Binary, dict(op="<", lhs=ir.Const(value=1), rhs=ir.Const(value=2), signed=False,
                     type=INT64, span=S)),
])
def test_constructor_builds_what_the_class_builds(cls, values):
    make = constructor(cls, *values)
    got, want = make(*values.values()), cls(**values)
    assert type(got) is cls
    assert got == want and hash(got) == hash(want) and repr(got) == repr(want)
    assert all(getattr(got, f.name) == getattr(want, f.name) for f in dataclasses.fields(cls))
    name = next(iter(values))
    with pytest.raises(Exception) as want_err:
        setattr(want, name, values[name])
    with pytest.raises(type(want_err.value)):
        setattr(got, name, values[name])  # frozen just the same


def test_constructor_rejects_unknown_fields():
    with pytest.raises(TypeError):
        constructor(ast.Int, "value", "nope")


def test_replace_matches_dataclasses_replace():
    node = ir.Binary(op="+", lhs=ir.Const(value=1), rhs=ir.Const(value=2), type=INT64, span=S)
    got = replace(node, op="-", signed=False)
    want = dataclasses.replace(node, op="-", signed=False)
    assert type(got) is ir.Binary and got == want and repr(got) == repr(want)
    assert got.span is S and node.op == "+"  # the input is untouched
    with pytest.raises(TypeError):
        replace(node, nope=1)  # unknown fields fail as dataclasses.replace does
