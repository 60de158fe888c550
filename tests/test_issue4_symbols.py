"""Issue 4 on the live kernel: ksym/usym/kaddr/uaddr, func, kstack/ustack modes."""
from __future__ import annotations

import re
import subprocess
import time

import pytest

from cprog_util import cprogs  # noqa: F401  (fixture)
from kernel import require_bpf, require_path
from run_util import run_btc


def _bt(prog: str, *extra: str):
    require_bpf()
    return run_btc("--dialect", "bpftrace", *extra, "-e", prog)


def test_ksym_of_kaddr_in_printf_print_and_maps():
    res = _bt('BEGIN { printf("%s|%s\\n", ksym(kaddr("vfs_read")), ksym(kaddr("vfs_read") + 3));'
              ' @k[ksym(kaddr("vfs_write"))] = count(); @v = ksym(kaddr("vfs_read")); exit(); }')
    assert res.returncode == 0, res.stderr
    assert "vfs_read|vfs_read" in res.stdout
    assert "@k[vfs_write]: 1" in res.stdout
    assert "@v: vfs_read" in res.stdout


def test_kaddr_is_resolved_at_load_time_and_matches_kallsyms():
    want = None
    with open("/proc/kallsyms") as f:
        for line in f:
            a, _, name = line.split()[:3]
            if name == "vfs_read":
                want = int(a, 16)
                break
    res = _bt('BEGIN { printf("%lx\\n", kaddr("vfs_read")); exit(); }')
    assert res.returncode == 0, res.stderr
    if want:
        assert int(res.stdout.split()[-1], 16) == want


def test_kaddr_unknown_symbol_is_one_error_line():
    res = _bt('BEGIN { print(kaddr("no_such_symbol_btc")); exit(); }')
    assert res.returncode != 0
    assert "kaddr: unknown kernel symbol 'no_such_symbol_btc'" in res.stderr
    assert "Traceback" not in res.stderr


def test_func_outside_function_probes_is_an_error():
    res = _bt('BEGIN { print(func); exit(); }')
    assert res.returncode != 0
    assert "func is only available in uprobe" in res.stderr


def test_ksym_rejects_strings():
    res = _bt('BEGIN { print(ksym("x")); exit(); }')
    assert res.returncode != 0 and "ksym() expects an integer address" in res.stderr


def test_usym_uaddr_and_func_on_a_uprobe(cprogs):
    require_path("/sys/bus/event_source/devices/uprobe/type", "the uprobe PMU")
    exe = cprogs["nopie"]
    proc = subprocess.Popen([str(exe), "200", "20000"], stdout=subprocess.DEVNULL)
    try:
        time.sleep(0.1)
        res = _bt(f'uprobe:{exe}:g {{ printf("%s %s\\n", func, usym(uaddr("f"))); '
                  f'@[usym(uaddr("f"))] = count(); if (@[usym(uaddr("f"))] >= 3) {{ exit(); }} }}')
    finally:
        proc.kill()
        proc.wait()
    assert res.returncode == 0, res.stderr
    assert "g f" in res.stdout.splitlines()
    assert re.search(r"^@\[f\]: [0-9]+$", res.stdout, re.M), res.stdout


def test_uaddr_outside_uprobes_is_an_error():
    res = _bt('BEGIN { print(uaddr("f")); exit(); }')
    assert res.returncode != 0 and "uaddr() can only be used in uprobe" in res.stderr


@pytest.mark.parametrize("mode,frame", [("perf", r"^\t[0-9a-f]+ \S+\+\d+$"),
                                         ("bpftrace", r"^        \S+\+\d+$")])
def test_kstack_modes_and_limit(mode, frame):
    require_bpf()
    busy = subprocess.Popen(["sh", "-c", "while :; do cat /proc/self/stat >/dev/null; done"])
    try:
        res = _bt(f'profile:hz:199 /pid != 0/ {{ @[kstack({mode}, 2)] = count(); '
                  f'@n = count(); if (@n > 40) {{ exit(); }} }}')
    finally:
        busy.kill()
        busy.wait()
    assert res.returncode == 0, res.stderr
    frames = [ln for ln in res.stdout.splitlines() if re.match(frame, ln)]
    assert frames, res.stdout
    # no stack shows more than the limit of 2 frames
    for block in res.stdout.split("@[")[1:]:
        assert len([ln for ln in block.splitlines() if re.match(frame, ln)]) <= 2


def test_kstack_bad_mode_is_an_error():
    res = _bt('profile:hz:99 { @[kstack(fancy)] = count(); }')
    assert res.returncode != 0 and "expected a stack mode" in res.stderr
