"""kstack/ustack end to end on the live kernel: compiled, run, symbolized and printed."""
from __future__ import annotations

import functools
import re

import pytest

from cprog_util import cprogs  # noqa: F401  (fixture)
from kernel import require_bpf, require_path
from run_util import run_btc
from btc.runtime.symbols import Symbolizer

BUSY = "200000000"  # loop iterations: a few seconds of CPU, more than any run below needs


@pytest.fixture(autouse=True)
def _bpf():
    require_bpf()


def _stack_blocks(text: str) -> list[str]:
    """The text between `@[` and `]: N` of each map entry."""
    return re.findall(r"@\w*\[(.*?)\]: \d+", text, re.S)


@functools.cache
def _symbolizer() -> Symbolizer:
    return Symbolizer()


def _assert_kernel_frames(lines: list[str], dialect: str) -> None:
    sym = _symbolizer()
    pat = r"(\w[\w.]*)\+0x[0-9a-f]+|(\w[\w.]*)" if dialect == "btrace" else r"(\w[\w.]*)\+\d+"
    for line in lines:
        m = re.fullmatch(pat, line.strip())
        assert m, f"bad frame {line!r}"
        name = m.group(1) or m.group(2)
        if name.startswith("bpf_prog_"):
            continue  # a sample inside a BPF program: its kallsyms entry left with the program
        assert sym.kaddr(name) is not None, line


def test_kstack_map_btrace():
    res = run_btc("-e", "profile:hz:997 { @[kstack] = count() } interval:ms:300 { exit() }")
    assert res.returncode == 0, res.stderr
    blocks = [b for b in _stack_blocks(res.stdout) if b.strip() != "userland"]
    assert blocks, res.stdout
    for b in blocks:
        lines = b.strip("\n").split("\n")
        assert lines[-1] == "kernel", b
        _assert_kernel_frames(lines[:-1], "btrace")


def test_kstack_map_and_printf_bpftrace():
    res = run_btc("--dialect", "bpftrace", "-e",
                  "profile:hz:997 { @[kstack] = count() } "
                  "interval:ms:300 { printf(\"[%s]\\n\", kstack); exit() }")
    assert res.returncode == 0, res.stderr
    blocks = [b for b in _stack_blocks(res.stdout) if b.strip()]
    assert blocks, res.stdout
    for b in blocks:
        assert b.startswith("\n") and all(ln.startswith("        ") for ln in b.strip("\n").split("\n"))
        _assert_kernel_frames(b.strip("\n").split("\n"), "bpftrace")
    printed = res.stdout.split("[", 1)[1].split("]", 1)[0]
    _assert_kernel_frames([ln for ln in printed.split("\n") if ln], "bpftrace")


@pytest.mark.parametrize("dialect", ["btrace", "bpftrace"])
def test_ustack_profile_of_busy_process(cprogs, dialect):
    exe = cprogs["nopie"]
    res = run_btc("--dialect", dialect, "-c", f"{exe} {BUSY}", "-e",
                  f'profile:hz:499 /comm == "{exe.name}"/ {{ @[ustack] = count() }} '
                  "interval:ms:400 { exit() }")
    assert res.returncode == 0, res.stderr
    text = res.stdout
    assert re.search(r"^\s*(main|f|g)(\+(0x)?[0-9a-f]+)?$", text, re.M), text
    if dialect == "btrace":
        assert "\nuserland\n]:" in text


def test_ustack_in_uprobe_pie(cprogs):
    require_path("/sys/bus/event_source/devices/uprobe/type", "the uprobe PMU")
    exe = cprogs["pie"]
    res = run_btc("--dialect", "bpftrace", "-c", f"{exe} 300 1000", "-e",
                  f"uprobe:{exe}:g {{ @[ustack] = count() }}")
    assert res.returncode == 0, res.stderr
    assert re.search(r"@\[\n        g\+0\n        main\+\d+\n(        .*\n)*\]: 300\n", res.stdout), \
        res.stdout
