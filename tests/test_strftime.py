"""bpftrace strftime(fmt, nsecs), strerror(n) and pton(addr): values known to user space."""
from __future__ import annotations

import re
import shutil
import subprocess
import time

import pytest

from ir_util import messages
from kernel import require_bpf
from run_util import run_btc

PROG = ('BEGIN { printf("%s|\\n", strftime("%Y-%m-%d %H:%M:%S.%f", nsecs)); '
        'print(strftime("%%Y=%Y", nsecs)); @t[1] = strftime("%Y", nsecs); '
        '$x = strftime("%m", nsecs); printf("[%s]\\n", $x); exit(); }')


def test_strftime_in_printf_print_maps_and_locals():
    require_bpf()
    before = time.time()
    r = run_btc("--dialect", "bpftrace", "-e", PROG)
    after = time.time()
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert lines[0] == "Attaching 1 probe..."
    m = re.fullmatch(r"(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d)\.(\d{6})\|", lines[1])
    assert m, r.stdout
    stamp = time.mktime(time.strptime(m.group(1), "%Y-%m-%d %H:%M:%S")) + int(m.group(2)) / 1e6
    assert before - 1 <= stamp <= after + 1  # boot-relative nanoseconds became wall time
    year, month = time.strftime("%Y"), time.strftime("%m")
    assert lines[2] == f"%Y={year}"
    assert lines[3] == f"[{month}]"
    assert r.stdout.endswith(f"@t[1]: {year}\n")


def test_same_text_as_bpftrace():
    require_bpf()
    if shutil.which("bpftrace") is None:
        pytest.skip("bpftrace is not installed")
    prog = 'BEGIN { printf("%s\\n", strftime("%Y-%m-%d", nsecs)); @t[1] = strftime("%Y", nsecs); exit(); }'
    ref = subprocess.run(["bpftrace", "-e", prog], capture_output=True, text=True, timeout=60)
    r = run_btc("--dialect", "bpftrace", "-e", prog)
    assert r.stdout == ref.stdout


def test_strftime_argument_errors():
    assert "strftime() expects a format string literal as its first argument" in messages(
        'BEGIN { $f = "%H"; printf("%s", strftime($f, nsecs)); }', "bpftrace")
    assert "strftime() expects an integer number of nanoseconds (string[3] provided)" in messages(
        'BEGIN { printf("%s", strftime("%H", "ab")); }', "bpftrace")
    assert any("%d specifier expects a value of type integer" in m for m in messages(
        'BEGIN { printf("%d", strftime("%H", nsecs)); }', "bpftrace"))


def test_strerror_prints_the_errno_message():
    """bpftrace strerror(n): the value is the errno, its text comes from user space."""
    require_bpf()
    prog = ('BEGIN { printf("%s|%s\\n", strerror(2), strerror(-1 * -13)); print(strerror(1)); '
            '$e = strerror(4); printf("[%s]\\n", $e); exit(); }')
    r = run_btc("--dialect", "bpftrace", "-e", prog)
    assert r.stdout == ("Attaching 1 probe...\nNo such file or directory|Permission denied\n"
                        "Operation not permitted\n[Interrupted system call]\n\n\n"), r.stderr
    assert "strerror() expects an integer errno (string[3] provided)" in messages(
        'BEGIN { printf("%s", strerror("ab")); }', "bpftrace")


def test_pton_gives_the_address_bytes():
    """bpftrace pton(): u8[4] or u8[16], usable by ntop() and printed as an array."""
    require_bpf()
    prog = ('BEGIN { printf("%s %s %s\\n", ntop(2, pton("127.0.0.1")), ntop(10, pton("::1")), '
            'ntop(pton("1.2.3.4"))); print(pton("10.1.2.3")); exit(); }')
    r = run_btc("--dialect", "bpftrace", "-e", prog)
    assert r.stdout == "Attaching 1 probe...\n127.0.0.1 ::1 1.2.3.4\n[10,1,2,3]\n\n\n", r.stderr
    assert "pton() expects an IPv4 or IPv6 address ('1.2.3' is neither)" in messages(
        'BEGIN { $x = pton("1.2.3"); }', "bpftrace")
