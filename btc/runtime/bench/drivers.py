"""Drivers: something that makes a probe fire many times, timed from user space.

A syscall driver issues one cheap, harmless system call in a tight native loop (see native.py;
a ctypes loop where machine code cannot run). A command driver runs `--driver CMD` through
the shell once per round; its event count comes from the kernel's run_cnt.
"""
from __future__ import annotations

import ctypes
import os
import subprocess
import time
from dataclasses import dataclass
from typing import Callable

from btc.diagnostics import BtcError
from btc.runtime.bench import native

# Arguments that make each call return at once without side effects: a bad fd (-1 -> EBADF),
# a NULL pointer (EFAULT), a zero length, or "self" (0). Calls that could change the process
# or the system with any arguments (exit, kill, execve, ...) have no built-in driver.
_BADFD = -1
_SAFE_ARGS: dict[str, tuple[int, ...]] = {
    **{n: () for n in ("getpid", "getppid", "gettid", "getuid", "geteuid", "getgid", "getegid",
                       "getpgrp", "sched_yield")},
    "getpgid": (0,), "getsid": (0,), "getpriority": (0, 0), "time": (0,), "brk": (0,),
    "gettimeofday": (0, 0), "clock_gettime": (1, 0), "getcwd": (0, 0), "uname": (0,),
    "sysinfo": (0,), "getrusage": (0, 0), "times": (0,),
    **{n: (_BADFD, 0, 0) for n in ("read", "write", "pread64", "pwrite64", "readv", "writev",
                                   "lseek", "fstat", "ioctl", "fcntl", "getdents64",
                                   "sendto", "recvfrom", "sendmsg", "recvmsg", "connect",
                                   "accept", "accept4", "bind", "getsockname", "getpeername")},
    **{n: (_BADFD,) for n in ("close", "dup", "fsync", "fdatasync", "listen", "shutdown",
                              "fchdir", "syncfs")},
    "dup3": (_BADFD, _BADFD, 0), "epoll_wait": (_BADFD, 0, 1, 0),
    "openat": (-100, 0, 0), "open": (0, 0), "stat": (0, 0), "lstat": (0, 0),
    "newfstatat": (-100, 0, 0, 0), "access": (0, 0), "faccessat": (-100, 0, 0),
    "readlink": (0, 0, 0), "readlinkat": (-100, 0, 0, 0), "statx": (-100, 0, 0, 0, 0),
    "poll": (0, 0, 0), "munmap": (0, 0), "mprotect": (0, 0, 0), "madvise": (0, 0, 0),
    "socket": (_BADFD, 0, 0),
}
_ANY_SYSCALL = "getpid"  # for probes that fire on every syscall


@dataclass
class Driver:
    """`run(n)` fires the probe about n times; `fixed` means the count is exactly n."""

    description: str
    run: Callable[[int], None]
    close: Callable[[], None]
    fixed: bool = True


def syscall_name_for(plan: dict, syscall_nr: Callable[[str], int | None] | None = None
                     ) -> str | None:
    """The syscall whose loop fires this probe, or None when no built-in driver fits.
    A raw sys_enter/sys_exit program that checks one number (`syscall_nr` in its plan) is
    fired by that syscall: its name is looked up among the safe ones with `syscall_nr`."""
    kind = plan.get("kind")
    if kind == "tracepoint":
        cat, name = plan.get("category"), plan.get("name", "")
        if cat == "raw_syscalls":
            return _ANY_SYSCALL
        if cat == "syscalls":
            for prefix in ("sys_enter_", "sys_exit_"):
                if name.startswith(prefix):
                    return name[len(prefix):]
    if kind == "raw_tracepoint" and plan.get("name") in ("sys_enter", "sys_exit"):
        nr = plan.get("syscall_nr")
        if nr is None:
            return _ANY_SYSCALL
        if syscall_nr is None:
            return None
        return next((n for n in _SAFE_ARGS if syscall_nr(n) == nr), None)
    return None


