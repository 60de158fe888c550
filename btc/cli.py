"""The `btc` command line: run, compile, list, bench.

`btc FILE` and `btc -e PROGRAM` are shorthands for `btc run`; `btc -l [PATTERN]` for
`btc list`. Every BtcError is rendered here, in one place, and no traceback reaches the user.
"""
from __future__ import annotations

import argparse
import os
import sys

from btc.diagnostics import DIALECTS, BtcError, render

COMMANDS = ("run", "compile", "list", "bench")


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    ctx = _ErrorContext()
    try:
        args = _parse_args(_expand_shorthands(argv))
        ctx.dialect = getattr(args, "dialect", "btrace")
        return args.handler(args, ctx)
    except BtcError as err:
        _report(err, ctx)
        return 1
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return 0
    except Exception as exc:  # never a traceback for users; BTC_DEBUG=1 shows it
        if os.environ.get("BTC_DEBUG"):
            raise
        sys.stdout.flush()
        print(f"btc: internal error: {type(exc).__name__}: {exc} (set BTC_DEBUG=1 for details)",
              file=sys.stderr)
        return 70


class _ErrorContext:
    """What rendering an error needs to know: the source text and the dialect."""

    def __init__(self) -> None:
        self.source: str | None = None
        self.dialect = "btrace"


def _report(err: BtcError, ctx: _ErrorContext) -> None:
    sys.stdout.flush()  # keep program order in a merged 2>&1 stream
    print(render(err, ctx.source, ctx.dialect), file=sys.stderr)


def _expand_shorthands(argv: list[str]) -> list[str]:
    if not argv:
        return ["--help"]
    first = argv[0]
    if first in COMMANDS or first in ("-h", "--help", "--version"):
        return argv
    if first == "-l":
        return ["list"] + argv[1:]
    return ["run"] + argv


def _add_program_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("-e", dest="program", metavar="PROGRAM", help="program text")
    p.add_argument("--dialect", choices=DIALECTS, default="btrace",
                   help="language dialect (default: btrace, OpenBSD's)")
    p.add_argument("file", nargs="?", help="script file (.bt) or compiled object (.o)")
    p.add_argument("args", nargs=argparse.REMAINDER, help="positional parameters $1, $2, ...")


def _parse_args(argv: list[str]) -> argparse.Namespace:
    from btc import __version__

    parser = argparse.ArgumentParser(prog="btc", description="compile and run bt tracing programs")
    parser.add_argument("--version", action="version", version=f"btc {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)

    run = sub.add_parser("run", help="compile and run a program (default command)")
    _add_program_args(run)
    run.add_argument("-p", dest="pid", type=int, help="trace only this process")
    run.add_argument("-c", dest="cmd", help="run CMD, trace it, exit when it exits")
    run.add_argument("-q", dest="quiet", action="store_true", help="no banner")
    run.add_argument("-v", dest="verbose", action="store_true", help="verbose (verifier log)")
    run.add_argument("-o", dest="output", help="write program output to FILE")
    run.add_argument("-f", dest="format", choices=("text", "json"), default="text")
    run.add_argument("--unsafe", action="store_true", help="allow system() and signal()")
    run.set_defaults(handler=_cmd_run)

    comp = sub.add_parser("compile", help="compile to a BPF object, or show a stage")
    _add_program_args(comp)
    comp.add_argument("--emit", choices=("ast", "ir", "llvm", "asm", "obj"), default="obj")
    comp.add_argument("--dump-ir-after", metavar="PASS", help="print the IR after PASS ('all')")
    comp.add_argument("-o", dest="output", help="output file (default: stdout, or FILE.o)")
    comp.set_defaults(handler=_cmd_compile)

    lst = sub.add_parser("list", help="list probes")
    lst.add_argument("pattern", nargs="?")
    lst.add_argument("-v", dest="verbose", action="store_true", help="show probe arguments")
    lst.add_argument("--dialect", choices=DIALECTS, default="btrace")
    lst.set_defaults(handler=_cmd_list)

    bench = sub.add_parser("bench", help="measure what each probe costs per event")
    _add_program_args(bench)
    bench.set_defaults(handler=_cmd_bench)
    return parser.parse_args(argv)


def _read_program(args: argparse.Namespace, ctx: _ErrorContext) -> tuple[str, str, list[str]]:
    """(source, filename for messages, positional params)."""
    params = list(args.args or [])
    if params[:1] == ["--"]:
        params = params[1:]
    if args.program is not None:
        if args.file is not None:
            params.insert(0, args.file)
        ctx.source = args.program
        return args.program, ("stdin" if args.dialect == "bpftrace" else "btc"), params
    if args.file is None:
        raise BtcError("no program given: pass a FILE or -e PROGRAM")
    try:
        with open(args.file, encoding="utf-8", errors="replace") as f:
            ctx.source = f.read()
    except OSError as e:
        raise BtcError(f"can't open '{args.file}': {e.strerror}") from None
    return ctx.source, args.file, params


def _is_object(path: str | None) -> bool:
    if path is None:
        return False
    try:
        with open(path, "rb") as f:
            return f.read(4) == b"\x7fELF"
    except OSError:
        return False


def _cmd_run(args: argparse.Namespace, ctx: _ErrorContext) -> int:
    from btc.runtime.session import RunOptions, run_object

    opts = RunOptions(pid=args.pid, cmd=args.cmd, quiet=args.quiet, verbose=args.verbose,
                      output=args.output, fmt=args.format, unsafe=args.unsafe)
    if args.program is None and _is_object(args.file):
        with open(args.file, "rb") as f:
            obj = f.read()
        return run_object(obj, list(args.args or []), opts)
    source, filename, params = _read_program(args, ctx)
    from btc.driver import compile_cached

    obj = compile_cached(source, filename, args.dialect, params)
    return run_object(obj, params, opts)


def _cmd_compile(args: argparse.Namespace, ctx: _ErrorContext) -> int:
    from btc import driver

    source, filename, params = _read_program(args, ctx)
    out = driver.emit(source, filename, args.dialect, params, args.emit, args.dump_ir_after)
    if isinstance(out, bytes):
        path = args.output or (os.path.splitext(args.file)[0] + ".o" if args.file else "a.o")
        with open(path, "wb") as f:
            f.write(out)
        return 0
    if args.output:
        with open(args.output, "w") as f:
            f.write(out)
    else:
        sys.stdout.write(out)
    return 0


def _cmd_list(args: argparse.Namespace, ctx: _ErrorContext) -> int:
    from btc.probes import list_probes

    for line in list_probes(args.pattern, args.dialect, args.verbose):
        print(line)
    return 0


def _cmd_bench(args: argparse.Namespace, ctx: _ErrorContext) -> int:
    raise BtcError("btc bench is not implemented yet (see the README's limitations)")


if __name__ == "__main__":
    sys.exit(main())
