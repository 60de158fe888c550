"""Syscall number tables and the tracepoint <-> syscall name mapping."""
from __future__ import annotations

import platform

import pytest

from btc.diagnostics import BtcError
from btc.probes import _tracefs, syscall_number, syscall_table, syscall_tracepoints
from btc.probes.syscalls import table_name, tracepoint_name


def test_x86_64_numbers():
    t = syscall_table("x86_64")
    assert (t["read"], t["write"], t["open"], t["getpid"], t["exit"], t["bpf"]) == (0, 1, 2, 39, 60, 321)
    assert t["perf_event_open"] == 298 and t["exit_group"] == 231


def test_aarch64_numbers():
    t = syscall_table("aarch64")
    assert (t["read"], t["write"], t["getpid"], t["openat"], t["bpf"]) == (63, 64, 172, 56, 280)
    assert t["perf_event_open"] == 241
    assert t["fstat"] == 80 and t["newfstatat"] == 79  # through __NR3264_* indirections
    assert "open" not in t  # aarch64 has only openat


def test_tables_are_consistent():
    for machine in ("x86_64", "aarch64"):
        t = syscall_table(machine)
        assert len(t) > 300
        assert len(set(t.values())) == len(t), "two names share a number"
        assert t["cachestat"] == 451 and t["file_setattr"] == 469  # post-6.1 additions


def test_host_table_is_default():
    if platform.machine() in ("x86_64", "aarch64"):
        assert syscall_table() is syscall_table(platform.machine())


def test_renamed_tracepoints():
    assert table_name("newstat", "x86_64") == "stat"
    assert table_name("sendfile64", "x86_64") == "sendfile"
    assert table_name("umount", "x86_64") == "umount2"
    assert syscall_number("newfstat", "x86_64") == 5
    assert syscall_number("no_such_syscall", "x86_64") is None


@pytest.fixture(scope="module")
def tracefs():
    try:
        return _tracefs.tracefs_root()
    except BtcError as e:
        pytest.skip(f"tracefs unavailable: {e.message}")


def test_syscall_tracepoints(tracefs):
    names = syscall_tracepoints()
    assert "read" in names and "openat" in names and list(names) == sorted(names)
    assert tracepoint_name("stat") in (None, "newstat", "stat")
    if platform.machine() in ("x86_64", "aarch64"):
        # every syscall tracepoint except arch-specific extras has a number
        missing = [n for n in names if syscall_number(n) is None]
        assert len(missing) <= 3, missing


def test_probes_is_a_leaf_package():
    import subprocess
    import sys

    code = ("import sys, btc.probes; "
            "print(sorted(m for m in sys.modules if m.split('.')[0] in ('btc', 'elftools', 'lark', 'llvmlite') "
            "and not m.startswith('btc.probes')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "['btc', 'btc.diagnostics', 'btc.records']"  # records: a leaf too
