"""cgroupid(path) on the live kernel: resolved where the object loads (a .rodata slot), equal
to the id bpf_get_current_cgroup_id() reports, so `/cgroup == cgroupid("...")/` filters."""
from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import uuid

import pytest

from kernel import require_bpf
from run_util import Tracer, run_btc


def _cgroup2_root() -> str:
    with open("/proc/mounts") as f:
        for line in f:
            dev, where, fstype = line.split()[:3]
            if fstype == "cgroup2":
                return where
    where = tempfile.mkdtemp(prefix="btc-cg2-")
    if subprocess.run(["mount", "-t", "cgroup2", "none", where]).returncode != 0:
        pytest.skip("no cgroup2 file system here and it cannot be mounted")
    return where


@pytest.fixture
def cgroup():
    require_bpf()
    path = os.path.join(_cgroup2_root(), f"btc-test-{uuid.uuid4().hex[:8]}")
    os.mkdir(path)
    try:
        yield path
    finally:
        os.rmdir(path)


def _bt(prog: str, *extra: str):
    return run_btc("--dialect", "bpftrace", *extra, "-e", prog)


def test_cgroupid_is_the_cgroup_directory_id(cgroup):
    root = os.path.dirname(cgroup)
    res = _bt(f'BEGIN {{ printf("%lu %lu\\n", cgroupid("{cgroup}"), cgroupid("{root}")); '
              f'@m[cgroupid("{cgroup}")] = 1; exit(); }}')
    assert res.returncode == 0, res.stderr
    first = res.stdout.splitlines()[0 if not res.stdout.startswith("Attaching") else 1]
    assert first.split() == [str(os.stat(cgroup).st_ino), str(os.stat(root).st_ino)]
    assert f"@m[{os.stat(cgroup).st_ino}]: 1" in res.stdout


_CALLS = "import os, sys\nfor _ in range(int(sys.argv[1])): os.getppid()\n"


def _calls_in(cgroup: str | None, n: int) -> None:
    """n getppid() calls from a child process, moved into `cgroup` before it starts them."""
    def enter():
        if cgroup:
            with open(os.path.join(cgroup, "cgroup.procs"), "w") as f:
                f.write(str(os.getpid()))
    subprocess.run([sys.executable, "-S", "-c", _CALLS, str(n)], check=True, preexec_fn=enter)


def test_filter_on_cgroupid_counts_only_that_cgroup(cgroup):
    t = Tracer("--dialect", "bpftrace", "-e",
               f'tracepoint:syscalls:sys_enter_getppid /cgroup == cgroupid("{cgroup}")/ '
               '{ @c = count(); }')
    t.wait_attached()
    _calls_in(None, 300)
    _calls_in(cgroup, 1234)
    _calls_in(None, 200)
    res = t.stop()
    assert res.returncode == 0, res.stderr
    assert "@c: 1234" in res.stdout


def test_object_resolves_the_path_when_it_loads(cgroup, tmp_path):
    """Compiled before the cgroup exists, run after: the id is looked up at load time."""
    later = cgroup + "-later"
    obj = tmp_path / "cg.o"
    res = run_btc("compile", "--dialect", "bpftrace", "-o", str(obj), "-e",
                  f'BEGIN {{ printf("%lu\\n", cgroupid("{later}")); exit(); }}')
    assert res.returncode == 0, res.stderr
    missing = run_btc("run", str(obj))
    assert missing.returncode != 0
    assert missing.stderr.strip().splitlines() == [
        f'ERROR: Failed to get `cgroupid` for path: "{later}": No such file or directory']
    os.mkdir(later)
    try:
        res = run_btc("run", str(obj))
        assert res.returncode == 0, res.stderr
        assert res.stdout.split()[-1] == str(os.stat(later).st_ino)
    finally:
        os.rmdir(later)


def test_cgroupid_needs_a_literal_path():
    require_bpf()
    res = _bt('BEGIN { print(cgroupid(comm)); exit(); }')
    assert res.returncode != 0
    assert "cgroupid() expects a cgroup path as a string literal" in res.stderr
    assert "Traceback" not in res.stderr
