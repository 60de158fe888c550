"""The run lifecycle on the live kernel: signals, exit(), BEGIN/END-only programs, and that
every kernel object is released on every way out."""
from __future__ import annotations

import os
import signal
import time

import pytest

from kernel import require_bpf
from run_util import Tracer, run_btc


@pytest.fixture(autouse=True)
def _bpf():
    require_bpf()


def _kernel_objects() -> tuple[int, int]:
    """(0, number of maps named `m_lc*`). Other test runs may create BPF objects at the same
    time, so these programs name their maps `@lc...` and only those are counted."""
    from btc.runtime.kernel_objects import map_ids, map_name_by_id

    ours = [n for n in (map_name_by_id(i) for i in map_ids()) if n and n.startswith("m_lc")]
    return 0, len(ours)


def _settled(expected: tuple[int, int], timeout: float = 10.0) -> tuple[int, int]:
    """Map ids vanish after an RCU grace period: wait for the counts to come back."""
    deadline = time.monotonic() + timeout
    now = _kernel_objects()
    while now != expected and time.monotonic() < deadline:
        time.sleep(0.1)
        now = _kernel_objects()
    return now


def test_twenty_start_and_ctrl_c_cycles_leave_no_kernel_objects():
    before = _kernel_objects()
    for _ in range(20):
        t = Tracer("-e", "syscall:getpid:entry { @lc[comm] = count() } END { printf(\"end\\n\") }")
        t.wait_attached()
        os.getpid()
        res = t.stop(signal.SIGINT)
        assert res.returncode == 0, res.stderr
        assert res.stdout.endswith("end\n") or "end\n" in res.stdout
    assert _settled(before) == before


def test_sigterm_runs_end_prints_maps_and_exits_zero():
    t = Tracer("-e", "syscall:getppid:entry { @calls = count(); @[comm] = count() } "
                     "END { printf(\"bye\\n\") }")
    t.wait_attached()
    for _ in range(5):
        os.getppid()
    res = t.stop(signal.SIGTERM)
    assert res.returncode == 0, res.stderr
    assert "bye\n" in res.stdout
    assert "@[python" in res.stdout or "@[" in res.stdout


def test_btrace_ctrl_c_prints_a_newline_before_the_maps():
    t = Tracer("-e", "syscall:getppid:entry { @[pid] = count() }")
    t.wait_attached()
    os.getppid()
    res = t.stop(signal.SIGINT)
    assert res.stdout.startswith("\n"), repr(res.stdout)
    assert f"@[{os.getpid()}]: 1\n" in res.stdout


def test_exit_in_a_probe_ends_the_run_and_runs_end():
    t = Tracer("-e", "syscall:getppid:entry { printf(\"hit\\n\"); exit(); printf(\"never\\n\") } "
                     "END { printf(\"end\\n\") }")
    t.wait_attached()
    os.getppid()
    res = t.proc.communicate(timeout=30)
    assert t.proc.returncode == 0, res[1]
    assert res[0] == "hit\nend\n"


def test_begin_end_only_program_exits_by_itself_in_btrace():
    before = _kernel_objects()
    res = run_btc("-e", "BEGIN { @lcb = 1; printf(\"a\\n\") } END { printf(\"b\\n\") }",
                  timeout=30)
    assert (res.returncode, res.stdout, res.stderr) == (0, "a\nb\n", "")
    assert _settled(before) == before


def test_bpftrace_exit_code_is_the_process_status():
    res = run_btc("--dialect", "bpftrace", "-q", "-e", "BEGIN { exit(3); }", timeout=30)
    assert res.returncode == 3, res.stderr


def test_compile_error_leaves_no_kernel_objects_and_no_traceback():
    before = _kernel_objects()
    res = run_btc("-e", "BEGIN { @x = 1+2; }")
    assert res.returncode != 0
    assert "Traceback" not in res.stderr
    assert _settled(before) == before
