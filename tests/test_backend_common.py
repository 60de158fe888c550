"""Shared helpers for the back-end tests: hand-built IR, loading objects with bpftool (libbpf),
running BEGIN-style programs once with BPF_PROG_TEST_RUN and reading their maps back."""
from __future__ import annotations

import ctypes
import os
import shutil
import struct
import subprocess
import uuid

import pytest

from btc.diagnostics import Span
from btc.ir import nodes as N
from btc.ir import types as T

try:
    from kernel import require_bpf
except ImportError:  # pragma: no cover - kernel.py is shared; keep a local fallback

    def require_bpf() -> None:
        if os.environ.get("BTC_REQUIRE_BPF") == "1":
            return
        if os.geteuid() != 0:
            pytest.skip("bpf() needs root here")


I64, U64, I32, U32 = T.INT64, T.UINT64, T.INT32, T.UINT32
BPFFS = "/sys/fs/bpf"


# ---------------------------------------------------------------- IR construction


def sp(line: int, col: int = 1) -> Span:
    return Span("t.bt", line, col, line, col + 1)


def c(v: int, t: T.Type = I64) -> N.Const:
    return N.Const(value=v, type=t)


def s(text: str, n: int | None = None) -> N.StrConst:
    return N.StrConst(value=text.encode(), type=T.StrType(n or len(text) + 1))


def builtin(name: str, t: T.Type = U64, clock: str | None = None) -> N.BuiltinRead:
    return N.BuiltinRead(name=name, type=t, clock=clock)


def probe(kind: str = "BEGIN") -> N.ProbeInfo:
    table = {
        "BEGIN": ("raw_tp", 17, {"kind": "begin"}),
        "END": ("raw_tp", 17, {"kind": "end"}),
        "tp_openat": ("tracepoint/syscalls/sys_enter_openat", 5,
                      {"kind": "tracepoint", "category": "syscalls", "name": "sys_enter_openat"}),
        "tp_exec": ("tracepoint/sched/sched_process_exec", 5,
                    {"kind": "tracepoint", "category": "sched", "name": "sched_process_exec"}),
        "raw_enter": ("raw_tp/sys_enter", 17, {"kind": "raw_tracepoint", "name": "sys_enter"}),
        "profile": ("perf_event", 7, {"kind": "perf_event", "type": 1, "config": 0, "freq": True,
                                      "value": 99, "cpus": "all"}),
        "uprobe": ("uprobe", 2, {"kind": "uprobe", "path": "/bin/sh", "offset": 0, "retprobe": False, "pid": -1}),
    }
    section, ptype, attach = table[kind]
    return N.ProbeInfo(text=kind, display=kind, section=section, prog_type=ptype, attach=attach)


def func(body, kind: str = "BEGIN", name: str | None = None, filt: N.Expr | None = None, idx: int = 0) -> N.Function:
    return N.Function(name=name or f"p{idx}_{kind}", probe=probe(kind), filter=filt,
                      body=tuple(body), rule_index=idx, span=sp(idx + 1))


def program(functions, maps=(), printfs=(), prints=(), dialect="bpftrace", **kw) -> N.Program:
    src = kw.pop("source", "\n".join(f"rule {i}" for i in range(50)) + "\n")
    return N.Program(dialect=dialect, functions=tuple(functions), maps=tuple(maps), printfs=tuple(printfs),
                     prints=tuple(prints), source_name="t.bt", source=src, **kw)


def mapdecl(name: str, value: T.Type, key: T.Type | None = None, **kw) -> N.MapDecl:
    return N.MapDecl(name=name, key=key, value=value, **kw)


# ---------------------------------------------------------------- bpftool / libbpf


def ensure_bpffs() -> None:
    if not os.path.ismount(BPFFS):
        subprocess.run(["mount", "-t", "bpf", "bpf", BPFFS], check=False, capture_output=True)
    if not os.path.ismount(BPFFS):
        pytest.skip("bpffs cannot be mounted at /sys/fs/bpf")


def bpftool() -> str:
    path = shutil.which("bpftool")
    if path is None:
        pytest.skip("bpftool is not installed")
    return path


