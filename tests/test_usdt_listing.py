"""`btc -l 'usdt:PATH:…'`: a binary's .note.stapsdt probes, as `bpftrace -l` lists them, and
with -v each argument's operand size. The fixture is test_usdt_e2e's C program (notes written
in inline asm); /usr/bin/python3 is used too when its build has notes."""
from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from run_util import run_btc
from test_usdt_e2e import SOURCE

PYTHON = Path("/usr/bin/python3")


@pytest.fixture(scope="module")
def exe(tmp_path_factory) -> Path:
    if shutil.which("gcc") is None:
        pytest.skip("gcc is not installed")
    tmp = tmp_path_factory.mktemp("usdt_list")
    (tmp / "usdt.c").write_text(SOURCE)
    out = tmp / "usdt_prog"
    subprocess.run(["gcc", "-O2", "-o", str(out), str(tmp / "usdt.c")], check=True,
                   capture_output=True)
    return out


def _lines(*args: str) -> list[str]:
    res = run_btc(*args)
    assert res.returncode == 0, res.stderr
    return res.stdout.splitlines()


def test_lists_every_probe_sorted(exe):
    assert _lines("-l", f"usdt:{exe}:*") == [
        f"usdt:{exe}:myprov:guarded", f"usdt:{exe}:myprov:memprobe",
        f"usdt:{exe}:myprov:myprobe"]


def test_provider_and_name_globs(exe):
    assert _lines("-l", f"usdt:{exe}:myprov:m*") == [
        f"usdt:{exe}:myprov:memprobe", f"usdt:{exe}:myprov:myprobe"]
    assert _lines("-l", f"U:{exe}:*guard*") == [f"usdt:{exe}:myprov:guarded"]
    assert _lines("-l", f"usdt:{exe}:other:*") == []


def test_verbose_shows_operand_sizes(exe):
    out = _lines("-l", "-v", f"usdt:{exe}:myprov:*")
    at = {line: i for i, line in enumerate(out)}
    probe = at[f"usdt:{exe}:myprov:myprobe"]
    args = out[probe + 1:probe + 4]
    assert [a.split(" (")[0] for a in args] == \
        ["    arg0: int32", "    arg1: uint64", "    arg2: int16"], out
    assert args[0].startswith("    arg0: int32 (-4@%e"), out  # a 32-bit register operand
    mem = at[f"usdt:{exe}:myprov:memprobe"]
    assert out[mem + 1].startswith("    arg0: uint64 (8@") and "(%r" in out[mem + 1], out
    assert out[mem + 2] == "    arg1: int32 (-4@$-42)", out


def test_matches_bpftrace(exe):
    if shutil.which("bpftrace") is None:
        pytest.skip("bpftrace is not installed")
    for pattern in (f"usdt:{exe}:*", f"usdt:{exe}:myprov:my*"):
        want = subprocess.run(["bpftrace", "-l", pattern], capture_output=True, text=True)
        assert _lines("-l", pattern) == want.stdout.splitlines()


def test_system_python():
    if not PYTHON.is_file() or b"stapsdt" not in PYTHON.read_bytes():
        pytest.skip("no /usr/bin/python3 with usdt notes")
    out = _lines("-l", "-v", f"usdt:{PYTHON}:python:function__entry")
    assert out[0] == f"usdt:{PYTHON}:python:function__entry"
    assert [line.split(" (")[0] for line in out[1:]] == \
        ["    arg0: uint64", "    arg1: uint64", "    arg2: int32"]


def test_missing_binary_is_one_line_error():
    res = run_btc("-l", "usdt:/no/such/binary:*")
    assert res.returncode != 0
    assert res.stderr.strip() == \
        "btc: usdt target file '/no/such/binary' does not exist or is not executable"
