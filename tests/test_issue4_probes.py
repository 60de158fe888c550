"""Issue 4 probes on the live kernel: wildcards (one program per match, `probe` per match,
a cap), rawtracepoint, software, and one-line errors for what this kernel lacks."""
from __future__ import annotations

import os
import re

import pytest

from kernel import require_bpf
from run_util import run_btc


def _run(dialect: str, prog: str, timeout: float = 60):
    require_bpf()
    return run_btc("--dialect", dialect, "-e", prog, timeout=timeout)


@pytest.mark.parametrize("dialect", ["btrace", "bpftrace"])
def test_wildcard_tracepoint_gives_each_match_its_probe_name(dialect):
    res = _run(dialect, 'tracepoint:sched:sched_wak* { @[probe] = count(); } '
                        'interval:ms:500 { exit(); }')
    assert res.returncode == 0, res.stderr
    names = set(re.findall(r"^@\[(tracepoint:sched:sched_wak\w+)\]", res.stdout, re.M))
    assert "tracepoint:sched:sched_waking" in names and "tracepoint:sched:sched_wakeup" in names


def test_wildcard_syscalls_with_a_filter():
    require_bpf()
    res = run_btc("--dialect", "bpftrace", "-c", "cat /etc/hostname", "-e",
                  'tracepoint:syscalls:sys_enter_read* /pid == cpid/ { @[probe] = count(); }')
    assert res.returncode == 0, res.stderr
    assert re.search(r"^@\[tracepoint:syscalls:sys_enter_read\]: [1-9]", res.stdout, re.M), res.stdout


def test_too_many_matches_is_one_clear_error():
    res = _run("bpftrace", 'tracepoint:*:* { @ = count(); }')
    assert res.returncode != 0
    assert re.search(r"matches [0-9]+ probes; btc attaches one program per match and allows "
                     r"at most 512", res.stderr), res.stderr


@pytest.mark.parametrize("dialect", ["bpftrace"])  # btrace has no rawtracepoint provider
def test_rawtracepoint_args(dialect):
    # sched_process_exec(struct task_struct *p, pid_t old_pid, struct linux_binprm *bprm)
    prog = ('rawtracepoint:sched_process_exec { printf("%d %d\\n", arg0 != 0, arg1 == pid); '
            'exit(); }')
    require_bpf()
    res = run_btc("--dialect", dialect, "-c", "/bin/true", "-e", prog)
    assert res.returncode == 0, res.stderr
    assert "1 1" in res.stdout.splitlines(), res.stdout


# The test makes its own page faults (touching 32 MiB) rather than waiting for the system's.
_FAULTER = "python3 -c 'b = bytearray(32 << 20); b[::4096] = bytes(len(b) // 4096)'"


def test_software_page_faults_perf_event():
    require_bpf()
    res = run_btc("--dialect", "bpftrace", "-c", _FAULTER, "-e",
                  'software:page-faults:1 /pid == cpid/ { @ = count(); }')
    assert res.returncode == 0, res.stderr
    found = re.search(r"^@: ([0-9]+)$", res.stdout, re.M)
    assert found and int(found.group(1)) >= 1000, res.stdout


def test_software_cpu_clock():
    res = _run("bpftrace", 'software:cpu-clock:1000000 { @ = count(); if (@ > 5) { exit(); } }')
    assert res.returncode == 0, res.stderr


def _one_line_error(res) -> str:
    lines = [ln for ln in res.stderr.splitlines() if ln and ln != "Attaching 1 probe..."]
    assert res.returncode != 0 and len(lines) == 1, res.stderr
    assert "Traceback" not in res.stderr
    return lines[0]


@pytest.mark.skipif(os.path.exists("/sys/bus/event_source/devices/kprobe"),
                    reason="this kernel has kprobes")
@pytest.mark.parametrize("probe", ["kprobe:vfs_read", "kretprobe:vfs_read"])
def test_kprobe_missing_is_one_line(probe):
    line = _one_line_error(_run("bpftrace", f'{probe} {{ exit(); }}'))
    assert "this kernel has no kprobes" in line and "probe types that work here" in line


@pytest.mark.parametrize("probe", ["fentry:vfs_read", "fexit:vfs_read"])
def test_fentry_is_one_line(probe):
    line = _one_line_error(_run("bpftrace", f'{probe} {{ exit(); }}'))
    assert "fentry/fexit" in line and "probe types that work here" in line


def test_hardware_without_pmu_is_one_line():
    devs = os.listdir("/sys/bus/event_source/devices")
    if "cpu" in devs or "cpu_core" in devs:
        pytest.skip("this machine has a hardware PMU")
    line = _one_line_error(_run("bpftrace", 'hardware:cpu-cycles:100000 { exit(); }'))
    assert "no hardware PMU" in line and "software" in line


def test_usdt_is_a_clear_error():
    res = _run("bpftrace", 'usdt:/bin/true:probe { exit(); }')
    assert res.returncode != 0 and "Could not find usdt probe *:probe in /" in res.stderr
