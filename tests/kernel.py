"""Shared helpers for tests that need the real kernel.

`require_bpf()` skips the calling test (with the reason) when bpf() is refused here, or fails it
when BTC_REQUIRE_BPF=1. The small assembler below builds raw BPF instructions for runtime tests.
"""
from __future__ import annotations

import functools
import os
import struct

import pytest


@functools.cache
def _bpf_problem() -> str | None:
    from btc.diagnostics import BtcError
    from btc.runtime.privileges import check_bpf_available

    try:
        check_bpf_available()
    except BtcError as e:
        return e.message
    return None


def require_bpf() -> None:
    """Skip (or, with BTC_REQUIRE_BPF=1, fail) when this process cannot use bpf()."""
    problem = _bpf_problem()
    if problem is None:
        return
    if os.environ.get("BTC_REQUIRE_BPF") == "1":
        pytest.fail(f"BTC_REQUIRE_BPF=1 but bpf() is unusable: {problem}")
    pytest.skip(f"bpf() is unusable here: {problem}")


def require_path(path: str, what: str) -> None:
    """Skip when a kernel feature's sysfs/tracefs file is missing (fail under BTC_REQUIRE_BPF)."""
    if os.path.exists(path):
        return
    if os.environ.get("BTC_REQUIRE_BPF") == "1":
        pytest.fail(f"BTC_REQUIRE_BPF=1 but {what} is missing ({path})")
    pytest.skip(f"{what} is missing ({path})")


def require_uprobes() -> None:
    """bpf() and the uprobe PMU (uprobe, uretprobe and usdt tests)."""
    require_bpf()
    require_path("/sys/bus/event_source/devices/uprobe/type", "the uprobe PMU")


@pytest.fixture
def bpf():
    """Fixture form of require_bpf()."""
    require_bpf()


# --- a tiny BPF assembler (include/uapi/linux/bpf.h encodings) -------------------------------
R0, R1, R2, R3, R4, R5, R6, R7, R8, R9, R10 = range(11)


def insn(code: int, dst: int = 0, src: int = 0, off: int = 0, imm: int = 0) -> bytes:
    return struct.pack("<BBhi", code, dst | src << 4, off, imm)


def mov64_imm(dst: int, imm: int) -> bytes:
    return insn(0xB7, dst, 0, 0, imm)


def mov64_reg(dst: int, src: int) -> bytes:
    return insn(0xBF, dst, src)


def add64_imm(dst: int, imm: int) -> bytes:
    return insn(0x07, dst, 0, 0, imm)


def ld_map_fd(dst: int, fd: int) -> bytes:
    return insn(0x18, dst, 1, 0, fd) + insn(0, 0, 0, 0, 0)


def stx_dw(dst: int, src: int, off: int) -> bytes:
    return insn(0x7B, dst, src, off)


def st_w(dst: int, off: int, imm: int) -> bytes:
    return insn(0x62, dst, 0, off, imm)


def st_dw(dst: int, off: int, imm: int) -> bytes:
    return insn(0x7A, dst, 0, off, imm)


def ldx_dw(dst: int, src: int, off: int) -> bytes:
    return insn(0x79, dst, src, off)


def xadd_dw(dst: int, src: int, off: int) -> bytes:
    return insn(0xDB, dst, src, off, 0)  # BPF_STX|BPF_ATOMIC|BPF_DW, imm BPF_ADD


def jeq_imm(dst: int, imm: int, off: int) -> bytes:
    return insn(0x15, dst, 0, off, imm)


def call(helper: int) -> bytes:
    return insn(0x85, 0, 0, 0, helper)


def exit_() -> bytes:
    return insn(0x95)


def count_into_array(map_fd: int) -> bytes:
    """key=0 on stack; v = lookup(map, &key); if v: *v += 1 (atomic); return 0."""
    return b"".join([
        st_w(R10, -4, 0),
        mov64_reg(R2, R10), add64_imm(R2, -4),
        ld_map_fd(R1, map_fd),
        call(1),  # map_lookup_elem
        jeq_imm(R0, 0, 2),
        mov64_imm(R1, 1),
        xadd_dw(R0, R1, 0),
        mov64_imm(R0, 0),
        exit_(),
    ])
