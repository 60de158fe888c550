"""Is bpf() usable here? One trivial program load answers it with a plain message."""
from __future__ import annotations

import ctypes
import errno
import resource
import struct

from btc.diagnostics import BtcError
from btc.runtime import abi, syscalls

# r0 = 0; exit  (BPF_ALU64|BPF_MOV|BPF_K = 0xb7, BPF_JMP|BPF_EXIT = 0x95)
_TRIVIAL_PROG = struct.pack("<BBhiBBhi", 0xB7, 0, 0, 0, 0x95, 0, 0, 0)


NOT_ALLOWED = ("tracing needs root, or the CAP_BPF and CAP_PERFMON capabilities: "
               "run btc as root (sudo btc ...)")


def check_bpf_available() -> None:
    """Return if this process may load tracing programs, else raise a BtcError saying why.
    A tracepoint program is a "perfmon" type: loading one needs CAP_BPF and CAP_PERFMON (or
    CAP_SYS_ADMIN), which is exactly what a run needs."""
    insns = ctypes.create_string_buffer(_TRIVIAL_PROG, len(_TRIVIAL_PROG))
    license_ = ctypes.create_string_buffer(b"GPL")
    attr = abi.AttrProgLoad(prog_type=abi.ProgType.TRACEPOINT, insn_cnt=2,
                            insns=syscalls.addr(insns), license=syscalls.addr(license_))
    res = syscalls.bpf_raw(abi.BpfCmd.PROG_LOAD, attr)
    if res >= 0:
        syscalls.close(res)
        return
    err = -res
    if err in (errno.EPERM, errno.EACCES):
        raise BtcError(NOT_ALLOWED)
    if err == errno.ENOSYS:
        raise BtcError("this kernel has no bpf() system call (CONFIG_BPF_SYSCALL is off)")
    raise syscalls.SyscallError("loading a trivial BPF program", err)


def raise_memlock_limit() -> None:
    """Lift RLIMIT_MEMLOCK: kernels before 5.11 charge BPF maps to it (EPERM when exceeded)."""
    try:
        resource.setrlimit(resource.RLIMIT_MEMLOCK, (resource.RLIM_INFINITY, resource.RLIM_INFINITY))
    except (ValueError, OSError):
        pass  # not allowed: newer kernels account BPF memory to the cgroup instead
