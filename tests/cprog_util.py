"""A small C program compiled with gcc into a temp dir (PIE and non-PIE), for symbol, stack
and uprobe tests. `f` and `g` are real functions called in a loop; the program prints the
runtime address of `f` first, so tests have an oracle independent of btc's symbol code."""
from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

SOURCE = r"""
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
__attribute__((noinline)) int f(int x) { return x * 2 + 1; }
__attribute__((noinline)) int g(int x) { return f(x) + 1; }
/* argv: N [SLEEP_US]: N calls of g (which calls f), sleeping between calls if asked */
int main(int argc, char **argv) {
    long n = argc > 1 ? atol(argv[1]) : 1000;
    long us = argc > 2 ? atol(argv[2]) : 0;
    volatile long s = 0;
    printf("%p\n", (void *)f);
    fflush(stdout);
    for (long i = 0; i < n; i++) { s += g((int)i); if (us) usleep(us); }
    return (int)(s & 1);
}
"""


def build(tmp: Path) -> dict[str, Path]:
    """{"pie": path, "nopie": path}; skips when gcc is missing."""
    if shutil.which("gcc") is None:
        pytest.skip("gcc is not installed")
    src = tmp / "loop.c"
    src.write_text(SOURCE)
    out = {}
    for name, flags in (("pie", ["-fPIE", "-pie"]), ("nopie", ["-fno-pie", "-no-pie"])):
        exe = tmp / f"loop_{name}"
        subprocess.run(["gcc", "-O1", "-fno-omit-frame-pointer", *flags, "-o", str(exe), str(src)],
                       check=True, capture_output=True)
        out[name] = exe
    return out


@pytest.fixture(scope="session")
def cprogs(tmp_path_factory) -> dict[str, Path]:
    return build(tmp_path_factory.mktemp("cprog"))
