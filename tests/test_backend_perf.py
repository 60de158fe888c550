"""Compile time stays reasonable: a small program and a generated 1,000-statement program
(huge straight-line code is where LLVM used to go superlinear, linux-bpf.md §9)."""
from __future__ import annotations

import time

from test_backend_common import I64, U32, builtin, c, func, loader, mapdecl, program, sp  # noqa: F401

from btc.backend_bpf import compile_program
from btc.ir import nodes as N
from btc.ir import types as T


def small_program() -> N.Program:
    body = [N.MapAdd(map="@n", key=builtin("pid", U32), delta=c(1)),
            N.Printf(fmt_id=0, args=(builtin("pid", U32),))]
    return program([func(body)], maps=[mapdecl("@n", I64, U32)],
                   printfs=(N.PrintfDecl(fmt="%d\n", arg_types=(U32,)),))


def big_program(n: int = 1000) -> N.Program:
    body = []
    for i in range(n):
        kind = i % 4
        if kind == 0:
            body.append(N.MapAdd(map="@a", key=c(i), delta=c(1), span=sp(i + 1)))
        elif kind == 1:
            body.append(N.MapSet(map="@b", key=None,
                                 value=N.Binary(op="*", lhs=builtin("nsecs"), rhs=c(i), type=I64), span=sp(i + 1)))
        elif kind == 2:
            body.append(N.MapAgg(map="@h", key=None, value=c(i), span=sp(i + 1)))
        else:
            body.append(N.Printf(fmt_id=0, args=(c(i),), span=sp(i + 1)))
    src = "\n".join(f"stmt {i};" for i in range(n + 2)) + "\n"
    return program([func(body)], maps=[mapdecl("@a", I64, I64), mapdecl("@b", I64), mapdecl("@h", T.AggType("hist"))],
                   printfs=(N.PrintfDecl(fmt="%d\n", arg_types=(I64,)),), source=src)


def _timed(prog) -> tuple[float, bytes]:
    t0 = time.perf_counter()
    elf = compile_program(prog)
    return time.perf_counter() - t0, elf


def test_small_program_compiles_fast():
    _timed(small_program())  # warm up llvmlite
    dt, _ = _timed(small_program())
    print(f"small program: {dt * 1000:.1f} ms")
    assert dt < 1.0


def test_thousand_statements(loader):
    dt, elf = _timed(big_program())
    print(f"1000-statement program: {dt:.2f} s, {len(elf)} bytes")
    assert dt < 20.0
    loader(elf, "big")  # and the verifier accepts it
