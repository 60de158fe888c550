"""Raw-tracepoint variants of the syscall tracepoints (issue #6): `syscalls:sys_enter_X`,
`syscalls:sys_exit_X` (bpftrace `tracepoint:`, btrace `syscall:X:entry|return`) and
`raw_syscalls:sys_enter|sys_exit` as BPF_PROG_TYPE_RAW_TRACEPOINT programs on the raw
tracepoints `sys_enter` / `sys_exit`.

The variant keeps the tracepoint's fields, names and types; only where they are read
changes. The raw tracepoints pass two u64 words (include/trace/events/syscalls.h):

* sys_enter(struct pt_regs *regs, long id): ctx[0] = regs, ctx[1] = the syscall number;
  argument i is the i-th syscall argument register in `*regs`.
* sys_exit(struct pt_regs *regs, long ret): ctx[0] = regs, ctx[1] = the return value; the
  number survives in regs->orig_ax.

`raw_location` maps a tracepoint record offset to (ctx offset, pt_regs offset or None), so
code lowered against the tracepoint record can be moved over load by load. x86-64 only: the
register offsets of other machines are in _arch.py but untested here, so they keep the
perf tracepoints.
"""
from __future__ import annotations

import dataclasses
import os

from btc.probes.base import PROG_RAW_TRACEPOINT, ProbeSpec, plan

_ENTER, _EXIT = "sys_enter_", "sys_exit_"
_X86_64 = ("x86_64", "amd64")
# Tracepoint record offsets (the tracefs formats of syscalls:* and raw_syscalls:*): the
# number (`__syscall_nr`, `id`) at 8; entry arguments in 8-byte slots from 16; `ret` at 16.
_NR_OFFSET, _FIRST_SLOT = 8, 16
# raw tracepoint words: ctx[0] = struct pt_regs *, ctx[1] = number (entry) or return value
_REGS_WORD, _VALUE_WORD = 0, 8


def direction(spec: ProbeSpec) -> str | None:
    """The direction ("enter" or "exit") of a syscall tracepoint with a raw variant's shape;
    None for any other probe."""
    if spec.prog_type == PROG_RAW_TRACEPOINT:
        return None
    if spec.category == "raw_syscalls" and spec.name in ("sys_enter", "sys_exit"):
        return spec.name[4:]
    if spec.category == "syscalls":
        if spec.name.startswith(_ENTER):
            return "enter"
        if spec.name.startswith(_EXIT):
            return "exit"
    return None


def syscall_of(spec: ProbeSpec) -> str | None:
    """The tracepoint's syscall name (`openat` for sys_enter_openat); None for raw_syscalls."""
    if spec.category != "syscalls":
        return None
    return spec.name.removeprefix(_ENTER).removeprefix(_EXIT)


def raw_variant(spec: ProbeSpec, machine: str | None = None) -> ProbeSpec | None:
    """The raw-tracepoint form of a syscall tracepoint spec, or None when it has none (not a
    syscall tracepoint, not x86-64, or a syscall without a number in btc's table).

    The plan names the tracepoint it stands for (`tracepoint`, for messages) and, except for
    raw_syscalls, the number the program checks (`syscall_nr`), by which the runtime may
    share one attachment among programs (a dispatcher indexed by number)."""
    when = direction(spec)
    if when is None or (machine or os.uname().machine).lower() not in _X86_64:
        return None
    from btc.probes.syscalls import syscall_number  # the tables: only for syscall probes

    fields: dict = {}
    nr = None
    name = syscall_of(spec)
    if name is not None:
        nr = syscall_number(name, machine)
        if nr is None:
            return None
        fields["syscall_nr"] = nr
    fields["tracepoint"] = f"{spec.category}:{spec.name}"
    tp = f"sys_{when}"
    return dataclasses.replace(spec, prog_type=PROG_RAW_TRACEPOINT, section=f"raw_tp/{tp}",
                               plan=plan("raw_tracepoint", name=tp, **fields), syscall_nr=nr)


def raw_location(spec: ProbeSpec, offset: int, size: int) -> tuple[int, int | None] | None:
    """Where the raw variant reads the tracepoint-record value of `size` bytes at `offset`:
    (ctx offset, None) for a ctx word, (ctx offset of the pt_regs pointer, offset in pt_regs)
    for a register. None when it is not one word (a whole array, a field straddling slots).
    The value is the low `size` bytes of the word (little endian, as the record's)."""
    from btc.probes._arch import X86_64 as regs

    if size not in (1, 2, 4, 8):
        return None
    enter = spec.section.endswith("sys_enter")
    if offset == _NR_OFFSET:
        return (_VALUE_WORD, None) if enter else (_REGS_WORD, regs.syscall_nr[1])
    slot, rem = divmod(offset - _FIRST_SLOT, 8)
    if offset < _FIRST_SLOT or rem:
        return None
    if not enter:
        return (_VALUE_WORD, None) if slot == 0 else None
    if slot >= len(regs.syscall_args):
        return None
    return (_REGS_WORD, regs.syscall_args[slot][1])


def guard_location(spec: ProbeSpec) -> tuple[int, int | None] | None:
    """Where the raw variant of a `syscalls:` probe reads the syscall number it checks (as
    raw_location); None for raw_syscalls, which take every syscall."""
    if spec.syscall_nr is None:
        return None
    return raw_location(spec, _NR_OFFSET, 8)
