"""Semantic analysis: AST -> typed IR (`analyze`); the printer, passes and verifier live in
btc.ir.printer, btc.ir.passes and btc.ir.verify.

Stages, one module each: probe resolution (probe_info), symbols (maps and locals), inference
and lowering (infer, lower, lower_expr: typed IR with the dialect's semantics settled), and
the print-at-exit rule (exitprint). Choices are documented in btc/ir/SEMANTICS.md."""
from __future__ import annotations

from btc.ir import nodes
from btc.parser import ast


def analyze(program: ast.Program, params: list[str] | None = None,
            syscall_attach: str = "auto") -> nodes.Program:
    """Check and lower a parsed program. `params` are the positional parameters ($1...), or
    None when unknown (compile only); `syscall_attach` is "auto", "tracepoint" or "raw"
    (btc/ir/syscall_attach.py). Raises BtcError/BtcErrors with every error found."""
    from btc.ir.analysis import run
    from btc.parser.gc_pause import gc_paused

    with gc_paused():  # many small acyclic objects: see btc/parser/gc_pause.py
        return run(program, params, syscall_attach)


__all__ = ["analyze"]
