"""`-l` as bpftrace takes it (after other options, `-lv`) and uprobe listing per binary."""
from __future__ import annotations

import shutil
import subprocess

import pytest

from run_util import run_btc


def test_dash_l_after_other_options():
    r = run_btc("--dialect", "bpftrace", "-l", "tracepoint:syscalls:sys_enter_openat")
    assert (r.returncode, r.stdout) == (0, "tracepoint:syscalls:sys_enter_openat\n"), r.stderr


def test_dash_lv_shows_the_fields():
    r = run_btc("--dialect", "bpftrace", "-lv", "tracepoint:syscalls:sys_enter_openat")
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert lines[0] == "tracepoint:syscalls:sys_enter_openat"
    assert "    const char * filename" in lines


def test_btrace_dash_l_lists_syscall_probes():
    r = run_btc("-l", "syscall:openat:*")
    assert r.stdout == "syscall:openat:entry\nsyscall:openat:return\n", r.stderr


def test_uprobe_listing_is_sorted_function_symbols():
    r = run_btc("--dialect", "bpftrace", "-l", "uprobe:/bin/bash:read*")
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert lines and lines == sorted(lines)
    assert "uprobe:/bin/bash:read_command" in lines
    assert all(ln.startswith("uprobe:/bin/bash:read") for ln in lines)


def test_uretprobe_listing_resolves_a_library_name():
    r = run_btc("--dialect", "bpftrace", "-l", "uretprobe:libc:malloc")
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith("uretprobe:/") and r.stdout.endswith("libc.so.6:malloc\n")


@pytest.mark.parametrize("pattern", ["uprobe:/bin/bash:read*", "uretprobe:libc:mall*"])
def test_uprobe_listing_matches_bpftrace(pattern):
    if shutil.which("bpftrace") is None:
        pytest.skip("bpftrace is not installed")
    ref = subprocess.run(["bpftrace", "-l", pattern], capture_output=True, text=True, timeout=60)
    r = run_btc("--dialect", "bpftrace", "-l", pattern)
    assert r.stdout == ref.stdout


def test_uprobe_listing_of_a_missing_binary_is_one_line():
    r = run_btc("--dialect", "bpftrace", "-l", "uprobe:/no/such/binary:x")
    assert r.returncode != 0 and r.stdout == ""
    assert r.stderr == "ERROR: uprobe target file '/no/such/binary' does not exist or is not executable\n"
