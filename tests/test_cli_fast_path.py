"""btc.cli parses the plain `btc run` forms without argparse: it must give exactly what the
argparse parser gives, and leave everything else to it."""
from __future__ import annotations

import subprocess
import sys

import pytest

from btc import cli, cli_parser

FAST = [
    ["run", "prog.o"],
    ["run", "-e", "BEGIN { exit() }"],
    ["run", "-e", "P", "a", "b"],
    ["run", "f.bt", "1", "2"],
    ["run", "f.bt", "-q", "3"],
    ["run", "-q", "f.bt", "x", "-p", "5"],
    ["run", "--dialect", "bpftrace", "-e", "P", "-o", "out.txt", "-c", "/bin/true"],
    ["run", "-v", "--unsafe", "-f", "json", "prog.o", ""],
    ["run", "-p", " 12 ", "-e", "P"],
    ["run", "-e", "", "-q", "-q"],
    ["run", "-p", "x", "f"],  # checked after parsing, in bpftrace's words (test_cli_values)
    ["run", "-f", "xml", "f"],
]
SLOW = [
    [], ["--help"], ["run", "--help"], ["run", "-h"], ["compile", "-e", "P"], ["list"],
    ["run", "f.bt", "--", "-1"], ["run", "-e", "P", "--", "x"], ["run", "--dialect=bpftrace", "f"],
    ["run", "-p12", "f"], ["run", "--dialect", "awk", "f"], ["run", "f", "-5"], ["run", "-e", "-1"], ["run", "-o"],
    ["run", "-x", "f"], ["run", "-"],
]


@pytest.mark.parametrize("argv", FAST, ids=" ".join)
def test_fast_path_matches_argparse(argv):
    fast = cli._fast_run_args(list(argv))
    assert fast is not None
    assert vars(fast) == vars(cli_parser.parse_args(list(argv)))


@pytest.mark.parametrize("argv", SLOW, ids=" ".join)
def test_everything_else_goes_to_argparse(argv):
    assert cli._fast_run_args(list(argv)) is None


def test_running_an_object_does_not_import_argparse():
    code = ("import sys, btc.cli\n"
            "ns = btc.cli._parse_args(btc.cli._expand_shorthands(['prog.o', '1']))\n"
            "print(ns.command, ns.file, ns.args, 'argparse' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["run", "prog.o", "['1']", "False"]
