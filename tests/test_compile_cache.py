"""The compile cache: a second run of the same script skips compiling; the key follows the
inputs, btc and the kernel; a corrupt or stale entry is recompiled, never an error."""
from __future__ import annotations

import os
import subprocess
import sys

import pytest

from btc import driver
from run_util import btc_env

SRC = 'syscall:read:entry { @n[comm] = count() }\nBEGIN { printf("%d\\n", $1); exit() }\n'


@pytest.fixture
def cache(tmp_path, monkeypatch):
    d = tmp_path / "cache"
    monkeypatch.setenv("BTC_CACHE_DIR", str(d))
    monkeypatch.delenv("BTC_NO_CACHE", raising=False)
    return d


@pytest.fixture
def counted(monkeypatch):
    """Counts real compilations (the function the cache calls on a miss)."""
    calls = []
    real = driver.compile_source

    def counting(*args):
        calls.append(args)
        return real(*args)

    monkeypatch.setattr(driver, "compile_source", counting)
    return calls


def _entries(cache) -> list[str]:
    return sorted(os.listdir(cache)) if cache.exists() else []


def test_second_compile_is_a_cache_hit(cache, counted):
    first = driver.compile_cached(SRC, "a.bt", "btrace", ["1"])
    second = driver.compile_cached(SRC, "a.bt", "btrace", ["7"])  # same shape of $1
    assert first == second and len(counted) == 1
    assert len(_entries(cache)) == 1 and _entries(cache)[0].endswith(".o")


def test_key_follows_the_inputs(cache, counted):
    driver.compile_cached(SRC, "a.bt", "btrace", ["1"])
    driver.compile_cached(SRC, "a.bt", "btrace", ["word"])  # $1 becomes a string
    driver.compile_cached(SRC, "b.bt", "btrace", ["1"])  # line info names the file
    driver.compile_cached(SRC + "\n", "a.bt", "btrace", ["1"])
    assert len(counted) == 4 and len(_entries(cache)) == 4
    key = driver.cache_key(SRC, "a.bt", "btrace", ["1"])
    assert key != driver.cache_key(SRC, "a.bt", "bpftrace", ["1"])
    assert driver.params_shape("uprobe:$1:main { }", "bpftrace", ["/bin/a"]) == ["=/bin/a"]
    assert driver.params_shape("BEGIN { print($1) }", "bpftrace", ["/bin/a"]) == ["s"]


def test_corrupt_entry_is_recompiled(cache, counted):
    good = driver.compile_cached(SRC, "a.bt", "btrace", ["1"])
    [name] = _entries(cache)
    for junk in (b"", b"garbage", good[: len(good) // 3]):
        (cache / name).write_bytes(junk)
        assert driver.compile_cached(SRC, "a.bt", "btrace", ["1"]) == good
    assert len(counted) == 4
    assert (cache / name).read_bytes() == good  # the bad entry was replaced


def test_entry_for_another_tracepoint_layout_is_recompiled(cache, counted):
    good = driver.compile_cached(SRC, "a.bt", "btrace", ["1"])
    [name] = _entries(cache)
    marker = b'"syscalls:sys_enter_read":"'
    assert marker in good, "the object records the layout of the tracepoint it reads"
    i = good.index(marker) + len(marker)
    (cache / name).write_bytes(good[:i] + b"0" * 16 + good[i + 16:])
    assert driver.compile_cached(SRC, "a.bt", "btrace", ["1"]) == good
    assert len(counted) == 2


def test_no_cache_and_unwritable_cache(tmp_path, monkeypatch, counted):
    monkeypatch.setenv("BTC_NO_CACHE", "1")
    monkeypatch.setenv("BTC_CACHE_DIR", str(tmp_path / "c"))
    driver.compile_cached(SRC, "a.bt", "btrace", ["1"])
    assert not (tmp_path / "c").exists()
    monkeypatch.delenv("BTC_NO_CACHE")
    blocker = tmp_path / "file"
    blocker.write_text("")
    monkeypatch.setenv("BTC_CACHE_DIR", str(blocker / "sub"))  # cannot be created
    assert driver.compile_cached(SRC, "a.bt", "btrace", ["1"])[:4] == b"\x7fELF"
    assert len(counted) == 2


def test_cached_run_does_not_compile(tmp_path):
    """A second `btc run` of the same script imports no compiler stage at all."""
    from kernel import require_bpf

    require_bpf()
    env = btc_env()
    env.pop("BTC_NO_CACHE")
    env["BTC_CACHE_DIR"] = str(tmp_path / "cache")
    script = ("import sys\nfrom btc import cli\ncode = cli.main(sys.argv[1:])\n"
              "print('COMPILER', 'llvmlite' in sys.modules or 'lark' in sys.modules, file=sys.stderr)\n"
              "sys.exit(code)\n")
    argv = [sys.executable, "-c", script, "run", "-e", 'BEGIN { printf("hi\\n"); exit() }']
    runs = [subprocess.run(argv, capture_output=True, text=True, env=env, timeout=60) for _ in range(2)]
    assert [(r.returncode, r.stdout) for r in runs] == [(0, "hi\n")] * 2, runs[0].stderr
    assert "COMPILER True" in runs[0].stderr
    assert "COMPILER False" in runs[1].stderr


def test_cache_keeps_a_bounded_number_of_entries(cache):
    cache.mkdir()
    for i in range(5):
        (cache / f"{i:064x}.o").write_bytes(b"x")
        os.utime(cache / f"{i:064x}.o", ns=(i * 10**9, i * 10**9))
    (cache / "notes.txt").write_text("not an entry")
    driver._prune(str(cache), keep=3)
    assert _entries(cache) == [f"{i:064x}.o" for i in (2, 3, 4)] + ["notes.txt"]
