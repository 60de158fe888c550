"""Per-architecture register layout of `struct pt_regs`, for argN/retval of kprobes, uprobes
and raw syscall tracepoints (ply's arch/*.c). Offsets in bytes.

x86-64: arch/x86/include/asm/ptrace.h `struct pt_regs` (r15 @0 … r9 @64, r8 @72, ax @80,
cx @88, dx @96, si @104, di @112, orig_ax @120). aarch64: arch/arm64/include/asm/ptrace.h
(regs[31] @0, sp @248, pc @256, pstate @264, orig_x0 @272, syscallno @280).
"""
from __future__ import annotations

import platform
from dataclasses import dataclass


@dataclass(frozen=True)
class RegLayout:
    machine: str
    args: tuple[tuple[str, int], ...]  # function-call argument registers, in order
    syscall_args: tuple[tuple[str, int], ...]  # syscall argument registers, in order
    ret: tuple[str, int]
    syscall_nr: tuple[str, int]  # where the syscall number survives until sys_exit


X86_64 = RegLayout(
    "x86_64",
    args=(("di", 112), ("si", 104), ("dx", 96), ("cx", 88), ("r8", 72), ("r9", 64)),
    syscall_args=(("di", 112), ("si", 104), ("dx", 96), ("r10", 56), ("r8", 72), ("r9", 64)),
    ret=("ax", 80),
    syscall_nr=("orig_ax", 120),
)

AARCH64 = RegLayout(
    "aarch64",
    args=tuple((f"x{i}", 8 * i) for i in range(8)),
    # x0 is overwritten by the return value; orig_x0 keeps the first argument
    syscall_args=(("orig_x0", 272),) + tuple((f"x{i}", 8 * i) for i in range(1, 6)),
    ret=("x0", 0),
    syscall_nr=("syscallno", 280),
)

_BY_MACHINE = {"x86_64": X86_64, "amd64": X86_64, "aarch64": AARCH64, "arm64": AARCH64}


def reg_layout(machine: str | None = None) -> RegLayout:
    """The layout for `machine` (default: this host). Unknown machines get x86-64's, which
    the back end reports when it matters."""
    return _BY_MACHINE.get((machine or platform.machine()).lower(), X86_64)


def machine_name(machine: str | None = None) -> str:
    return reg_layout(machine).machine
