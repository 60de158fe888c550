"""The `btc` command line: run, compile, list, bench.

`btc FILE` and `btc -e PROGRAM` are shorthands for `btc run`; `btc -l [PATTERN]` for
`btc list`. Every BtcError is rendered here, in one place, and no traceback reaches the user.
"""
from __future__ import annotations

import os
import sys
from types import SimpleNamespace

from btc.diagnostics import DIALECTS, BtcError, render

COMMANDS = ("run", "compile", "list", "bench")
# --syscall-attach values (btc/ir/syscall_attach.py MODES): kept here for the fast path
SYSCALL_ATTACH = ("auto", "tracepoint", "raw")
TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing
if TYPE_CHECKING:
    from argparse import Namespace


def main(argv: list[str] | None = None) -> int:
    """Run one btc command; returns its exit status. Called without `argv` (the `btc` script,
    `python -m btc.cli`) it is the process's own command line, and main ends the process
    itself once the command is done (see _exit)."""
    if argv is None:
        _exit(_main(sys.argv[1:]))
    return _main(argv)


def _exit(status: int) -> None:
    """End the process without the interpreter's finalization: tearing down the compiler's
    and llvmlite's modules and objects costs ~60 ms of CPU after a compiling run, and nothing
    is left to do (output files are closed, BPF objects die with the process). Standard
    streams are flushed first, as the interpreter would."""
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):  # a closed pipe or stream: the interpreter ignores it too
            pass
    os._exit(status)


def _main(argv: list[str]) -> int:
    argv = list(argv)
    ctx = _ErrorContext()
    try:
        args = _parse_args(_expand_shorthands(argv))
        ctx.dialect = getattr(args, "dialect", "btrace")
        ctx.verbose = bool(getattr(args, "verbose", False))
        _check_values(args)
        return _HANDLERS[args.command](args, ctx)
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


PID_MAX = 4194304  # PID_MAX_LIMIT on 64-bit (include/linux/threads.h), bpftrace's bound


def _check_values(args: Namespace) -> None:
    """-p and -f in bpftrace's words (both parsers keep them as given)."""
    pid = getattr(args, "pid", None)
    if isinstance(pid, str):
        if not pid.isdigit():
            raise BtcError(f"Failed to parse pid: pid '{pid}' is not a valid decimal number")
        if not 1 <= int(pid) <= PID_MAX:
            raise BtcError(f"Failed to parse pid: pid '{pid}' out of valid pid range [1,{PID_MAX}]")
        args.pid = int(pid)
    fmt = getattr(args, "format", "text")
    if fmt not in ("text", "json"):
        raise BtcError(f'Invalid output format "{fmt}"')


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
    listing = _list_shorthand(argv)
    if listing is not None:
        return listing
    return ["run"] + argv


def _list_shorthand(argv: list[str]) -> list[str] | None:
    """`btc [options] -l [PATTERN]` and `-lv`/`-vl`, as bpftrace takes them, become
    `btc list [options] [PATTERN]`; None when no `-l` comes before the first word."""
    i = 0
    while i < len(argv):
        tok = argv[i]
        if tok in ("-l", "-lv", "-vl"):
            rest = argv[:i] + (["-v"] if tok != "-l" else []) + argv[i + 1:]
            return ["list"] + rest
        if tok == "-e" or not tok.startswith("-"):
            return None
        i += 2 if tok in _RUN_VALUES else 1  # `--dialect bpftrace -l`: skip the value
    return None


def _parse_args(argv: list[str]) -> Namespace:
    fast = _fast_run_args(argv)
    if fast is not None:
        return fast
    from btc.cli_parser import parse_args

    return parse_args(argv)


# `btc run`'s options: dest of each option that takes a value, and of each flag. Only these
# exact spellings take the fast path; anything else (help, `--dialect=x`, `-p5`, a word that
# looks like an option, `--`) goes to argparse, which gives the same result or the error.
_RUN_VALUES = {"-e": "program", "--dialect": "dialect", "-p": "pid", "-c": "cmd",
               "-o": "output", "-f": "format", "--syscall-attach": "syscall_attach"}
_RUN_FLAGS = {"-q": "quiet", "-v": "verbose", "--unsafe": "unsafe"}


