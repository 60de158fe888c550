"""`--syscall-attach`: whether syscall probes run as perf tracepoints or as raw tracepoints
on sys_enter/sys_exit that check the syscall number themselves (issue #6).

A perf syscall tracepoint costs its traced syscall more (~+95 ns measured on getpid) but
the untraced syscalls less than a raw sys_enter program, which runs on every syscall of
every process (~+52 ns each). So, in "auto":

* raw_syscalls:sys_enter/sys_exit trace every syscall either way: always raw;
* syscalls:sys_enter_X / sys_exit_X: raw only when the program's probes of that direction
  cover at least half of the syscall tracepoints of that direction (the traced syscalls are
  then a large share of all syscalls, and the runtime attaches one dispatcher for them all).

"raw" forces the raw variant on every syscall probe, "tracepoint" keeps perf tracepoints.
Either way a probe whose code needs something the raw variant cannot give the same (a whole
`args.args` array is not one load; `kstack`, see _TRACEPOINT_ONLY) stays a tracepoint: each
function is lowered against the tracepoint record and then moved over load by load
(`to_raw`), or kept as it is.
"""
from __future__ import annotations

from btc.ir import nodes as ir
from btc.ir.probe_info import ProbeFacts
from btc.ir.typecheck import bool_type
from btc.ir.types import INT64, IntType
from btc.ir.walk import rewrite_expr, rewrite_stmt_exprs
from btc.parser.construct import replace
from btc.probes import syscall_raw

MODES = ("auto", "tracepoint", "raw")
# Reads whose value would differ in the raw variant: `ctx` is another context, and a kernel
# stack taken in a raw tracepoint starts with the BPF program and bpf_trace_run2 frames where
# the perf tracepoint's starts at perf_syscall_enter/exit (bpftrace prints the latter).
_TRACEPOINT_ONLY = ("ctx", "kstack")


def choose(facts: list[list[ProbeFacts]], mode: str) -> list[list[ProbeFacts]]:
    """`facts` with `raw` set on every probe the policy moves to a raw tracepoint."""
    if mode not in MODES:
        raise ValueError(f"syscall attach mode {mode!r} is not one of {MODES}")
    if mode == "tracepoint":
        return facts
    wide = _wide_directions(facts) if mode == "auto" else {"enter", "exit"}
    return [[_with_raw(f, wide) for f in rule] for rule in facts]


def _with_raw(f: ProbeFacts, wide: set[str]) -> ProbeFacts:
    when = syscall_raw.direction(f.spec)
    if when is None:
        return f
    if f.spec.category == "syscalls" and when not in wide:
        return f
    raw = syscall_raw.raw_variant(f.spec)
    return f if raw is None else ProbeFacts(f.spec, f.info, raw)


def _wide_directions(facts: list[list[ProbeFacts]]) -> set[str]:
    """The directions whose `syscalls:` probes cover at least half of that direction's
    syscall tracepoints, over all rules."""
    seen: dict[str, set[str]] = {"enter": set(), "exit": set()}
    for rule in facts:
        for f in rule:
            when, name = syscall_raw.direction(f.spec), syscall_raw.syscall_of(f.spec)
            if when is not None and name is not None:
                seen[when].add(name)
    if not seen["enter"] and not seen["exit"]:
        return set()
    from btc.probes.syscalls import syscall_tracepoints

    total = len(syscall_tracepoints())
    return {when for when, names in seen.items() if names and 2 * len(names) >= total}


def to_raw(fn: ir.Function, facts: ProbeFacts, dialect: str) -> ir.Function:
    """`fn` (lowered against the tracepoint record) as its raw variant, with the syscall
    number check first in the filter; `fn` itself when a load has no raw equivalent."""
    raw = facts.raw
    if raw is None:
        return fn
    failed: list[ir.Expr] = []

    def move(e: ir.Expr) -> ir.Expr:
        if isinstance(e, ir.CtxLoad):
            return _move_load(e, raw, failed)
        if isinstance(e, ir.CtxDataLoc) or (isinstance(e, ir.BuiltinRead)
                                            and e.name in _TRACEPOINT_ONLY):
            failed.append(e)
        return e

    filt = rewrite_expr(fn.filter, move) if fn.filter is not None else None
    body = tuple(rewrite_stmt_exprs(s, move) for s in fn.body)
    if failed:
        return fn
    info = ir.ProbeInfo(text=facts.info.text, display=facts.info.display, section=raw.section,
                        prog_type=raw.prog_type, attach=raw.attach_plan(), span=facts.info.span)
    filt = _guarded(filt, raw, bool_type(dialect), fn.span)
    return replace(fn, probe=info, filter=filt, body=body)


def _move_load(e: ir.CtxLoad, raw, failed: list) -> ir.Expr:
    t = e.type
    loc = None
    if isinstance(t, IntType) and e.deref_offset is None and not e.deref_user:
        loc = syscall_raw.raw_location(raw, e.offset, t.size())
    if loc is None:
        failed.append(e)
        return e
    if raw.syscall_nr is not None and loc == syscall_raw.guard_location(raw):
        # the number check that _guarded puts first has proven this value: on sys_exit a
        # read of it would be another bpf_probe_read_kernel of orig_ax
        return ir.Const(value=raw.syscall_nr, type=t, span=e.span)
    return ir.CtxLoad(offset=loc[0], deref_offset=loc[1], type=t, span=e.span)


def _guarded(filt: ir.Expr | None, raw, bool_t: IntType, span) -> ir.Expr | None:
    """`nr == N && filter`: the number check runs first and alone decides most events."""
    loc = syscall_raw.guard_location(raw)
    if loc is None:
        return filt
    nr = ir.CtxLoad(offset=loc[0], deref_offset=loc[1], type=INT64, span=span)
    check = ir.Binary(op="==", lhs=nr, rhs=ir.Const(value=raw.syscall_nr, type=INT64, span=span),
                      type=bool_t, span=span)
    if filt is None:
        return check
    return ir.Logical(op="&&", lhs=check, rhs=filt, short_circuit=True, type=bool_t, span=span)
