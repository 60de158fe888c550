"""The `btc` command line's argparse parsers (every command and option, `--help`, and the
error messages for bad options). btc.cli parses the common `btc run` forms itself and only
imports this module, and argparse, for the rest: argparse costs ~10 ms of start-up."""
from __future__ import annotations

import argparse
import os
import sys

from btc.diagnostics import DIALECTS


def _add_program_args(p: argparse.ArgumentParser) -> None:
    from btc.cli import SYSCALL_ATTACH

    p.add_argument("-e", dest="program", metavar="PROGRAM", help="program text")
    p.add_argument("--dialect", choices=DIALECTS, default="btrace",
                   help="language dialect (default: btrace, OpenBSD's)")
    p.add_argument("--syscall-attach", choices=SYSCALL_ATTACH, default="auto",
                   help="syscall probes as perf tracepoints or raw sys_enter/sys_exit programs "
                        "checking the number (default: auto, raw when a program traces "
                        "most syscalls)")
    p.add_argument("file", nargs="?", help="script file (.bt) or compiled object (.o)")
    p.add_argument("args", nargs=argparse.REMAINDER, help="positional parameters $1, $2, ...")


def parse_args(argv: list[str]) -> argparse.Namespace:
    from btc import __version__

    parser = argparse.ArgumentParser(prog="btc", description="compile and run bt tracing programs",
                                     formatter_class=_Formatter)
    parser.add_argument("--version", action="version", version=f"btc {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    # Only the command's own parser is built (argparse costs ~0.3 ms an option, a start-up
    # cost); `btc --help` and a mistyped command still see them all.
    for name in argv[:1] if argv and argv[0] in COMMANDS else COMMANDS:
        _SUBCOMMANDS[name](sub)
    if argv and argv[0] in sub.choices:
        argv = argv[:1] + _options_first(argv[1:], sub.choices[argv[0]])
    return parser.parse_args(argv)


class _Formatter(argparse.HelpFormatter):
    """argparse's formatter, sized as shutil.get_terminal_size would (argparse builds one
    per option, and importing shutil for it costs ~3 ms of start-up)."""

    def __init__(self, prog: str, indent_increment: int = 2, max_help_position: int = 24,
                 width: int | None = None):
        super().__init__(prog, indent_increment, max_help_position,
                         _terminal_columns() - 2 if width is None else width)


def _terminal_columns() -> int:
    try:
        columns = int(os.environ["COLUMNS"])
    except (KeyError, ValueError):
        columns = 0
    if columns <= 0:
        try:
            columns = os.get_terminal_size(sys.__stdout__.fileno()).columns
        except (AttributeError, ValueError, OSError):
            columns = 0
    return columns or 80


class _Parser(argparse.ArgumentParser):
    def __init__(self, *args, **kwargs):
        kwargs.setdefault("formatter_class", _Formatter)
        super().__init__(*args, **kwargs)


def _add_run(sub) -> None:
    run = sub.add_parser("run", help="compile and run a program (default command)")
    _add_program_args(run)
    run.add_argument("-p", dest="pid", help="trace only this process")
    run.add_argument("-c", dest="cmd", help="run CMD, trace it, exit when it exits")
    run.add_argument("-q", dest="quiet", action="store_true", help="no banner")
    run.add_argument("-v", dest="verbose", action="store_true", help="verbose (verifier log)")
    run.add_argument("-o", dest="output", help="write program output to FILE")
    run.add_argument("-f", dest="format", default="text", help="text or json")
    run.add_argument("--unsafe", action="store_true", help="allow system() and signal()")


def _add_compile(sub) -> None:
    comp = sub.add_parser("compile", help="compile to a BPF object, or show a stage")
    _add_program_args(comp)
    comp.add_argument("--emit", choices=("ast", "ir", "llvm", "asm", "obj"), default="obj")
    comp.add_argument("--dump-ir-after", metavar="PASS", help="print the IR after PASS ('all')")
    comp.add_argument("-o", dest="output", metavar="PATH",
                      help="output file, - for stdout (default: FILE.o or a.o for obj, stdout for text)")


def _add_list(sub) -> None:
    lst = sub.add_parser("list", help="list probes")
    lst.add_argument("pattern", nargs="?")
    lst.add_argument("-v", dest="verbose", action="store_true", help="show probe arguments")
    lst.add_argument("--dialect", choices=DIALECTS, default="btrace")


def _add_bench(sub) -> None:
    bench = sub.add_parser("bench", help="measure what each probe costs per event")
    _add_program_args(bench)
    _add_bench_args(bench)


def _options_first(tokens: list[str], parser: argparse.ArgumentParser) -> list[str]:
    """Move the command's own options before its positional words, as GNU getopt does, so
    `btc run prog.o -p PID` works; `--` ends the options. Words that are not options of the
    command (`-5`, `-x`) stay positional parameters."""
    actions = parser._option_string_actions
    opts: list[str] = []
    rest: list[str] = []
    i = 0
    while i < len(tokens):
        tok = tokens[i]
        if tok == "--":
            rest.extend(tokens[i + 1:])
            break
        name = tok.split("=", 1)[0] if tok.startswith("--") else tok
        action = actions.get(name)
        attached = name != tok  # `--dialect=x`
        if action is None and not tok.startswith("--") and len(tok) > 2 and tok[:2] in actions:
            action, attached = actions[tok[:2]], True  # `-p123`
        if action is None:
            rest.append(tok)
            i += 1
            continue
        n = 1 if action.nargs != 0 and not attached else 0
        opts.extend(tokens[i:i + 1 + n])
        i += 1 + n
    return opts + ["--"] + rest if rest else opts




def _add_bench_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("-f", dest="format", choices=("text", "json"), default="text")
    p.add_argument("--driver", dest="driver_cmd", metavar="CMD",
                   help="a shell command that fires the probes (default: a built-in syscall loop)")
    p.add_argument("--rounds", type=int, default=11, help="interleaved rounds (default 11)")
    p.add_argument("--iterations", type=int, default=200_000,
                   help="driver iterations per round (default 200000)")
    p.add_argument("--no-pin", dest="pin", action="store_false", help="do not pin to one CPU")
    p.add_argument("--ctypes-driver", action="store_true",
                   help="drive with a Python ctypes loop instead of the native loop")


_SUBCOMMANDS = {"run": _add_run, "compile": _add_compile, "list": _add_list, "bench": _add_bench}
COMMANDS = tuple(_SUBCOMMANDS)
