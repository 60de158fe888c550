"""uprobe/uretprobe end to end: PIE and non-PIE binaries built here, a library found
through the ld.so cache, and -p PID."""
from __future__ import annotations

import subprocess
import time

import pytest

from cprog_util import cprogs  # noqa: F401  (fixture)
from kernel import require_uprobes
from run_util import Tracer, run_btc


@pytest.fixture(autouse=True)
def _uprobes():
    require_uprobes()


@pytest.mark.parametrize("kind", ["pie", "nopie"])
def test_uprobe_comm_and_arg0(cprogs, kind):
    exe = cprogs[kind]
    res = run_btc("--dialect", "bpftrace", "-c", f"{exe} 5", "-e",
                  f'uprobe:{exe}:f {{ printf("%s %d\\n", comm, arg0) }}')
    assert res.returncode == 0, res.stderr
    lines = [ln for ln in res.stdout.splitlines() if ln.startswith(exe.name[:15])]
    assert lines == [f"{exe.name[:15]} {i}" for i in range(5)], res.stdout


@pytest.mark.parametrize("kind", ["pie", "nopie"])
def test_uretprobe_retval(cprogs, kind):
    exe = cprogs[kind]
    res = run_btc("--dialect", "bpftrace", "-c", f"{exe} 4", "-e",
                  f'uretprobe:{exe}:f {{ printf("r=%d\\n", retval) }}')
    assert res.returncode == 0, res.stderr
    assert [ln for ln in res.stdout.splitlines() if ln.startswith("r=")] == \
        ["r=1", "r=3", "r=5", "r=7"]


def test_uprobe_library_name(cprogs):
    exe = cprogs["nopie"]
    res = run_btc("--dialect", "bpftrace", "-c", f"{exe} 3 1000", "-e",
                  f'uprobe:libc:usleep /comm == "{exe.name}"/ {{ @[arg0] = count() }}')
    assert res.returncode == 0, res.stderr
    assert "@[1000]: 3" in res.stdout, res.stdout


def test_uprobe_pid_filter(cprogs):
    exe = cprogs["pie"]
    procs = [subprocess.Popen([str(exe), "1000000", "2000"], stdout=subprocess.PIPE)
             for _ in range(2)]
    try:
        for p in procs:
            p.stdout.readline()  # running
        target = procs[0].pid
        tracer = Tracer("--dialect", "bpftrace", "-p", str(target), "-e",
                        f"uprobe:{exe}:f {{ @[pid] = count() }}")
        tracer.wait_attached()
        time.sleep(0.3)
        res = tracer.stop()
    finally:
        for p in procs:
            p.kill()
            p.wait()
    assert res.returncode == 0, res.stderr
    assert f"@[{target}]: " in res.stdout, res.stdout
    assert f"@[{procs[1].pid}]" not in res.stdout, res.stdout
