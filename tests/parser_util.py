"""Helpers for the parser tests: parse snippets and render their errors."""
from __future__ import annotations

import pytest

from btc.diagnostics import BtcError, all_errors, render
from btc.parser import ast, parse

FILE = {"btrace": "btc", "bpftrace": "stdin"}  # what the CLI passes for -e


def program(src: str, dialect: str) -> ast.Program:
    return parse(src, FILE[dialect], dialect)


def body(src: str, dialect: str) -> tuple:
    """The statements of the first rule of `src`."""
    return program(src, dialect).rules[0].body.stmts


def stmt(text: str, dialect: str) -> ast.Stmt:
    """The single statement `text` inside a BEGIN block."""
    stmts = body(f"BEGIN {{ {text} }}", dialect)
    assert len(stmts) == 1, stmts
    return stmts[0]


def expr(text: str, dialect: str) -> ast.Expr:
    """The value of `@x = text`."""
    return stmt(f"@x = {text}", dialect).value


def error_text(src: str, dialect: str) -> str:
    """The rendered error report of a program that must fail."""
    with pytest.raises(BtcError) as info:
        program(src, dialect)
    return render(info.value, src, dialect)


def errors(src: str, dialect: str) -> list[BtcError]:
    with pytest.raises(BtcError) as info:
        program(src, dialect)
    return all_errors(info.value)


# Short constructors for expected trees (spans are not compared).
def I(v):  # noqa: E743
    return ast.Int(value=v)


def B(op, lhs, rhs):
    return ast.Binary(op=op, lhs=lhs, rhs=rhs)


def V(name):
    return ast.Var(name=name)


def M(name, *keys):
    return ast.MapRef(name=name, keys=tuple(keys) if keys else None)


def C(name, *args):
    return ast.Call(name=name, args=tuple(args))


def S(value):
    return ast.Str(value=value)


def BI(name):
    return ast.Builtin(name=name)
