"""Semantic analysis: AST -> typed IR (`analyze`), plus the IR printer and passes.

Stages, one module each: probe resolution (probe_info), symbols (maps and locals), inference
(infer: map/local types to a fixed point), lowering (lower, lower_expr: typed IR with the
dialect's semantics settled), and the print-at-exit rule (exitprint)."""
from __future__ import annotations

from btc.diagnostics import BtcError, ErrorCollector
from btc.ir import nodes as ir
from btc.parser import ast


def analyze(program: ast.Program, params: list[str] | None = None) -> ir.Program:
    """Check and lower a parsed program. Raises BtcError/BtcErrors with every error found."""
    from btc.ir.analysis import run

    return run(program, params)


__all__ = ["analyze", "ir", "BtcError", "ErrorCollector"]
