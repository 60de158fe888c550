"""bpftrace builtins username, ctx and numaid, and whole integer-array tracepoint fields,
run on the kernel with exact output."""
from __future__ import annotations

import os
import pwd
import shutil
import sys

import pytest

from kernel import require_bpf
from run_util import run_btc


def _bt(prog: str, *extra: str):
    require_bpf()
    return run_btc("--dialect", "bpftrace", *extra, "-e", prog)


def _lines(res) -> list[str]:
    assert res.returncode == 0, res.stderr
    return [ln for ln in res.stdout.splitlines() if ln and not ln.startswith("Attaching")]


def test_username_prints_the_passwd_name_everywhere():
    name = pwd.getpwuid(os.getuid()).pw_name
    res = _bt('BEGIN { printf("<%s>\\n", username); print(username); @u[username] = 1; '
              '@v = username; @t = (username, 5); exit(); }')
    assert _lines(res) == [f"<{name}>", name, f"@t: ({name}, 5)", f"@u[{name}]: 1", f"@v: {name}"]


def test_username_of_a_uid_without_passwd_entry_is_empty():
    if shutil.which("setpriv") is None:
        pytest.skip("setpriv is needed to run a child under another uid")
    uid = 54321
    with pytest.raises(KeyError):
        pwd.getpwuid(uid)
    res = _bt(f'tracepoint:sched:sched_process_exec /uid == {uid}/ '
              '{ printf("<%s> %d\\n", username, uid); exit(); }',
              "-c", f"setpriv --reuid {uid} /bin/true")
    assert f"<> {uid}" in _lines(res)


def test_username_in_printf_d_is_a_type_error():
    res = _bt('BEGIN { printf("%d\\n", username); }')
    assert res.returncode != 0
    assert "printf: %d specifier expects a value of type integer (string supplied)" in res.stderr


def test_ctx_is_the_context_pointer():
    # pointer arithmetic and comparisons pass the verifier; `&`, `*`, ... on it do not
    res = _bt('profile:hz:99 { printf("%d %d %d\\n", ctx != 0, ctx > 0xffff000000000000, '
              '(ctx + 16) - ctx); exit(); }')
    assert _lines(res) == ["1 1 16"]
    # btc runs BEGIN with an empty context (BPF_PROG_TEST_RUN), so ctx is 0 there
    assert _lines(_bt('BEGIN { printf("%d\\n", ctx); exit(); }')) == ["0"]


def test_ctx_is_refused_in_tracepoints_like_bpftrace():
    res = _bt('tracepoint:sched:sched_switch { print(ctx); }')
    assert res.returncode != 0
    assert "ERROR: Use args instead of ctx in tracepoint" in res.stderr


def test_numaid_is_an_online_node():
    with open("/sys/devices/system/node/online") as f:
        spans = f.read().strip()
    online = set()
    for part in spans.split(","):
        lo, _, hi = part.partition("-")
        online.update(range(int(lo), int(hi or lo) + 1))
    res = _bt('BEGIN { printf("%d\\n", numaid); exit(); }')
    assert int(_lines(res)[0]) in online


FIRE = """import ctypes
libc = ctypes.CDLL(None)
libc.syscall(ctypes.c_long(39), *[ctypes.c_ulong(v) for v in (1, 2, 3, 4, 5, 2**64 - 1)])
"""


def test_whole_integer_array_field(tmp_path):
    """raw_syscalls:sys_enter has `unsigned long args[6]`; getpid(1, 2, ...) through libc's
    syscall() fills all six registers."""
    script = tmp_path / "fire.py"
    script.write_text(FIRE)
    res = _bt('tracepoint:raw_syscalls:sys_enter /pid == cpid && args.id == 39/ { '
              'print(args.args); $a = args.args; print(($a, args.args[1])); '
              '@v = args.args; @k[args.args] = count(); exit(); }',
              "-c", f"{sys.executable} {script}")
    arr = "[1,2,3,4,5,18446744073709551615]"
    assert _lines(res) == [arr, f"({arr}, 2)", f"@k[{arr}]: 1", f"@v: {arr}"]


def test_whole_arrays_are_not_strings():
    res = _bt('tracepoint:raw_syscalls:sys_enter { printf("%s\\n", args.args); }')
    assert res.returncode != 0
    assert "printf: %s specifier expects a value of type string (array supplied)" in res.stderr
    res = _bt('tracepoint:raw_syscalls:sys_enter { if (args.args) { exit(); } }')
    assert res.returncode != 0
    assert "cannot be used as a condition" in res.stderr
