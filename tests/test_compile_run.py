"""`btc run prog.o`: the same output as `btc run prog.bt`, without importing the compiler."""
from __future__ import annotations

import subprocess
import sys

import pytest

from kernel import require_bpf
from run_util import BTC, btc_env, run_btc

FORBIDDEN = ("llvmlite", "lark", "btc.parser", "btc.ir", "btc.backend_bpf", "btc.driver",
             "btc.probes", "elftools")

CASES = {
    "maps.bt": ("btrace", [],
                'BEGIN { @a["x"] = 3; @h = hist(5); @h = hist(100); @t[1, "k"] = 2; '
                'printf("%d %s\\n", $1, $2); exit() }\nEND { printf("end\\n") }\n',
                ["42", "foo"]),
    "aggs.bpf.bt": ("bpftrace", [],
                    'BEGIN { @c[1, "a"] = count(); @l = lhist(5, 0, 10, 1); @s = stats(7); '
                    'printf("%s %d\\n", str($1), $#); exit() }\n',
                    ["hello"]),
    "child.bpf.bt": ("bpftrace", ["-c", "cat /etc/hostname"],
                     'tracepoint:syscalls:sys_enter_openat /pid == cpid/ '
                     '{ @[comm] = count(); @flags = lhist(args.flags & 0xff, 0, 256, 16) }\n',
                     []),
    "syscall.bt": ("btrace", ["-c", "cat /etc/hostname"],
                   'syscall:openat:entry /pid == $1/ { @n = count() }\n'
                   'syscall:read:return /pid == $1/ { @r = hist(retval) }\n'
                   'BEGIN { printf("start\\n") }\n',
                   ["1"]),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_object_runs_like_its_source(tmp_path, name):
    require_bpf()
    dialect, opts, text, params = CASES[name]
    src = tmp_path / name
    src.write_text(text)
    obj = tmp_path / "prog.o"
    # btrace types $N by the word given when compiling: compile with the same words
    res = run_btc("compile", "--dialect", dialect, str(src), "-o", str(obj), *params)
    assert res.returncode == 0, res.stderr
    from_source = run_btc("run", "--dialect", dialect, *opts, str(src), *params)
    from_object = run_btc("run", *opts, str(obj), *params)
    assert from_source.returncode == 0, from_source.stderr
    assert (from_object.returncode, from_object.stdout, from_object.stderr) == \
        (from_source.returncode, from_source.stdout, from_source.stderr)
    assert from_source.stdout.strip()


_CHECK_IMPORTS = """
import sys
from btc import cli
code = cli.main(sys.argv[1:])
bad = sorted(m for m in sys.modules if m.split('.')[0] in {forbidden_roots}
             or any(m == f or m.startswith(f + '.') for f in {forbidden}))
print('IMPORTED', ' '.join(bad), file=sys.stderr)
sys.exit(code)
"""


def test_running_an_object_never_imports_the_compiler(tmp_path):
    require_bpf()
    src = tmp_path / "p.bpf.bt"
    src.write_text(CASES["child.bpf.bt"][2])
    obj = tmp_path / "p.o"
    assert run_btc("compile", "--dialect", "bpftrace", str(src), "-o", str(obj)).returncode == 0
    script = _CHECK_IMPORTS.format(forbidden_roots=set(f for f in FORBIDDEN if "." not in f),
                                   forbidden=set(FORBIDDEN))
    res = subprocess.run([sys.executable, "-c", script, "run", "-c", "cat /etc/hostname", str(obj)],
                         capture_output=True, text=True, env=btc_env(), timeout=60)
    assert res.returncode == 0, res.stderr
    assert "@[cat]:" in res.stdout
    imported = [line for line in res.stderr.splitlines() if line.startswith("IMPORTED")]
    assert imported == ["IMPORTED "], imported


def test_object_run_does_not_need_the_source(tmp_path):
    require_bpf()
    src = tmp_path / "gone.bt"
    src.write_text('BEGIN { printf("from %s\\n", "object"); exit() }\n')
    obj = tmp_path / "gone.o"
    assert run_btc("compile", str(src), "-o", str(obj)).returncode == 0
    src.unlink()
    res = subprocess.run(BTC + ["run", str(obj)], capture_output=True, text=True,
                         env=btc_env(), timeout=60, cwd="/")
    assert (res.returncode, res.stdout) == (0, "from object\n"), res.stderr


def test_object_reuses_its_parameters_typing(tmp_path):
    require_bpf()
    src = tmp_path / "p.bt"
    src.write_text('BEGIN { printf("%d %s\\n", $1, $2); exit() }\n')
    obj = tmp_path / "p.o"
    assert run_btc("compile", str(src), "-o", str(obj), "1", "word").returncode == 0
    res = run_btc("run", str(obj), "0x10", "other")
    assert (res.returncode, res.stdout) == (0, "16 other\n"), res.stderr
    res = run_btc("run", str(obj), "abc", "x")
    assert res.returncode == 1 and "Traceback" not in res.stderr
    assert res.stderr.strip().splitlines() == [
        'btc: $1 is a number in this object but was given "abc": compile it with a string for $1 '
        '(btc compile FILE ARGS...)']
