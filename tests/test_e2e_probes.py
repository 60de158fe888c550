"""Probes on the live kernel, both dialects: syscall entry/return, tracepoints (btrace argN,
bpftrace args fields and char[N] fields), interval (one CPU), profile (every CPU), and `-p`
on a compiled object. The test fires the syscalls itself and filters on its own pid."""
from __future__ import annotations

import os
import re
import signal

import pytest

from kernel import require_bpf
from run_util import Tracer, run_btc


@pytest.fixture(autouse=True)
def _bpf():
    require_bpf()


BTRACE_PROBES = r"""
syscall:getppid:entry /pid == $1/ { @e[probe, comm] = count(); @t[tid == $1] = count() }
syscall:read:entry /pid == $1 && arg2 == 7777/ { @sz[arg2] = count() }
syscall:read:return /pid == $1 && retval == 7777/ { @r[probe, retval] = count() }
tracepoint:syscalls:sys_enter_getpgid /pid == $1/ { printf("tp %d %d\n", arg0 == $1, arg1) }
interval:hz:50 { @i[cpu] = count() }
profile:hz:50 { @p[cpu] = count() }
"""

BPFTRACE_PROBES = r"""
tracepoint:syscalls:sys_enter_openat /pid == $1/ { @open[str(args.filename)] = count(); }
tracepoint:syscalls:sys_enter_read /pid == $1 && args.count == 7777/ { @rd[args.count, probe] = count(); }
tracepoint:syscalls:sys_exit_read /pid == $1 && args.ret == 7777/ { @ret = sum(args.ret); }
tracepoint:sched:sched_switch /args.prev_pid == $1/ { @sw[args.prev_comm] = count(); }
interval:ms:20 { @i[cpu] = count(); }
profile:hz:50 { @p[cpu] = count(); }
"""

MARKER = "/tmp/btc-e2e-no-such-file"


def _comm() -> str:
    with open("/proc/self/comm") as f:
        return f.read().strip()


def _keys(out: str, name: str) -> set[int]:
    return {int(k) for k in re.findall(rf"^{re.escape(name)}\[(\d+)\]: \d+$", out, re.M)}


def _fire() -> None:
    """getppid x2, getpgid(own pid), read 7777 bytes of /dev/zero, openat MARKER, sleep."""
    os.getppid()
    os.getppid()
    os.getpgid(os.getpid())
    fd = os.open("/dev/zero", os.O_RDONLY)
    try:
        assert len(os.read(fd, 7777)) == 7777
    finally:
        os.close(fd)
    try:
        os.open(MARKER, os.O_RDONLY)
    except FileNotFoundError:
        pass
    import time

    time.sleep(0.3)  # interval ticks and a few context switches of this process
    _spin_on_every_cpu(0.15)


def _spin_on_every_cpu(seconds: float) -> None:
    """A profile event samples only a CPU that is running something: an idle CPU takes no
    ticks (bpftrace's profile shows the same), so keep each CPU busy for a few ticks."""
    import time

    saved = os.sched_getaffinity(0)
    try:
        for cpu in sorted(saved):
            os.sched_setaffinity(0, {cpu})
            end = time.monotonic() + seconds
            while time.monotonic() < end:
                pass
    finally:
        os.sched_setaffinity(0, saved)


def test_probes_in_both_dialects_and_dash_p_on_an_object(tmp_path):
    me = str(os.getpid())
    obj = str(tmp_path / "getppid.o")
    res = run_btc("compile", "-e", "syscall:getppid:entry { @[pid] = count() }", "-o", obj)
    assert res.returncode == 0, res.stderr
    tracers = [Tracer("-e", BTRACE_PROBES, me),
               Tracer("--dialect", "bpftrace", "-e", BPFTRACE_PROBES, me),
               Tracer("run", obj, "-p", me)]  # options after the object file, as getopt allows
    for t in tracers:
        t.wait_attached()
    child = os.fork()
    if child == 0:  # another process calling getppid: -p must ignore it
        os.getppid()
        os._exit(0)
    os.waitpid(child, 0)
    _fire()
    bt, bp, dash_p = (t.stop(signal.SIGINT) for t in tracers)
    comm, ncpu = _comm(), len(os.sched_getaffinity(0))

    assert bt.returncode == 0, bt.stderr
    assert "tp 1 0\n" in bt.stdout
    assert f"@e[syscall:getppid:entry, {comm}]: 2\n" in bt.stdout
    assert "@t[1]: 2\n" in bt.stdout
    assert "@sz[7777]: 1\n" in bt.stdout
    assert "@r[syscall:read:return, 7777]: 1\n" in bt.stdout
    assert len(_keys(bt.stdout, "@i")) == 1  # interval: one CPU
    assert len(_keys(bt.stdout, "@p")) == ncpu  # profile: every CPU

    assert bp.returncode == 0, bp.stderr
    assert bp.stdout.startswith("Attaching 6 probes...\n")
    assert f"@open[{MARKER}]: 1\n" in bp.stdout
    assert "@rd[7777, tracepoint:syscalls:sys_enter_read]: 1\n" in bp.stdout
    assert "@ret: 7777\n" in bp.stdout
    assert re.search(rf"^@sw\[{re.escape(comm)}\]: \d+$", bp.stdout, re.M), bp.stdout
    assert len(_keys(bp.stdout, "@i")) == 1
    assert len(_keys(bp.stdout, "@p")) == ncpu

    assert dash_p.returncode == 0, dash_p.stderr
    assert dash_p.stdout == f"\n@[{me}]: 2\n"


def test_dash_p_of_a_missing_process_is_a_plain_error():
    missing = next(p for p in range(4194303, 1, -1) if not os.path.exists(f"/proc/{p}"))
    res = run_btc("-p", str(missing), "-e", "syscall:getppid:entry { @[pid] = count() }")
    assert (res.returncode, res.stdout) == (1, "")
    assert res.stderr == f"btc: -p {missing}: no such process\n"


@pytest.mark.parametrize("args, message", [
    (["-p", "a1111"], "Failed to parse pid: pid 'a1111' is not a valid decimal number"),
    (["-p", "111a1"], "Failed to parse pid: pid '111a1' is not a valid decimal number"),
    (["-p", "5000000"], "Failed to parse pid: pid '5000000' out of valid pid range [1,4194304]"),
    (["-p", "0"], "Failed to parse pid: pid '0' out of valid pid range [1,4194304]"),
    (["-f", "jsonx"], 'Invalid output format "jsonx"'),
])
def test_bad_option_values_in_bpftraces_words(args, message):
    res = run_btc("--dialect", "bpftrace", *args, "-e", "BEGIN { exit(); }")
    assert (res.returncode, res.stdout, res.stderr) == (1, "", f"ERROR: {message}\n")


def test_missing_script_file_per_dialect():
    res = run_btc("--dialect", "bpftrace", "no_such_file.bt")
    assert res.stderr == "ERROR: failed to open file 'no_such_file.bt': No such file or directory\n"
    res = run_btc("no_such_file.bt")
    assert res.stderr == "btc: can't open 'no_such_file.bt': No such file or directory\n"
