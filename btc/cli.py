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
        ctx.verbose = bool(getattr(args, "verbose", False))
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
        self.verbose = False


def _report(err: BtcError, ctx: _ErrorContext) -> None:
    sys.stdout.flush()  # keep program order in a merged 2>&1 stream
    log = getattr(err, "verifier_log", None)
    if ctx.verbose and log:  # -v: the whole verifier log before the summary
        print(log.rstrip("\n"), file=sys.stderr)
    print(render(err, ctx.source, ctx.dialect), file=sys.stderr)


def _report_warnings(obj: bytes, ctx: _ErrorContext) -> None:
    """Compile-time warnings travel in the object's metadata (a cached compile keeps them)."""
    from btc.diagnostics import Span
    from btc.runtime.meta_read import read_meta

    warnings = read_meta(obj, check_kernel=False, whole=False).get("warnings") or []
    if not warnings:
        return
    sys.stdout.flush()
    for w in warnings:
        span = Span(*w["span"]) if w.get("span") else None
        text = render(BtcError(w["message"], span, w.get("hint")), ctx.source, ctx.dialect)
        if ctx.dialect == "bpftrace":
            text = text.replace("ERROR: ", "WARNING: ", 1)
        print(text, file=sys.stderr)


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
    run.add_argument("-p", dest="pid", type=int, help="trace only this process")
    run.add_argument("-c", dest="cmd", help="run CMD, trace it, exit when it exits")
    run.add_argument("-q", dest="quiet", action="store_true", help="no banner")
    run.add_argument("-v", dest="verbose", action="store_true", help="verbose (verifier log)")
    run.add_argument("-o", dest="output", help="write program output to FILE")
    run.add_argument("-f", dest="format", choices=("text", "json"), default="text")
    run.add_argument("--unsafe", action="store_true", help="allow system() and signal()")
    run.set_defaults(handler=_cmd_run)


def _add_compile(sub) -> None:
    comp = sub.add_parser("compile", help="compile to a BPF object, or show a stage")
    _add_program_args(comp)
    comp.add_argument("--emit", choices=("ast", "ir", "llvm", "asm", "obj"), default="obj")
    comp.add_argument("--dump-ir-after", metavar="PASS", help="print the IR after PASS ('all')")
    comp.add_argument("-o", dest="output", metavar="PATH",
                      help="output file, - for stdout (default: FILE.o or a.o for obj, stdout for text)")
    comp.set_defaults(handler=_cmd_compile)


def _add_list(sub) -> None:
    lst = sub.add_parser("list", help="list probes")
    lst.add_argument("pattern", nargs="?")
    lst.add_argument("-v", dest="verbose", action="store_true", help="show probe arguments")
    lst.add_argument("--dialect", choices=DIALECTS, default="btrace")
    lst.set_defaults(handler=_cmd_list)


def _add_bench(sub) -> None:
    bench = sub.add_parser("bench", help="measure what each probe costs per event")
    _add_program_args(bench)
    _add_bench_args(bench)
    bench.set_defaults(handler=_cmd_bench)


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
    """An ELF file, or a file named *.o (so a truncated object is reported as one)."""
    if path is None:
        return False
    try:
        with open(path, "rb") as f:
            return f.read(4) == b"\x7fELF" or path.endswith(".o")
    except OSError:
        return False


def _cmd_run(args: argparse.Namespace, ctx: _ErrorContext) -> int:
    # The object path imports the runtime only: no lark, llvmlite or compiler stage.
    from btc.runtime.privileges import check_bpf_available
    from btc.runtime.session import RunOptions, run_object

    opts = RunOptions(pid=args.pid, cmd=args.cmd, quiet=args.quiet, verbose=args.verbose,
                      output=args.output, fmt=args.format, unsafe=args.unsafe)
    if args.program is None and _is_object(args.file):
        obj = _read_object(args.file)  # the run checks bpf() itself before loading
        ctx.dialect = _object_dialect(obj, ctx.dialect)
        params = list(args.args or [])
        return run_object(obj, params[1:] if params[:1] == ["--"] else params, opts)
    check_bpf_available()  # before compiling: say at once what is missing
    source, filename, params = _read_program(args, ctx)
    from btc.driver import compile_cached

    obj = compile_cached(source, filename, args.dialect, params)
    _report_warnings(obj, ctx)
    return run_object(obj, params, opts)


def _read_object(path: str) -> bytes:
    try:
        with open(path, "rb") as f:
            return f.read()
    except OSError as e:
        raise BtcError(f"can't open '{path}': {e.strerror}") from None


def _object_dialect(obj: bytes, default: str) -> str:
    """The dialect recorded in the object, for rendering errors the way it expects."""
    marker = b'"dialect":"'
    i = obj.find(marker)
    if i < 0:
        return default
    word = obj[i + len(marker):i + len(marker) + 8].split(b'"', 1)[0].decode("ascii", "replace")
    return word if word in DIALECTS else default


def _cmd_compile(args: argparse.Namespace, ctx: _ErrorContext) -> int:
    from btc import driver

    if args.program is None and _is_object(args.file):
        raise BtcError(f"'{args.file}' is already a compiled object: run it with `btc run {args.file}`")
    source, filename, params = _read_program(args, ctx)
    out = driver.emit(source, filename, args.dialect, params, args.emit, args.dump_ir_after)
    if isinstance(out, bytes):
        _report_warnings(out, ctx)
        _write_output(_object_path(args), out)
    elif args.output and args.output != "-":
        _write_output(args.output, out.encode("utf-8", "surrogateescape"))
    else:
        sys.stdout.write(out)
    return 0


def _object_path(args: argparse.Namespace) -> str:
    """-o PATH ('-' = stdout); else FILE with its extension replaced by .o; else a.o."""
    if args.output:
        return args.output
    if args.file:
        return os.path.splitext(args.file)[0] + ".o"
    return "a.o"


def _write_output(path: str, data: bytes) -> None:
    if path == "-":
        sys.stdout.flush()
        sys.stdout.buffer.write(data)
        sys.stdout.buffer.flush()
        return
    try:
        with open(path, "wb") as f:
            f.write(data)
    except OSError as e:
        raise BtcError(f"can't write '{path}': {e.strerror}") from None


def _cmd_list(args: argparse.Namespace, ctx: _ErrorContext) -> int:
    from btc.probes import list_probes

    for line in list_probes(args.pattern, args.dialect, args.verbose):
        print(line)
    return 0


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


def _cmd_bench(args: argparse.Namespace, ctx: _ErrorContext) -> int:
    from btc import driver
    from btc.probes.syscalls import syscall_number
    from btc.runtime import bench

    if args.rounds < 1 or args.iterations < 1:
        raise BtcError("--rounds and --iterations must be at least 1")
    if args.program is None and _is_object(args.file):
        raise BtcError("btc bench needs the program's source: it compiles variants of each "
                       "probe (empty, filter false), which an object file cannot give")
    source, filename, params = _read_program(args, ctx)
    probes = bench.build(source, filename, args.dialect, params, parse=driver.parse,
                         compile=driver.compile_cached)
    settings = bench.BenchSettings(bench.BenchOptions(args.rounds, args.iterations),
                                   args.driver_cmd, args.pin, args.ctypes_driver)
    return bench.run_bench(probes, args.dialect, settings, syscall_number, args.format,
                           sys.stdout)


_SUBCOMMANDS = {"run": _add_run, "compile": _add_compile, "list": _add_list, "bench": _add_bench}


if __name__ == "__main__":
    sys.exit(main())
