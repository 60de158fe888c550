"""`btc run prog.o` runs a real object while importing only the runtime: none of the
standard modules that cost start-up time (dataclasses with inspect and ast, argparse,
typing, pathlib, platform) and none of the compiler. Run with `python -S` so that the
modules `site`'s .pth files import (an editable install's finder imports pathlib) do not
hide one that btc imports itself."""
from __future__ import annotations

import os
import subprocess
import sys

from kernel import require_bpf

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SLOW_STDLIB = ("dataclasses", "inspect", "ast", "argparse", "typing", "pathlib", "platform")
COMPILER = ("llvmlite", "lark", "btc.parser", "btc.ir", "btc.backend_bpf", "btc.probes",
            "btc.driver", "numpy")


def _run_and_list_modules(argv: list[str]) -> tuple[subprocess.CompletedProcess, set[str]]:
    code = ("import sys, btc.cli\n"
            f"rc = btc.cli.main({argv!r})\n"
            "print(' '.join(sys.modules), file=sys.stderr)\n"
            "sys.exit(rc)\n")
    env = dict(os.environ, PYTHONPATH=ROOT, BTC_NO_CACHE="1")
    out = subprocess.run([sys.executable, "-S", "-c", code], capture_output=True, text=True,
                         env=env, timeout=60, cwd=ROOT)
    return out, set(out.stderr.split("\n")[-2].split())


def test_running_an_object_imports_only_the_runtime(tmp_path):
    require_bpf()
    obj = tmp_path / "p.o"
    subprocess.run([sys.executable, "-m", "btc.cli", "compile", "-e",
                    'BEGIN { printf("ran\\n"); exit() }', "-o", str(obj)], check=True,
                   env=dict(os.environ, BTC_NO_CACHE="1"), cwd=ROOT)
    out, mods = _run_and_list_modules(["run", str(obj)])
    assert out.returncode == 0, out.stderr
    assert out.stdout == "ran\n"
    assert "btc.runtime.session" in mods
    for name in SLOW_STDLIB + COMPILER:
        assert name not in mods, name


def test_mutable_record_is_like_a_plain_dataclass():
    import dataclasses

    import pytest

    from btc.records import Record, field

    class Box(Record, frozen=False):
        name: str
        items: list = field(default_factory=list)

    a = Box("a")
    a.name = "b"
    a.items.append(1)
    assert a == Box("b", [1]) and a != Box("b") and repr(a).endswith("Box(name='b', items=[1])")
    assert Box("x").items is not Box("x").items
    with pytest.raises(TypeError):
        hash(a)  # eq without frozen: unhashable, as @dataclass
    with pytest.raises(AttributeError):
        a.other = 1  # slots
    assert dataclasses.asdict(a) == {"name": "b", "items": [1]}


def test_kernel_enums_are_named_ints():
    import pytest

    from btc.runtime import abi

    assert abi.MapType.HASH == 1 and abi.MapType(1) is abi.MapType.HASH
    assert abi.BpfCmd(5).name == "PROG_LOAD" and f"{abi.BpfCmd.PROG_LOAD}" == str(abi.BpfCmd.PROG_LOAD) == "5"
    assert repr(abi.ProgType.TRACEPOINT) == "<ProgType.TRACEPOINT: 5>"
    assert {abi.BtfKind.INT: "int"}[1] == "int" and abi.BtfKind.DATASEC in list(abi.BtfKind)
    with pytest.raises(ValueError):
        abi.MapType(999)
