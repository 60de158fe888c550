"""usdt end to end: a C program whose stapsdt notes are written by hand in inline asm (the
layout <sys/sdt.h> emits), so no systemtap header is needed. One probe is guarded by a
semaphore: it fires only if btc passes ref_ctr_offset and the kernel increments it."""
from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from kernel import require_uprobes
from run_util import run_btc

# NOTE(prov, name, args, sema): a nop probe site plus its .note.stapsdt entry
SOURCE = r"""
#include <stdio.h>
#include <stdlib.h>
#define NOTE(prov, name, sema, args, ...) __asm__ __volatile__(                      \
    "990: nop\n"                                                                   \
    ".pushsection .note.stapsdt,\"?\",\"note\"\n"                                  \
    ".balign 4\n"                                                                  \
    ".4byte 992f-991f, 994f-993f, 3\n"                                             \
    "991: .asciz \"stapsdt\"\n"                                                   \
    "992: .balign 4\n"                                                             \
    "993: .8byte 990b\n"                                                           \
    ".8byte _.stapsdt.base\n"                                                      \
    ".8byte " sema "\n"                                                            \
    ".asciz \"" prov "\"\n"                                                        \
    ".asciz \"" name "\"\n"                                                        \
    ".asciz \"" args "\"\n"                                                        \
    "994: .balign 4\n"                                                             \
    ".popsection\n"                                                                \
    ".ifndef _.stapsdt.base\n"                                                     \
    ".pushsection .stapsdt.base,\"aG\",\"progbits\",.stapsdt.base,comdat\n"        \
    ".weak _.stapsdt.base\n"                                                       \
    ".hidden _.stapsdt.base\n"                                                     \
    "_.stapsdt.base: .space 1\n"                                                   \
    ".size _.stapsdt.base, 1\n"                                                    \
    ".popsection\n"                                                                \
    ".endif\n" :: __VA_ARGS__)

volatile unsigned short myprov_guarded_semaphore __attribute__((section(".probes")));

__attribute__((noinline)) void work(int a, long b, short c) {
    NOTE("myprov", "myprobe", "0", "-4@%k0 8@%1 -2@%w2", "r"(a), "r"(b), "r"(c));
    volatile long on_stack = 3L * b;
    NOTE("myprov", "memprobe", "0", "8@%0 -4@%1", "m"(on_stack), "i"(-42));
    if (myprov_guarded_semaphore)
        NOTE("myprov", "guarded", "myprov_guarded_semaphore", "-4@%k0", "r"(a));
}

int main(int argc, char **argv) {
    long n = argc > 1 ? atol(argv[1]) : 3;
    for (long i = 0; i < n; i++) work((int)i - 1, 1000000000000L + i, (short)(-7 * i));
    return 0;
}
"""


@pytest.fixture(scope="module")
def usdt_progs(tmp_path_factory) -> dict[str, Path]:
    if shutil.which("gcc") is None:
        pytest.skip("gcc is not installed")
    tmp = tmp_path_factory.mktemp("usdt")
    src = tmp / "usdt.c"
    src.write_text(SOURCE)
    out = {}
    for name, flags in (("pie", ["-fPIE", "-pie"]), ("nopie", ["-fno-pie", "-no-pie"])):
        exe = tmp / f"usdt_{name}"
        subprocess.run(["gcc", "-O2", *flags, "-o", str(exe), str(src)], check=True,
                       capture_output=True)
        out[name] = exe
    return out


@pytest.fixture(autouse=True)
def _uprobes():
    require_uprobes()


@pytest.mark.parametrize("kind", ["pie", "nopie"])
def test_usdt_register_args(usdt_progs, kind):
    exe = usdt_progs[kind]
    res = run_btc("--dialect", "bpftrace", "-c", f"{exe} 3", "-e",
                  f'usdt:{exe}:myprov:myprobe {{ printf("v %d %ld %d\\n", arg0, arg1, arg2) }}')
    assert res.returncode == 0, res.stderr
    assert [ln for ln in res.stdout.splitlines() if ln.startswith("v ")] == \
        ["v -1 1000000000000 0", "v 0 1000000000001 -7", "v 1 1000000000002 -14"], res.stdout


def test_usdt_two_part_spec_and_probe_builtin(usdt_progs):
    exe = usdt_progs["pie"]
    res = run_btc("--dialect", "bpftrace", "-c", f"{exe} 2", "-e",
                  f'usdt:{exe}:myprobe {{ printf("p %s\\n", probe) }}')
    assert res.returncode == 0, res.stderr
    assert [ln for ln in res.stdout.splitlines() if ln.startswith("p ")] == \
        [f"p usdt:{exe}:myprov:myprobe"] * 2, res.stdout


@pytest.mark.parametrize("kind", ["pie", "nopie"])
def test_usdt_semaphore(usdt_progs, kind):
    exe = usdt_progs[kind]
    res = run_btc("--dialect", "bpftrace", "-c", f"{exe} 4", "-e",
                  f'usdt:{exe}:myprov:guarded {{ printf("g %d\\n", arg0) }}')
    assert res.returncode == 0, res.stderr
    assert [ln for ln in res.stdout.splitlines() if ln.startswith("g ")] == \
        ["g -1", "g 0", "g 1", "g 2"], res.stdout


def test_usdt_memory_and_constant_args(usdt_progs):
    exe = usdt_progs["pie"]
    res = run_btc("--dialect", "bpftrace", "-c", f"{exe} 2", "-e",
                  f'usdt:{exe}:myprov:memprobe {{ printf("m %ld %d\\n", arg0, arg1) }}')
    assert res.returncode == 0, res.stderr
    assert [ln for ln in res.stdout.splitlines() if ln.startswith("m ")] == \
        ["m 3000000000000 -42", "m 3000000000003 -42"], res.stdout


def test_usdt_unknown_probe(usdt_progs):
    exe = usdt_progs["pie"]
    res = run_btc("--dialect", "bpftrace", "-e", f"usdt:{exe}:myprov:nope {{ }}")
    assert res.returncode != 0
    assert "Could not find usdt probe myprov:nope" in res.stderr, res.stderr