def untraced_syscall_for(plan: dict, syscall_nr: Callable[[str], int | None]) -> str | None:
    """A cheap safe syscall this syscall probe does not trace (getpid, or getppid when getpid
    is the traced one), or None: not a syscall probe, or one that fires on every syscall."""
    mode = syscall_mode(plan)
    if mode == "raw":
        traced = plan.get("syscall_nr")
    elif mode == "tracepoint":
        traced = syscall_nr(syscall_name_for(plan) or "")
    else:
        return None
    return "getppid" if traced == syscall_nr(_ANY_SYSCALL) else _ANY_SYSCALL


def syscall_mode(plan: dict) -> str | None:
    """How a syscall probe is attached: "tracepoint" (a perf event on one syscall's
    tracepoint), "raw" (raw tracepoint sys_enter/sys_exit + the program's own number check),
    "all-tracepoint" / "all-raw" (raw_syscalls: every syscall), or None (not a syscall probe)."""
    kind, name = plan.get("kind"), plan.get("name", "")
    if kind == "tracepoint" and plan.get("category") == "syscalls":
        return "tracepoint"
    if kind == "tracepoint" and plan.get("category") == "raw_syscalls":
        return "all-tracepoint"
    if kind == "raw_tracepoint" and name in ("sys_enter", "sys_exit"):
        return "raw" if plan.get("syscall_nr") is not None else "all-raw"
    return None


def builtin_driver(plan: dict, syscall_nr: Callable[[str], int | None],
                   prefer_ctypes: bool = False) -> Driver | None:
    return named_driver(syscall_name_for(plan, syscall_nr), syscall_nr, prefer_ctypes)


def named_driver(name: str | None, syscall_nr: Callable[[str], int | None],
                 prefer_ctypes: bool = False) -> Driver | None:
    """A loop of the safe syscall `name`, or None when it has no safe arguments or number."""
    if name is None or name not in _SAFE_ARGS:
        return None
    nr = syscall_nr(name)
    if nr is None:
        return None
    return syscall_driver(name, nr, _SAFE_ARGS[name], prefer_ctypes)


def syscall_driver(name: str, nr: int, args: tuple[int, ...],
                   prefer_ctypes: bool = False) -> Driver:
    shown = f"{name}({', '.join(str(a) for a in args)})"
    loop = None if prefer_ctypes else native.build(nr, args)
    if loop is not None:
        return Driver(f"native loop of {shown}", lambda n: loop(n), loop.close)
    libc = ctypes.CDLL(None, use_errno=True)
    fn = libc.syscall
    cargs = [ctypes.c_long(nr)] + [ctypes.c_long(a) for a in args]

    def run(n: int) -> None:
        for _ in range(n):
            fn(*cargs)

    return Driver(f"Python ctypes loop of {shown}", run, lambda: None)


def command_driver(cmd: str) -> Driver:
    """`--driver CMD`: one shell run per round; n is ignored."""

    def run(_n: int) -> None:
        res = subprocess.run(["/bin/sh", "-c", cmd], stdin=subprocess.DEVNULL,
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        if res.returncode != 0:
            raise BtcError(f"the driver command failed with status {res.returncode}: {cmd}")

    return Driver(f"command: {cmd}", run, lambda: None, fixed=False)


def time_ns(driver: Driver, n: int) -> int:
    """Wall-clock ns of one driver run (CPU time would hide time spent in the kernel's
    softirqs or waiting; the CPU is pinned, so wall time is what the events cost)."""
    t0 = time.perf_counter_ns()
    driver.run(n)
    return time.perf_counter_ns() - t0


def pin_cpu() -> tuple[int | None, set[int] | None]:
    """Pin this thread to one CPU (the last allowed one); returns (cpu, previous mask)."""
    try:
        old = os.sched_getaffinity(0)
        cpu = max(old)
        os.sched_setaffinity(0, {cpu})
        return cpu, old
    except (OSError, AttributeError, ValueError):
        return None, None


def unpin_cpu(old: set[int] | None) -> None:
    if old:
        try:
            os.sched_setaffinity(0, old)
        except OSError:
            pass
