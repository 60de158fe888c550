"""The seed's five example programs, run as written (examples/), each at once in its own btc,
against one child process with a known name that makes exactly the syscalls they trace."""
from __future__ import annotations

import ctypes
import os
import re
import select
import signal

import pytest

from kernel import require_bpf
from run_util import Tracer

EXAMPLES = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "examples")
CHILD_COMM = "btcexample"
SYS_FORK = 57  # x86-64 fork(2): glibc's fork() uses clone, which syscall:fork:entry misses
SYS_GETPPID = 110
PR_SET_NAME = 15


@pytest.fixture(autouse=True)
def _bpf():
    require_bpf()
    if os.uname().machine != "x86_64":
        pytest.skip("the syscall numbers here are x86-64's")


def _child(gate: int) -> None:
    """Runs in the forked child: rename, wait for the go (select, not read: readsize.bt must
    only see the reads below), then getppid x3, read 100 bytes x3 and 5000 bytes x1 of
    /dev/zero, and one raw fork."""
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(PR_SET_NAME, CHILD_COMM.encode(), 0, 0, 0)
    zero = os.open("/dev/zero", os.O_RDONLY)
    select.select([gate], [], [])
    for _ in range(3):
        os.getppid()
    for size in (100, 100, 100, 5000):
        os.read(zero, size)
    if libc.syscall(SYS_FORK) == 0:
        os._exit(0)
    os.wait()
    os._exit(0)


def test_seed_examples_run_as_written():
    r, w = os.pipe()
    child = os.fork()
    if child == 0:
        try:
            os.close(w)
            _child(r)
        finally:
            os._exit(1)
    os.close(r)
    try:
        names = ["readcount", "readsize", "fork", "readlatency", "syscalls-by-process"]
        tracers = {n: Tracer(os.path.join(EXAMPLES, n + ".bt"), *([str(child)] if n == "readsize" else []))
                   for n in names}
        for t in tracers.values():
            t.wait_attached()
        os.write(w, b"go")
        _, status = os.waitpid(child, 0)
        assert os.waitstatus_to_exitcode(status) == 0
    finally:
        os.close(w)
    out = {n: t.stop(signal.SIGINT) for n, t in tracers.items()}
    for n, res in out.items():
        assert res.returncode == 0, (n, res.stderr)
        assert res.stderr == "", (n, res.stderr)

    assert f"\n@[{CHILD_COMM}]: 4\n" in out["readcount"].stdout
    bar17 = "@" * 17 + " " * 35
    assert out["readsize"].stdout == (
        "\n@readsize:\n"
        f"[64, 128)          3 |{'@' * 52}|\n"
        f"[4K, 8K)           1 |{bar17}|\n")
    assert f"{CHILD_COMM}[{child}]\n" in out["fork"].stdout
    assert f"@[{CHILD_COMM}, {SYS_GETPPID}]: 3\n" in out["syscalls-by-process"].stdout
    lat = out["readlatency"].stdout
    assert lat.startswith("\n@times:\n") and "@start" not in lat  # END clears @start
    rows = lat.split("\n")[2:-1]
    assert rows and all(re.fullmatch(r"\[[^]]+\) +\d+ \|@* *\|", row) for row in rows), rows
    assert all(row.index("|") == 21 and len(row) == 21 + 54 for row in rows), rows
