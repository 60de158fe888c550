"""Golden tests of `btc compile --emit ir` text: tests/golden/NAME.bt -> NAME.ir.

A source file may start with comment lines `// dialect: bpftrace` and `// params: a b`;
files named `*.bpf.bt` default to the bpftrace dialect. Regenerate the expected text with
`BTC_UPDATE_GOLDEN=1 python -m pytest -q tests/test_ir_golden.py` and review the diff.
"""
import os
import re
from pathlib import Path

import pytest

from btc.ir import analyze
from btc.ir.passes import run_pipeline
from btc.ir.printer import format_program
from ir_util import parse_src

GOLDEN = Path(__file__).parent / "golden"
SOURCES = sorted(GOLDEN.glob("*.bt"))


def settings(path: Path, text: str) -> tuple[str, list[str]]:
    dialect = "bpftrace" if path.name.endswith(".bpf.bt") else "btrace"
    params: list[str] = []
    for line in text.splitlines():
        m = re.match(r"//\s*(dialect|params):\s*(.*)$", line)
        if m and m.group(1) == "dialect":
            dialect = m.group(2).strip()
        elif m:
            params = m.group(2).split()
    return dialect, params


def emit_ir(path: Path) -> str:
    text = path.read_text()
    dialect, params = settings(path, text)
    prog = analyze(parse_src(text, dialect, path.name), params)
    return format_program(run_pipeline(prog, verify=True))


def test_the_seed_programs_are_all_covered():
    names = {p.name for p in SOURCES}
    for seed in ("fork", "readcount", "readlatency", "readsize", "syscalls-by-process"):
        assert f"seed_{seed}.bt" in names


@pytest.mark.parametrize("path", SOURCES, ids=[p.name for p in SOURCES])
def test_golden_ir(path: Path):
    got = emit_ir(path)
    expected_path = path.with_suffix("").with_suffix(".ir") if path.name.endswith(".bpf.bt") \
        else path.with_suffix(".ir")
    if os.environ.get("BTC_UPDATE_GOLDEN") == "1":
        expected_path.write_text(got)
    assert expected_path.exists(), f"no golden file {expected_path.name}: set BTC_UPDATE_GOLDEN=1"
    assert got == expected_path.read_text()


def test_printer_is_stable():
    path = GOLDEN / "btrace_maps.bt"
    assert emit_ir(path) == emit_ir(path)
