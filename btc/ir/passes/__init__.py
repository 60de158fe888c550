"""The optimisation pipeline: ordered passes over the typed IR, one module each.

Every pass exports NAME and `run(prog) -> prog` and never mutates its input.
"""
from __future__ import annotations

import sys
import time
from typing import TextIO

from btc.diagnostics import BtcError, BtcErrors, all_errors
from btc.ir import nodes as ir
from btc.ir.passes import const_fold, dce, filter_simplify
from btc.parser.gc_pause import gc_paused

PIPELINE = (
    # Folding first: the later passes only recognise constants it has produced.
    const_fold,
    # Needs folded filters to decide constant-true/false; normalises conditions before DCE
    # so `if (!!0)` is already a constant there.
    filter_simplify,
    # Last: removes the branches and statements the passes above made unreachable or unused.
    dce,
)

PASS_NAMES = tuple(p.NAME for p in PIPELINE)


def run_pipeline(prog: ir.Program, dump_after: str | None = None, out: TextIO | None = None,
                 timings: list[tuple[str, float]] | None = None,
                 verify: bool = False) -> ir.Program:
    """Run every pass in order. `dump_after`: a pass name, or "all", prints the IR after it
    to `out` (stderr by default). `timings` collects (pass, seconds). `verify` checks the IR
    after each pass (used by tests). Errors come back labelled with the pass name."""
    if dump_after is not None and dump_after != "all" and dump_after not in PASS_NAMES:
        raise BtcError(f"unknown pass '{dump_after}'", hint="passes: " + ", ".join(PASS_NAMES))
    for p in PIPELINE:
        start = time.perf_counter()
        with gc_paused():  # many small acyclic objects: see btc/parser/gc_pause.py
            prog = _run_one(p, prog, verify)
        if timings is not None:
            timings.append((p.NAME, time.perf_counter() - start))
        if dump_after in (p.NAME, "all"):
            from btc.ir.printer import format_program

            stream = out if out is not None else sys.stderr
            stream.write(f"; IR after {p.NAME}\n{format_program(prog)}")
    return prog


def _run_one(p, prog: ir.Program, verify: bool) -> ir.Program:
    try:
        result = p.run(prog)
        if verify:
            from btc.ir.verify import verify_program

            verify_program(result)
        return result
    except BtcError as e:
        raise _labelled(p.NAME, e) from None
    except Exception as e:  # a bug in a pass must still reach the user as a BtcError
        raise BtcError(f"internal error in pass {p.NAME}: {type(e).__name__}: {e}") from e


def _labelled(name: str, err: BtcError) -> BtcError:
    errs = [BtcError(f"{e.message} (in pass {name})", e.span, e.hint) for e in all_errors(err)]
    return errs[0] if len(errs) == 1 else BtcErrors(errs)


__all__ = ["PIPELINE", "PASS_NAMES", "run_pipeline"]
