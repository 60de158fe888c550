"""Raw system calls through ctypes: bpf(), perf_event_open(), ioctl(), mmap(), close().

A failed call raises `SyscallError` (a BtcError) whose message is one plain line: the operation,
the errno name and its text; privilege errors carry a hint about CAP_BPF/CAP_PERFMON.
"""
from __future__ import annotations

import ctypes
import errno
import functools
import mmap as _mmap
import os

from btc.diagnostics import BtcError
from btc.runtime import abi

PRIVILEGE_HINT = (
    "bpf() needs root or CAP_BPF+CAP_PERFMON: run with `sudo`, or "
    "`setcap cap_bpf,cap_perfmon+ep` on the interpreter (Linux's counterpart of kern.allowdt)"
)


class SyscallError(BtcError):
    """A failed system call; `errno` is the raw errno value, `operation` what was attempted."""

    def __init__(self, operation: str, err: int, hint: str | None = None):
        name = errno.errorcode.get(err, f"errno {err}")
        text = os.strerror(err) if err != 524 else "Operation not supported"  # ENOTSUPP
        if err == 524:
            name = "ENOTSUPP"
        super().__init__(f"{operation} failed: {name} ({text})", hint=hint or _default_hint(err))
        self.errno = err
        self.operation = operation


def _default_hint(err: int) -> str | None:
    if err in (errno.EPERM, errno.EACCES):
        return PRIVILEGE_HINT
    if err == errno.ENOSYS:
        return "this kernel was built without BPF support (CONFIG_BPF_SYSCALL)"
    return None


@functools.cache
def libc() -> ctypes.CDLL:
    lib = ctypes.CDLL(None, use_errno=True)
    lib.syscall.restype = ctypes.c_long
    lib.ioctl.restype = ctypes.c_int
    lib.ioctl.argtypes = [ctypes.c_int, ctypes.c_ulong, ctypes.c_ulong]
    return lib


def addr(obj: ctypes._CData | None) -> int:
    """The address of a ctypes object as the u64 the kernel expects (0 for None)."""
    return 0 if obj is None else ctypes.addressof(obj)


def bpf(cmd: abi.BpfCmd, attr: ctypes.Structure, what: str | None = None) -> int:
    """bpf(cmd, &attr, sizeof attr); returns the result (often an fd) or raises SyscallError."""
    res = bpf_raw(cmd, attr)
    if res < 0:
        raise SyscallError(what or f"bpf({abi.BpfCmd(cmd).name})", -res)
    return res


def bpf_raw(cmd: abi.BpfCmd, attr: ctypes.Structure) -> int:
    """bpf() returning -errno instead of raising, for callers that branch on the errno."""
    nr = abi.syscall_nr("bpf")
    res = libc().syscall(ctypes.c_long(nr), ctypes.c_int(int(cmd)), ctypes.byref(attr),
                         ctypes.c_uint(ctypes.sizeof(attr)))
    return -ctypes.get_errno() if res < 0 else res


def perf_event_open(attr: abi.PerfEventAttr, pid: int, cpu: int, group_fd: int = -1,
                    flags: int = abi.PERF_FLAG_FD_CLOEXEC, what: str = "perf_event_open") -> int:
    nr = abi.syscall_nr("perf_event_open")
    res = libc().syscall(ctypes.c_long(nr), ctypes.byref(attr), ctypes.c_int(pid),
                         ctypes.c_int(cpu), ctypes.c_int(group_fd), ctypes.c_ulong(flags))
    if res < 0:
        err = ctypes.get_errno()
        hint = None
        if err in (errno.EACCES, errno.EPERM):
            hint = "perf events need root or CAP_PERFMON (or kernel.perf_event_paranoid <= 1)"
        raise SyscallError(what, err, hint)
    return res


def ioctl(fd: int, request: int, arg: int = 0, what: str | None = None) -> int:
    res = libc().ioctl(fd, request, arg)
    if res < 0:
        raise SyscallError(what or f"ioctl(0x{request:x})", ctypes.get_errno())
    return res


def mmap_fd(fd: int, length: int, prot: int, offset: int = 0, what: str = "mmap") -> _mmap.mmap:
    """A MAP_SHARED mapping of `fd` (Python's mmap keeps its own dup of the fd)."""
    try:
        return _mmap.mmap(fd, length, flags=_mmap.MAP_SHARED, prot=prot, offset=offset)
    except OSError as e:
        raise SyscallError(what, e.errno or errno.EINVAL) from None


def close(fd: int) -> None:
    """Close an fd we own; EBADF is ignored so double closes on cleanup paths are harmless."""
    if fd is None or fd < 0:
        return
    try:
        os.close(fd)
    except OSError:
        pass


def mount(source: str, target: str, fstype: str, flags: int = 0) -> None:
    res = libc().mount(source.encode(), target.encode(), fstype.encode(), ctypes.c_ulong(flags), None)
    if res < 0:
        raise SyscallError(f"mount -t {fstype} {source} {target}", ctypes.get_errno())
