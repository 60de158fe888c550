"""The compiler pipeline in one place: source -> AST -> typed IR -> passes -> BPF object.

Also the compile cache, so that running the same script again skips compiling. The cache
key covers everything the object depends on: the source, its name (line info), the dialect,
btc's version and the kernel release (tracepoint layouts, syscall tables).
"""
from __future__ import annotations

import hashlib
import io
import os
import platform
import tempfile

from btc import __version__

STAGES = ("ast", "ir", "llvm", "asm", "obj")


def parse(source: str, filename: str, dialect: str):
    from btc.parser import parse as _parse

    return _parse(source, filename, dialect)


def to_ir(source: str, filename: str, dialect: str, params: list[str], dump_after=None, out=None):
    from btc.ir import analyze
    from btc.ir.passes import run_pipeline

    prog = analyze(parse(source, filename, dialect), params)
    return run_pipeline(prog, dump_after=dump_after, out=out)


def compile_source(source: str, filename: str, dialect: str, params: list[str]) -> bytes:
    from btc.backend_bpf.emit import compile_program

    return compile_program(to_ir(source, filename, dialect, params))


def emit(source: str, filename: str, dialect: str, params: list[str], stage: str,
         dump_after: str | None = None) -> str | bytes:
    """The output of one pipeline stage: text for ast/ir/llvm/asm, bytes for obj."""
    if stage == "ast":
        from btc.ir.ast_printer import format_ast

        return format_ast(parse(source, filename, dialect))
    buf = io.StringIO()
    prog = to_ir(source, filename, dialect, params, dump_after, buf)
    if stage == "ir":
        from btc.ir.printer import format_program

        return buf.getvalue() + format_program(prog)
    from btc.backend_bpf import emit as backend

    if stage == "llvm":
        return buf.getvalue() + backend.emit_llvm(prog)
    if stage == "asm":
        return buf.getvalue() + backend.emit_asm(prog)
    return backend.compile_program(prog)


def cache_dir() -> str:
    base = os.environ.get("BTC_CACHE_DIR") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "btc")
    return base


def cache_key(source: str, filename: str, dialect: str, params: list[str]) -> str:
    h = hashlib.sha256()
    parts = (__version__, platform.release(), platform.machine(), dialect, filename, source,
             *params)
    for part in parts:
        h.update(part.encode("utf-8", "surrogateescape") + b"\0")
    return h.hexdigest()


def compile_cached(source: str, filename: str, dialect: str, params: list[str]) -> bytes:
    """Compile, or reuse the object compiled earlier for the same inputs.

    Positional parameters are part of the key: analysis may type `$N` by its value (btrace
    reads a numeric word as a number). Set BTC_NO_CACHE=1 to bypass the cache.
    """
    if os.environ.get("BTC_NO_CACHE"):
        return compile_source(source, filename, dialect, params)
    path = os.path.join(cache_dir(), cache_key(source, filename, dialect, params) + ".o")
    try:
        with open(path, "rb") as f:
            return f.read()
    except OSError:
        pass
    obj = compile_source(source, filename, dialect, params)
    _write_atomically(path, obj)
    return obj


def _write_atomically(path: str, data: bytes) -> None:
    try:
        os.makedirs(os.path.dirname(path), exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=os.path.dirname(path))
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.replace(tmp, path)
    except OSError:
        pass  # a read-only cache only costs speed
