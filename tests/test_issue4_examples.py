"""The ports of OpenBSD's /usr/share/btrace examples (examples/kprofile.bt, uprofile.bt,
runqlat.bt), each run for about a second under load this test makes, output shape checked."""
from __future__ import annotations

import os
import re
import subprocess
import time

import pytest

from kernel import require_bpf
from run_util import Tracer

EXAMPLES = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "examples")
BUSY = "while :; do cat /proc/self/stat >/dev/null; done"  # user and kernel time, forks


@pytest.fixture(autouse=True)
def _bpf():
    require_bpf()


def _run_with_load(script: str, *args: str, seconds: float = 1.5, load: str = BUSY):
    busy = subprocess.Popen(["sh", "-c", load])
    try:
        tracer = Tracer(os.path.join(EXAMPLES, script), *[a.format(busy=busy.pid) for a in args])
        tracer.wait_attached()
        time.sleep(seconds)
        res = tracer.stop()
    finally:
        busy.kill()
        busy.wait()
    assert res.returncode == 0, res.stderr
    return res.stdout


def test_kprofile_counts_kernel_stacks():
    out = _run_with_load("kprofile.bt")
    # btrace stack keys: one frame a line (symbol+0xoff), then "kernel"
    entries = re.findall(r"^@\[\n((?:.*\n)*?)\]: (\d+)$", out, re.M)
    assert entries, out
    frames = [ln for body, _ in entries for ln in body.splitlines()]
    assert any(re.fullmatch(r"[A-Za-z_][\w.]*\+0x[0-9a-f]+", f) for f in frames), out
    assert sum(int(n) for _, n in entries) >= 10


def test_uprofile_counts_user_stacks_of_one_process():
    out = _run_with_load("uprofile.bt", "{busy}", load="while :; do :; done")
    entries = re.findall(r"^@\[\n((?:.*\n)*?)\]: (\d+)$", out, re.M)
    assert entries, out
    assert all("userland" in body for body, _ in entries), out
    assert sum(int(n) for _, n in entries) >= 20  # one busy thread at 100 Hz for 1.5 s


def test_runqlat_prints_a_histogram_every_second():
    load = "while :; do sleep 0.001; done"  # wake-ups: threads wait on a run queue
    out = _run_with_load("runqlat.bt", seconds=2.2, load=load)
    blocks = re.findall(r"^\d\d:\d\d:\d\d  Run queue latency \(us\):\n@dist_usec:\n"
                        r"((?:\[.*\n)+)Max run queue latency: (\d+) ms$", out, re.M)
    assert len(blocks) >= 2, out
    for hist, _ in blocks:
        for line in hist.splitlines():
            assert re.fullmatch(r"\[\S+, \S+\)\s+\d+ \|@*\s*\|", line), line
