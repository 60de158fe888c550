"""The compiler pipeline in one place: source -> AST -> typed IR -> passes -> BPF object.

Also the compile cache, so that running the same script again skips compiling. The cache
key covers the inputs (source, its name for line info, dialect, positional parameters, the
`-p` test and `--syscall-attach`), btc itself (version and a fingerprint of its code) and
the kernel (release, machine); a cached object is used only after the kernel facts recorded
in it (tracepoint layouts, see `btc.runtime.kernel_facts`) match the running kernel, and
only if it parses.
"""
from __future__ import annotations

import functools
import io
import os
import re

from btc import __version__
from btc.diagnostics import BtcError

STAGES = ("ast", "ir", "llvm", "asm", "obj")


def parse(source: str, filename: str, dialect: str):
    from btc.parser import parse as _parse

    return _parse(source, filename, dialect)


def to_ir(source: str, filename: str, dialect: str, params: list[str], dump_after=None, out=None,
          syscall_attach: str = "auto"):
    from btc.ir import analyze
    from btc.ir.passes import run_pipeline

    prog = analyze(parse(source, filename, dialect), params, syscall_attach)
    return run_pipeline(prog, dump_after=dump_after, out=out)


def compile_source(source: str, filename: str, dialect: str, params: list[str],
                   pid_check: bool = True, syscall_attach: str = "auto") -> bytes:
    from btc.parser.gc_pause import gc_paused

    # The compiler's imports (llvmlite, the parser tables, the IR) and stages allocate many
    # long-lived objects and few cycles: collections during them cost ~15 ms of a cold start.
    with gc_paused():
        from btc.backend_bpf.emit import compile_program

        prog = to_ir(source, filename, dialect, params, syscall_attach=syscall_attach)
        return compile_program(prog, kernel=kernel_facts(prog), pid_check=pid_check)


def kernel_facts(prog) -> dict:
    """What the object records about the kernel it was built for (`.btc.meta` `kernel`)."""
    from btc.runtime import kernel_facts as kf

    return kf.facts([{"attach": dict(f.probe.attach)} for f in prog.functions],
                    btf=getattr(prog, "uses_btf", False))


def emit(source: str, filename: str, dialect: str, params: list[str], stage: str,
         dump_after: str | None = None, syscall_attach: str = "auto") -> str | bytes:
    """The output of one pipeline stage: text for ast/ir/llvm/asm, bytes for obj.
    `syscall_attach`: "auto", "tracepoint" or "raw" (btc/ir/syscall_attach.py)."""
    from btc.parser.gc_pause import gc_paused

    with gc_paused():  # as in compile_source
        return _emit(source, filename, dialect, params, stage, dump_after, syscall_attach)


def _emit(source: str, filename: str, dialect: str, params: list[str], stage: str,
          dump_after: str | None, syscall_attach: str) -> str | bytes:
    if stage == "ast":
        from btc.ir.ast_printer import format_ast

        return format_ast(parse(source, filename, dialect))
    buf = io.StringIO()
    prog = to_ir(source, filename, dialect, params, dump_after, buf, syscall_attach)
    if stage == "ir":
        from btc.ir.printer import format_program

        return buf.getvalue() + format_program(prog)
    from btc.backend_bpf import emit as backend

    kernel = kernel_facts(prog)
    if stage == "llvm":
        return buf.getvalue() + backend.emit_llvm(prog, kernel=kernel)
    if stage == "asm":
        return buf.getvalue() + backend.emit_asm(prog, kernel=kernel)
    return backend.compile_program(prog, kernel=kernel)


def cache_dir() -> str:
    return os.environ.get("BTC_CACHE_DIR") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "btc")


def cache_enabled() -> bool:
    return os.environ.get("BTC_NO_CACHE", "") in ("", "0")


def _sha256():
    """A SHA-256 hash object without importing hashlib, which loads OpenSSL and builds every
    constructor (~8 ms, a third of a cached start): CPython's own SHA-256, same digest."""
    try:
        from _sha256 import sha256  # CPython 3.11
    except ImportError:
        try:
            from _sha2 import sha256  # CPython 3.12+
        except ImportError:
            from hashlib import sha256
    return sha256()


def cache_key(source: str, filename: str, dialect: str, params: list[str]) -> str:
    h = _sha256()
    uname = os.uname()
    parts = (__version__, code_fingerprint(), uname.release, uname.machine, dialect, filename,
             source, *params_shape(source, dialect, params))
    for part in parts:
        h.update(part.encode("utf-8", "surrogateescape") + b"\0")
    return h.hexdigest()


