"""Which syscalls have tracepoints, and their numbers per architecture.

The numbers let the back end rewrite `syscall:NAME:entry` as raw_tracepoint `sys_enter`
plus an id check (tracepoint format files carry no number). A few tracepoints are named
after the kernel function rather than the syscall (`newstat` for stat, `sendfile64`,
`umount` for umount2); `table_name` and `tracepoint_name` translate both ways.
"""
from __future__ import annotations

import functools

from btc.probes import _arch, _tracefs
from btc.probes._syscall_numbers import AARCH64, X86_64

_TABLES = {"x86_64": X86_64, "aarch64": AARCH64}
# tracepoint name -> syscall table name, where they differ other than by a "new" prefix
_RENAMED = {"umount": "umount2", "sendfile64": "sendfile"}


@functools.lru_cache(maxsize=1)
def syscall_tracepoints() -> tuple[str, ...]:
    """Syscall names N with both syscalls:sys_enter_N and sys_exit_N, sorted."""
    enter, exit_ = set(), set()
    for cat, name in _tracefs.available_events():
        if cat != "syscalls":
            continue
        if name.startswith("sys_enter_"):
            enter.add(name[len("sys_enter_"):])
        elif name.startswith("sys_exit_"):
            exit_.add(name[len("sys_exit_"):])
    return tuple(sorted(enter & exit_))


def syscall_table(machine: str | None = None) -> dict[str, int]:
    """name -> number for `machine` (default: this host; x86_64 or aarch64)."""
    return _TABLES[_arch.machine_name(machine)]


def table_name(tp_name: str, machine: str | None = None) -> str | None:
    """The syscall-table name of tracepoint syscall `tp_name` (None if it has no number)."""
    table = syscall_table(machine)
    for cand in (tp_name, _RENAMED.get(tp_name), tp_name.removeprefix("new")):
        if cand and cand in table:
            return cand
    return None


def tracepoint_name(name: str) -> str | None:
    """The tracepoint syscall name for a user-facing syscall name (exact match first)."""
    available = set(syscall_tracepoints())
    if name in available:
        return name
    renamed = {v: k for k, v in _RENAMED.items()}
    for cand in (renamed.get(name), "new" + name):
        if cand and cand in available:
            return cand
    return None


def syscall_number(name: str, machine: str | None = None) -> int | None:
    """The number of syscall `name` (table or tracepoint spelling), or None."""
    table = syscall_table(machine)
    if name in table:
        return table[name]
    alias = table_name(name, machine)
    return table[alias] if alias else None
