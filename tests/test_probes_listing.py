"""`btc list`: entries per dialect, glob filtering, verbose fields, speed."""
from __future__ import annotations

import subprocess
import sys

import pytest

from btc.diagnostics import BtcError
from btc.probes import _tracefs, list_probes


@pytest.fixture(scope="module", autouse=True)
def tracefs():
    try:
        return _tracefs.tracefs_root()
    except BtcError as e:
        pytest.skip(f"tracefs unavailable: {e.message}")


def test_btrace_listing():
    out = list_probes(None, "btrace")
    assert out[:4] == ["BEGIN", "END", "profile:hz:97", "interval:hz:1"]
    assert "syscall:read:entry" in out and "syscall:read:return" in out
    assert "tracepoint:sched:sched_switch" in out
    # syscall tracepoints appear once, as syscall:NAME:…
    assert not any(e.startswith("tracepoint:syscalls:") for e in out)
    assert not any(e.startswith(("software:", "rawtracepoint:", "uprobe:")) for e in out)
    assert len(out) == len(set(out))


def test_bpftrace_listing():
    out = list_probes(None, "bpftrace")
    assert "tracepoint:syscalls:sys_enter_read" in out
    assert "software:cpu-clock:" in out and "hardware:cpu-cycles:" in out
    assert "rawtracepoint:sched_switch" in out
    assert not any(e.startswith("syscall:") for e in out)
    tps = [e for e in out if e.startswith("tracepoint:")]
    assert tps == sorted(tps) and len(tps) == len(_tracefs.available_events())


def test_software_listing_is_bpftraces():
    names = [e.split(":")[1] for e in list_probes("software:*", "bpftrace")]
    assert names == ["alignment-faults", "bpf-output", "context-switches", "cpu-clock",
                     "cpu-migrations", "dummy", "emulation-faults", "major-faults",
                     "minor-faults", "page-faults", "task-clock"]


@pytest.mark.parametrize("pattern,dialect,expected", [
    ("syscall:read:*", "btrace", ["syscall:read:entry", "syscall:read:return"]),
    ("tracepoint:sched:sched_switch", "bpftrace", ["tracepoint:sched:sched_switch"]),
    ("sched:sched_switch", "bpftrace", ["tracepoint:sched:sched_switch"]),
    ("tracepoint:syscalls:sys_enter_getpid", "bpftrace", ["tracepoint:syscalls:sys_enter_getpid"]),
    ("BEGIN", "btrace", ["BEGIN"]),
    ("nothing:matches:this*", "bpftrace", []),
])
def test_patterns(pattern, dialect, expected):
    assert list_probes(pattern, dialect) == expected


def test_glob_classes():
    out = list_probes("tracepoint:sched:sched_[sw]*", "bpftrace")
    assert "tracepoint:sched:sched_switch" in out and "tracepoint:sched:sched_wakeup" in out
    assert all(e.startswith(("tracepoint:sched:sched_s", "tracepoint:sched:sched_w")) for e in out)


def test_verbose_tracepoint_fields():
    out = list_probes("tracepoint:sched:sched_switch", "bpftrace", verbose=True)
    assert out[0] == "tracepoint:sched:sched_switch"
    assert "    char prev_comm[16]" in out and "    pid_t next_pid" in out
    assert not any("common_" in line for line in out)


def test_verbose_btrace_syscall_hides_syscall_nr():
    out = list_probes("syscall:read:entry", "btrace", verbose=True)
    assert out == ["syscall:read:entry", "    unsigned int fd", "    char * buf", "    size_t count"]


def test_listing_is_fast():
    code = ("import time; t = time.perf_counter(); from btc.probes import list_probes; "
            "n = len(list_probes(None, 'bpftrace')) + len(list_probes(None, 'btrace')); "
            "print(time.perf_counter() - t)")
    best = min(float(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                                    check=True).stdout) for _ in range(3))
    assert best < 0.5, best