# `$N` next to a colon: a positional parameter inside a probe spec (`uprobe:$1:main`)
_PROBE_PARAM = re.compile(r":\$[0-9]|\$[0-9]+:")
# btrace: `$N` in the arguments of a call whose constant arguments btc folds at compile time
_FOLDED_PARAM = re.compile(r"\b(?:str|l?hist|print)\s*\([^;{}]*?,[^;{}]*?\$[0-9]")
# bpftrace: `$N` as a whole constant argument (`lhist(x, 0, $1, 10)`, `unroll($1)`)
_BPFTRACE_FOLDED = re.compile(r"\b(?:l?hist|buf|strncmp|str|print)\s*\([^;{}]*?,\s*\$[0-9]"
                              r"|\bunroll\s*\(\s*\$[0-9]")


def params_shape(source: str, dialect: str, params: list[str]) -> list[str]:
    """What compiling reads from the positional parameters: whether each word is a number
    (btrace types `$N` by it; bpftrace refuses a word used numerically), and the words
    themselves only where bpftrace substitutes them into probe specs. Their values are
    patched in when the object is loaded, so `btc run x.bt 123` and `... 456` share one."""
    if dialect == "bpftrace" and (_PROBE_PARAM.search(source) or _BPFTRACE_FOLDED.search(source)):
        return [f"={p}" for p in params]
    if dialect == "btrace" and _FOLDED_PARAM.search(source):
        return [f"={p}" for p in params]  # folded into constant arguments (`str($1, $2)`)
    return ["n" if _is_number(p) else "s" for p in params]


def _is_number(word: str) -> bool:
    """btc.probes.base.parse_int's test (C strtol, base 0), without importing btc.probes."""
    t = word.strip()
    try:
        if t.lower().startswith(("0x", "-0x")):
            int(t, 16)
        elif len(t) > 1 and t.startswith("0") and t.isdigit():
            int(t, 8)
        else:
            int(t, 10)
    except ValueError:
        return False
    return True


@functools.cache
def code_fingerprint() -> str:
    """Sizes and mtimes of btc's own files: a changed compiler (an upgrade, or a developer's
    edit without a version bump) never reuses objects compiled by the old one."""
    root = os.path.dirname(os.path.abspath(__file__))
    skip = len(root) + 1  # paths relative to root, by slicing (os.path.relpath is slow)
    entries, dirs = [], [root]
    while dirs:
        with os.scandir(dirs.pop()) as it:
            for e in it:
                if e.is_dir(follow_symlinks=False):
                    if e.name != "__pycache__":
                        dirs.append(e.path)
                elif e.name.endswith((".py", ".lark", ".json")):
                    st = e.stat()
                    entries.append(f"{e.path[skip:]}:{st.st_size}:{st.st_mtime_ns}")
    h = _sha256()
    h.update("\n".join(sorted(entries)).encode())
    return h.hexdigest()


def compile_cached(source: str, filename: str, dialect: str, params: list[str],
                   pid_check: bool = True, syscall_attach: str = "auto") -> bytes:
    """Compile, or reuse the object compiled earlier for the same inputs on this kernel.
    `pid_check`: whether the probes carry the `-p PID` test (`btc run` without -p leaves it out).
    `syscall_attach`: how syscall probes attach (`--syscall-attach`), part of the key.

    Positional parameters count by their shape (`params_shape`). Set BTC_NO_CACHE=1 to
    bypass the cache.
    """
    if not cache_enabled():
        return compile_source(source, filename, dialect, params, pid_check, syscall_attach)
    key = cache_key(source, filename, dialect, params) + ("" if pid_check else "-nopid") \
        + ("" if syscall_attach == "auto" else f"-sys{syscall_attach}")
    path = os.path.join(cache_dir(), key + ".o")
    obj = _read_valid(path)
    if obj is None:
        obj = compile_source(source, filename, dialect, params, pid_check, syscall_attach)
        _write_atomically(path, obj)
        _prune(os.path.dirname(path))
    return obj


CACHE_ENTRIES = 256  # objects kept; the least recently written go first


def _prune(directory: str, keep: int = CACHE_ENTRIES) -> None:
    try:
        with os.scandir(directory) as it:
            entries = [(e.stat().st_mtime_ns, e.path) for e in it if e.name.endswith(".o")]
        entries.sort()
        for _, old in entries[:max(0, len(entries) - keep)]:
            os.unlink(old)
    except OSError:
        pass  # another btc pruned first, or the cache is read-only


def _read_valid(path: str) -> bytes | None:
    """The cached object at `path` if it parses and fits this kernel; None otherwise (a
    corrupt or stale entry is recompiled and overwritten, never an error)."""
    from btc.runtime.meta_read import read_meta

    try:
        with open(path, "rb") as f:
            data = f.read()
        read_meta(data)
    except (OSError, BtcError):
        return None
    return data


def _write_atomically(path: str, data: bytes) -> None:
    import tempfile  # only on a miss: keeps the cached start-up path lean

    tmp = None
    try:
        os.makedirs(os.path.dirname(path), exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=os.path.dirname(path), suffix=".tmp")
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.replace(tmp, path)
    except OSError:
        if tmp is not None and os.path.exists(tmp):
            os.unlink(tmp)  # a read-only or full cache only costs speed