class Loaded:
    """An object loaded and pinned by `bpftool prog loadall` (programs and maps)."""

    def __init__(self, elf: bytes, tmp_path, tag: str):
        require_bpf()
        ensure_bpffs()
        self.obj = tmp_path / f"{tag}.o"
        self.obj.write_bytes(elf)
        uid = uuid.uuid4().hex[:8]
        self.progs = f"{BPFFS}/btc_test_{tag}_{uid}"
        self.maps = f"{BPFFS}/btc_test_{tag}_{uid}_maps"
        r = subprocess.run([bpftool(), "prog", "loadall", str(self.obj), self.progs, "pinmaps", self.maps],
                           capture_output=True, text=True)
        self.stderr = r.stderr
        if r.returncode != 0:
            self.close()
            pytest.fail(f"bpftool prog loadall failed:\n{r.stderr[-6000:]}")

    def close(self) -> None:
        for d in (self.progs, self.maps):
            shutil.rmtree(d, ignore_errors=True)

    def run(self, prog: str) -> int:
        fd = obj_get(f"{self.progs}/{prog}")
        try:
            return test_run(fd)
        finally:
            os.close(fd)

    def map_fd(self, sym: str) -> int:
        return obj_get(f"{self.maps}/{sym[:15]}")


@pytest.fixture
def loader(tmp_path):
    made = []

    def load(elf: bytes, tag: str = "x") -> Loaded:
        obj = Loaded(elf, tmp_path, tag)
        made.append(obj)
        return obj

    yield load
    for obj in made:
        obj.close()


# ---------------------------------------------------------------- raw bpf() for checking results

_libc = ctypes.CDLL(None, use_errno=True)


def _bpf(cmd: int, attr: bytearray) -> int:
    from btc.runtime.abi import syscall_nr

    buf = (ctypes.c_char * len(attr)).from_buffer(attr)
    r = _libc.syscall(syscall_nr("bpf"), cmd, buf, len(attr))
    if r < 0:
        e = ctypes.get_errno()
        raise OSError(e, os.strerror(e))
    return r


def obj_get(path: str) -> int:
    p = ctypes.create_string_buffer(path.encode())
    attr = bytearray(struct.pack("<QII", ctypes.addressof(p), 0, 0).ljust(24, b"\0"))
    return _bpf(7, attr)


def test_run(prog_fd: int) -> int:
    attr = bytearray(80)
    struct.pack_into("<I", attr, 0, prog_fd)
    _bpf(10, attr)
    return struct.unpack_from("<I", attr, 4)[0]


test_run.__test__ = False


def ncpus() -> int:
    text = open("/sys/devices/system/cpu/possible").read().strip()
    n = 0
    for part in text.split(","):
        lo, _, hi = part.partition("-")
        n += int(hi or lo) - int(lo) + 1
    return n


def lookup(map_fd: int, key: bytes, value_size: int, percpu: bool = False) -> bytes | None:
    size = ((value_size + 7) // 8 * 8) * ncpus() if percpu else value_size
    kbuf = ctypes.create_string_buffer(key, len(key) or 1)
    vbuf = ctypes.create_string_buffer(size)
    attr = bytearray(32)
    struct.pack_into("<IIQQQ", attr, 0, map_fd, 0, ctypes.addressof(kbuf), ctypes.addressof(vbuf), 0)
    try:
        _bpf(1, attr)
    except FileNotFoundError:
        return None
    return vbuf.raw


def keys(map_fd: int, key_size: int) -> list[bytes]:
    out, prev = [], None
    while True:
        nbuf = ctypes.create_string_buffer(key_size)
        pbuf = ctypes.create_string_buffer(prev, key_size) if prev is not None else None
        attr = bytearray(32)
        struct.pack_into("<IIQQQ", attr, 0, map_fd, 0, ctypes.addressof(pbuf) if pbuf else 0,
                         ctypes.addressof(nbuf), 0)
        try:
            _bpf(4, attr)
        except FileNotFoundError:
            return out
        prev = nbuf.raw
        out.append(prev)


def percpu_i64(raw: bytes, slot_size: int = 8) -> list[list[int]]:
    """Per-CPU slots as lists of i64 fields."""
    n = slot_size // 8
    vals = struct.unpack(f"<{len(raw) // 8}q", raw)
    return [list(vals[i * n:(i + 1) * n]) for i in range(len(vals) // n)]


def test_helpers_build_ir():
    prog = program([func([N.ExprStmt(expr=c(1))])])
    assert prog.functions[0].probe.section == "raw_tp"