def _fast_run_args(argv: list[str]) -> Namespace | None:
    """What btc.cli_parser.parse_args gives for the plain forms of `btc run` (`btc run
    prog.o`, `btc -e PROG`, `btc -q file.bt 1 2`), without importing argparse (~10 ms of
    start-up); None for anything else. tests/test_cli_fast_path.py checks the two agree."""
    if not argv or argv[0] != "run":
        return None
    ns = {"command": "run", "program": None, "dialect": "btrace", "file": None, "args": [],
          "pid": None, "cmd": None, "quiet": False, "verbose": False, "output": None,
          "format": "text", "unsafe": False, "syscall_attach": "auto"}
    words: list[str] = []
    i = 1
    while i < len(argv):
        tok = argv[i]
        if tok in _RUN_FLAGS:
            ns[_RUN_FLAGS[tok]] = True
        elif tok in _RUN_VALUES:
            if i + 1 == len(argv) or argv[i + 1].startswith("-"):
                return None
            ns[_RUN_VALUES[tok]] = argv[i + 1]
            i += 1
        elif tok.startswith("-"):
            return None
        else:
            words.append(tok)
        i += 1
    if ns["dialect"] not in DIALECTS or ns["syscall_attach"] not in SYSCALL_ATTACH:
        return None
    if words:
        ns["file"], ns["args"] = words[0], words[1:]
    return SimpleNamespace(**ns)


def _read_program(args: Namespace, ctx: _ErrorContext) -> tuple[str, str, list[str]]:
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
    if args.file == "-":  # `btc - < prog.bt`, as bpftrace reads a piped script
        ctx.source = sys.stdin.read()
        return ctx.source, "stdin", params
    try:
        with open(args.file, encoding="utf-8", errors="replace") as f:
            ctx.source = f.read()
    except OSError as e:
        if args.dialect == "bpftrace":
            raise BtcError(f"failed to open file '{args.file}': {e.strerror}") from None
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


def _cmd_run(args: Namespace, ctx: _ErrorContext) -> int:
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

    obj = compile_cached(source, filename, args.dialect, params, pid_check=args.pid is not None,
                         syscall_attach=args.syscall_attach)
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


def _cmd_compile(args: Namespace, ctx: _ErrorContext) -> int:
    from btc import driver

    if args.program is None and _is_object(args.file):
        raise BtcError(f"'{args.file}' is already a compiled object: run it with `btc run {args.file}`")
    source, filename, params = _read_program(args, ctx)
    out = driver.emit(source, filename, args.dialect, params, args.emit, args.dump_ir_after,
                      args.syscall_attach)
    if isinstance(out, bytes):
        _report_warnings(out, ctx)
        _write_output(_object_path(args), out)
    elif args.output and args.output != "-":
        _write_output(args.output, out.encode("utf-8", "surrogateescape"))
    else:
        sys.stdout.write(out)
    return 0


def _object_path(args: Namespace) -> str:
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


def _cmd_list(args: Namespace, ctx: _ErrorContext) -> int:
    from btc.probes import list_probes

    for line in list_probes(args.pattern, args.dialect, args.verbose):
        print(line)
    return 0


def _cmd_bench(args: Namespace, ctx: _ErrorContext) -> int:
    import functools

    from btc import driver
    from btc.probes.syscalls import syscall_number
    from btc.runtime import bench

    if args.rounds < 1 or args.iterations < 1:
        raise BtcError("--rounds and --iterations must be at least 1")
    if args.program is None and _is_object(args.file):
        raise BtcError("btc bench needs the program's source: it compiles variants of each "
                       "probe (empty, filter false), which an object file cannot give")
    source, filename, params = _read_program(args, ctx)
    compile_ = functools.partial(driver.compile_cached, syscall_attach=args.syscall_attach)
    probes = bench.build(source, filename, args.dialect, params, parse=driver.parse,
                         compile=compile_)
    settings = bench.BenchSettings(bench.BenchOptions(args.rounds, args.iterations),
                                   args.driver_cmd, args.pin, args.ctypes_driver,
                                   args.syscall_attach)
    return bench.run_bench(probes, args.dialect, settings, syscall_number, args.format,
                           sys.stdout)


_HANDLERS = {"run": _cmd_run, "compile": _cmd_compile, "list": _cmd_list, "bench": _cmd_bench}


if __name__ == "__main__":
    main()
