"""Helpers for the sema/pass/golden tests: parse + analyze source text, and build IR by hand."""
from __future__ import annotations

import pytest

from btc.diagnostics import BtcError, all_errors
from btc.ir import nodes as ir
from btc.ir.types import BOOL, INT64, UINT64, IntType

BEGIN = ir.ProbeInfo(text="BEGIN", display="BEGIN", section="raw_tp", prog_type=17,
                     attach={"kind": "begin"})


def parse_src(src: str, dialect: str = "btrace", filename: str = "t.bt"):
    import btc.parser as parser

    if not hasattr(parser, "parse"):
        pytest.skip("btc.parser.parse is not available yet")
    return parser.parse(src, filename, dialect)


def analyze_src(src: str, dialect: str = "btrace", params: list[str] | None = None) -> ir.Program:
    from btc.ir import analyze

    return analyze(parse_src(src, dialect), params)


def errors_of(src: str, dialect: str = "btrace", params: list[str] | None = None) -> list[BtcError]:
    with pytest.raises(BtcError) as info:
        analyze_src(src, dialect, params)
    return all_errors(info.value)


def messages(src: str, dialect: str = "btrace", params: list[str] | None = None) -> list[str]:
    return [e.message for e in errors_of(src, dialect, params)]


def where(err: BtcError) -> tuple[int, int, int, int]:
    s = err.span
    return (s.line, s.col, s.end_line, s.end_col)


def stmts_of(prog: ir.Program, index: int = 0) -> tuple[ir.Stmt, ...]:
    return prog.functions[index].body


# ---------------------------------------------------------------- hand-built IR


def c(value: int, t: IntType = INT64) -> ir.Const:
    return ir.Const(value=value, type=t)


def b(op: str, lhs: ir.Expr, rhs: ir.Expr, signed: bool = True, t=None) -> ir.Binary:
    if t is None:
        t = BOOL if op in ("==", "!=", "<", "<=", ">", ">=") else lhs.type
    return ir.Binary(op=op, lhs=lhs, rhs=rhs, signed=signed, type=t)


def pid() -> ir.BuiltinRead:
    return ir.BuiltinRead(name="pid", type=IntType(32, False))


def program(body=(), filt=None, maps=(), printfs=(), dialect: str = "bpftrace") -> ir.Program:
    fn = ir.Function(name="p0_BEGIN", probe=BEGIN, filter=filt, body=tuple(body))
    return ir.Program(dialect=dialect, functions=(fn,), maps=tuple(maps), printfs=tuple(printfs))


def scalar_map(name: str = "@x", value=INT64) -> ir.MapDecl:
    return ir.MapDecl(name=name, key=None, value=value)


__all__ = ["BOOL", "INT64", "UINT64", "IntType", "ir"]
