"""One pt_regs read per raw syscall program (issue #6 follow-up).

A raw sys_enter/sys_exit program reads each syscall argument through the pt_regs pointer in
ctx[0] with bpf_probe_read_kernel (~25 ns a call, whatever the size). When the program reads
registers at two or more places, the back end instead copies the smallest 8-aligned window
of pt_regs that covers them all onto the stack once, and serves every such read from it.

Where the copy goes: the filter is a chain of `&&` conjuncts (the syscall number check
first, added by btc.ir.syscall_attach.to_raw); the copy goes right before the first conjunct
that reads a register, or before the body when the filter reads none. It dominates every
later read, and events that the check or the cheap conjuncts before it reject never pay
for it. The number check's own read of `orig_ax` (sys_exit) happens before the copy and is
not counted. A `for` body is another BPF function without the caller's stack window: reads
there would stay per-read probe reads and are not counted (bpftrace allows no `args` in a
`for` body, and btrace has no `for`, so none arise today).
"""
from __future__ import annotations

from dataclasses import dataclass

from btc.ir import nodes as N
from btc.ir import types as T

# The raw tracepoints whose ctx[0] is `struct pt_regs *` (include/trace/events/syscalls.h).
_REGS_HOOKS = ("sys_enter", "sys_exit")
_REGS_WORD = 0  # ctx offset of the pt_regs pointer
_WORD = 8


@dataclass(frozen=True)
class RegsWindow:
    """Copy pt_regs bytes [lo, lo + size) before conjunct `start` of the filter
    (`start == len(conjuncts)`: before the body)."""

    lo: int
    size: int
    conjuncts: tuple[N.Expr, ...]
    start: int

    def covers(self, e: N.CtxLoad) -> bool:
        return is_regs_read(e) and self.lo <= e.deref_offset < self.lo + self.size


def is_regs_read(e: N.Expr) -> bool:
    """A kernel read of an integer register through ctx[0] (what the window can serve)."""
    return (isinstance(e, N.CtxLoad) and e.deref_offset is not None and not e.deref_user
            and e.offset == _REGS_WORD and isinstance(e.type, T.IntType)
            and e.type.size() <= _WORD)


def plan_window(fn: N.Function, nodes, walk) -> RegsWindow | None:
    """The window for `fn`, or None when it reads registers at fewer than two places
    (one read stays one 8-byte read) or is not a raw sys_enter/sys_exit program.
    `nodes(stmts)` yields the nodes the function's own frame lowers, `walk(exprs)` every
    node under expressions (passed in: they live with the lowerer)."""
    attach = fn.probe.attach
    if attach.get("kind") != "raw_tracepoint" or attach.get("name") not in _REGS_HOOKS:
        return None
    conjuncts = tuple(_conjuncts(fn.filter)) if fn.filter is not None else ()
    skip = 1 if conjuncts and _is_number_check(conjuncts[0], attach.get("syscall_nr")) else 0
    sites = []
    start = len(conjuncts)
    for i in range(skip, len(conjuncts)):
        here = [n for n in walk([conjuncts[i]]) if is_regs_read(n)]
        if here and start == len(conjuncts):
            start = i
        sites += here
    sites += [n for n in nodes(fn.body) if is_regs_read(n)]
    if len(sites) < 2:
        return None
    lo = min(n.deref_offset for n in sites) // _WORD * _WORD
    hi = max(n.deref_offset + _WORD for n in sites) // _WORD * _WORD
    return RegsWindow(lo=lo, size=hi - lo, conjuncts=conjuncts, start=start)


def _conjuncts(e: N.Expr):
    """`a && (b && c)` as a, b, c: a filter of them is the same as one filter per conjunct
    in order (short-circuit `&&` evaluates each only when all before it held)."""
    if isinstance(e, N.Logical) and e.op == "&&" and e.short_circuit:
        yield from _conjuncts(e.lhs)
        yield from _conjuncts(e.rhs)
    else:
        yield e


def _is_number_check(e: N.Expr, nr: int | None) -> bool:
    """to_raw's `nr == N` (its load of orig_ax on sys_exit runs before any window)."""
    return (nr is not None and isinstance(e, N.Binary) and e.op == "=="
            and isinstance(e.lhs, N.CtxLoad) and isinstance(e.rhs, N.Const)
            and e.rhs.value == nr)
