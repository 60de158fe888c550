"""Compile hand-built IR, load it into the real kernel and run it once (BPF_PROG_TEST_RUN on a
raw_tp program), then read the maps back: the numbers the BPF code computed must follow bt's
semantics (docs/design.md §3, bt-language.md §5.2/§8, output-formats.md §3.1)."""
from __future__ import annotations

import struct

import pytest
from test_backend_common import (I32, I64, U32, U64, builtin, c, func, keys, loader, lookup, mapdecl,  # noqa: F401
                                 ncpus, percpu_i64, program, s, sp)

from btc.backend_bpf import compile_program
from btc.ir import nodes as N
from btc.ir import types as T

INT_KEY = I64


def results_program(exprs: list[N.Expr], extra=(), maps=(), dialect="bpftrace", **kw) -> N.Program:
    """BEGIN { @r[0] = e0; @r[1] = e1; ... } with @r: int64 -> int64."""
    body = list(extra) + [N.MapSet(map="@r", key=c(i), value=e, span=sp(i + 1)) for i, e in enumerate(exprs)]
    return program([func(body)], maps=[mapdecl("@r", I64, INT_KEY), *maps], dialect=dialect, **kw)


def run_results(loader, prog: N.Program, n: int) -> list[int | None]:
    obj = loader(compile_program(prog), "sem")
    assert obj.run("p0_BEGIN") == 0
    fd = obj.map_fd("m_r")
    out = []
    for i in range(n):
        raw = lookup(fd, struct.pack("<q", i), 8)
        out.append(None if raw is None else struct.unpack("<q", raw)[0])
    return out


def b(op, x, y, signed=True, t=I64):
    return N.Binary(op=op, lhs=x, rhs=y, signed=signed, type=t if op not in ("==", "!=", "<", "<=", ">", ">=") else T.BOOL)


def _c_div(x, y):
    if y == 0:
        return 0
    q = abs(x) // abs(y)
    return q if (x < 0) == (y < 0) else -q


def _c_mod(x, y):
    if y == 0:
        return x
    r = abs(x) % abs(y)
    return r if x >= 0 else -r


DIV_CASES = [(7, 2), (-7, 2), (7, -2), (-7, -2), (5, 0), (-5, 0), (0, 3), (-(2**63), -1), (100, 7)]


def test_signed_division_and_modulo(loader):
    # operands come from a map written at run time, so LLVM cannot fold the arithmetic
    extra, exprs, want = [], [], []
    for i, (x, y) in enumerate(DIV_CASES):
        extra += [N.MapSet(map="@v", key=c(2 * i), value=c(x)), N.MapSet(map="@v", key=c(2 * i + 1), value=c(y))]
        vx = N.MapGet(map="@v", key=c(2 * i), type=I64)
        vy = N.MapGet(map="@v", key=c(2 * i + 1), type=I64)
        exprs += [b("/", vx, vy), b("%", vx, vy), b("/", vx, vy, signed=False), b("%", vx, vy, signed=False)]
        ux, uy = x % 2**64, y % 2**64
        want += [_c_div(x, y), _c_mod(x, y), ux // uy if uy else 0, ux % uy if uy else ux]
    prog = results_program(exprs, extra=extra, maps=[mapdecl("@v", I64, I64)])
    assert run_results(loader, prog, len(exprs)) == [_wrap(v) for v in want]


def test_constant_division_folds_the_same_way(loader):
    exprs, want = [], []
    for x, y in DIV_CASES:
        exprs += [b("/", c(x), c(y)), b("%", c(x), c(y))]
        want += [_c_div(x, y), _c_mod(x, y)]
    assert run_results(loader, results_program(exprs), len(exprs)) == [_wrap(v) for v in want]


def _wrap(v: int) -> int:
    v &= (1 << 64) - 1
    return v - (1 << 64) if v >= 1 << 63 else v


def test_division_by_runtime_zero(loader):
    # the divisor comes from a map so LLVM cannot fold it: x/0 = 0, x%0 = x (BPF semantics)
    zero = N.MapGet(map="@z", key=None, type=I64)
    exprs = [b("/", c(9), zero), b("%", c(9), zero), b("/", c(9), zero, signed=False),
             b("%", c(-9), zero), b("/", c(-9), b("+", zero, c(2)))]
    prog = results_program(exprs, extra=[N.MapSet(map="@z", key=None, value=c(0))], maps=[mapdecl("@z", I64)])
    assert run_results(loader, prog, len(exprs)) == [0, 9, 0, -9, -4]


def test_arith_compare_shift_unary_logical(loader):
    seven = N.MapGet(map="@z", key=None, type=I64)  # 7 at run time
    exprs = [
        b("+", seven, c(5)), b("-", seven, c(10)), b("*", seven, c(-3)),
        b("&", seven, c(3)), b("|", seven, c(8)), b("^", seven, c(1)),
        b("<<", seven, c(2)), b(">>", c(-16), c(2)), b(">>", c(-16), c(60), signed=False),
        b("<", c(-1), seven), b("<", c(-1), seven, signed=False), b("==", seven, c(7)), b(">=", seven, c(8)),
        N.Unary(op="-", operand=seven, type=I64), N.Unary(op="~", operand=seven, type=I64),
        N.Unary(op="!", operand=seven, type=I64),
        N.Logical(op="&&", lhs=seven, rhs=c(0), type=I64), N.Logical(op="||", lhs=c(0), rhs=seven, type=I64),
        N.Logical(op="&&", lhs=seven, rhs=c(3), short_circuit=False, type=I64),
        N.Ternary(cond=b("==", seven, c(7)), then=c(11), orelse=c(22), type=I64),
        N.Cast(expr=c(-1), type=U32), N.Cast(expr=N.Cast(expr=c(-1), type=I32), type=I64),
        N.Cast(expr=N.Cast(expr=c(0x1FF), type=T.IntType(8, False)), type=I64),
    ]
    want = [12, -3, -21, 3, 15, 6, 28, -4, 15, 1, 0, 1, 0, -7, -8, 0, 0, 1, 1, 11, 0xFFFFFFFF, -1, 0xFF]
    prog = results_program(exprs, extra=[N.MapSet(map="@z", key=None, value=c(7))], maps=[mapdecl("@z", I64)])
    assert run_results(loader, prog, len(exprs)) == want


def test_locals_loops_tuples_strings(loader):
    lg = lambda n, t=I64: N.LocalGet(name=n, type=t)  # noqa: E731
    tup_t = T.TupleType((I64, T.StrType(8), I32))
    body = [
        N.LocalSet(name="$i", value=c(0)),
        N.LocalSet(name="$sum", value=c(0)),
        N.While(cond=b("<", lg("$i"), c(10)), body=(
            N.LocalSet(name="$i", value=b("+", lg("$i"), c(1))),
            N.If(cond=b("==", lg("$i"), c(3)), then=(N.Continue(),)),
            N.If(cond=b(">", lg("$i"), c(8)), then=(N.Break(),)),
            N.LocalSet(name="$sum", value=b("+", lg("$sum"), lg("$i"))),
        )),
        N.Unroll(count=3, body=(N.LocalSet(name="$sum", value=b("+", lg("$sum"), c(100))),)),
        N.LocalSet(name="$t", value=N.TupleNew(elems=(c(5), s("abc", 8), c(-2, I32)), type=tup_t)),
        N.LocalSet(name="$str", value=N.TupleGet(expr=lg("$t", tup_t), index=1, type=T.StrType(8))),
    ]
    st8 = T.StrType(8)
    exprs = [
        lg("$sum"),
        N.TupleGet(expr=lg("$t", tup_t), index=0, type=I64),
        N.Cast(expr=N.TupleGet(expr=lg("$t", tup_t), index=2, type=I32), type=I64),
        N.StrCmp(op="==", lhs=lg("$str", st8), rhs=s("abc"), type=I64),
        N.StrCmp(op="==", lhs=lg("$str", st8), rhs=s("abd"), type=I64),
        N.StrCmp(op="!=", lhs=lg("$str", st8), rhs=s("ab"), type=I64),
        N.StrCmp(op="==", lhs=lg("$str", st8), rhs=s("abX"), n=2, type=I64),
        N.StrCmp(op="==", lhs=lg("$str", st8), rhs=N.TupleGet(expr=lg("$t", tup_t), index=1, type=st8), type=I64),
        N.StrCmp(op="==", lhs=lg("$str", st8), rhs=N.Ternary(cond=c(0), then=s("x", 8), orelse=s("abc", 8), type=st8),
                 type=I64),
        lg("$never"),
    ]
    want = [1 + 2 + 4 + 5 + 6 + 7 + 8 + 300, 5, -2, 1, 0, 1, 1, 1, 1, 0]
    assert run_results(loader, results_program(exprs, extra=body), len(exprs)) == want


def test_map_verbs(loader):
    """MapAdd (atomic), MapGet with and without insert, MapHasKey, MapDelete, string values."""
    st = T.StrType(16)
    extra = [
        N.MapAdd(map="@n", key=c(1), delta=c(5)),
        N.MapAdd(map="@n", key=c(1), delta=c(2)),
        N.MapAdd(map="@n", key=c(2), delta=c(1)),
        N.MapDelete(map="@n", key=c(2)),
        N.MapAdd(map="@cnt", key=None, delta=c(3)),
        N.MapSet(map="@name", key=s("k", 16), value=s("hello", 16)),
        N.ExprStmt(expr=N.MapGet(map="@n", key=c(40), insert_missing=True, type=I64)),
        N.ExprStmt(expr=N.MapGet(map="@n", key=c(41), insert_missing=False, type=I64)),
    ]
    exprs = [
        N.MapGet(map="@n", key=c(1), type=I64),
        N.MapHasKey(map="@n", key=c(2), type=I64),
        N.MapGet(map="@cnt", key=None, type=I64),
        N.StrCmp(op="==", lhs=N.MapGet(map="@name", key=s("k", 16), type=st), rhs=s("hello"), type=I64),
        N.MapHasKey(map="@n", key=c(40), type=I64),
        N.MapHasKey(map="@n", key=c(41), type=I64),
    ]
    maps = [mapdecl("@n", I64, I64), mapdecl("@cnt", I64), mapdecl("@name", st, st)]
    assert run_results(loader, results_program(exprs, extra=extra, maps=maps), len(exprs)) == [7, 0, 3, 1, 1, 0]


def _agg_prog(dialect: str, kind: str, values: list[int], **aggkw) -> N.Program:
    agg = T.AggType(kind=kind, **aggkw)
    body = [N.MapAgg(map="@a", key=c(1), value=None if kind == "count" else c(v)) for v in values]
    body += [N.MapAgg(map="@u", key=None, value=None if kind == "count" else c(v)) for v in values]
    maps = [mapdecl("@a", agg, I64), mapdecl("@u", agg)]
    return program([func(body)], maps=maps, dialect=dialect)


def _run_agg(loader, prog, ksize=8, vsize=8, unkeyed=True):
    obj = loader(compile_program(prog), "agg")
    assert obj.run("p0_BEGIN") == 0
    fd = obj.map_fd("m_a")
    out = {k: percpu_i64(lookup(fd, k, vsize, percpu=True), vsize) for k in keys(fd, ksize)}
    if unkeyed:
        raw = lookup(obj.map_fd("m_u"), b"\0" * 4 if ksize == 8 else b"", vsize, percpu=True)
        return out, raw
    return out, None


def _summed(slots: list[list[int]]) -> list[int]:
    return [sum(col) for col in zip(*slots)]


@pytest.mark.parametrize("dialect", ["bpftrace", "btrace"])
def test_count_sum_avg(loader, dialect):
    for kind, want in (("count", [3]), ("sum", [6]), ("avg", [6, 3]), ("stats", [6, 3])):
        vsize = 16 if kind in ("avg", "stats") else 8
        out, raw = _run_agg(loader, _agg_prog(dialect, kind, [1, 2, 3]), vsize=vsize)
        assert [_summed(v) for v in out.values()] == [want], kind
        assert _summed(percpu_i64(raw, vsize)) == want


def _minmax(out, dialect):
    slots = list(out.values())[0]
    if dialect == "btrace":
        vals = [sl[0] for sl in slots]  # every slot counts
    else:
        vals = [sl[0] for sl in slots if sl[1]]
    return vals


@pytest.mark.parametrize("dialect,kind,values,want", [
    ("bpftrace", "min", [5, 3, 9], 3), ("bpftrace", "max", [-5, -3, -9], -3),
    ("btrace", "min", [5, 3, 9], 0), ("btrace", "max", [-5, -3, -9], 0),
    ("btrace", "min", [5, -3, 9], -3),
])
def test_min_max(loader, dialect, kind, values, want):
    out, _ = _run_agg(loader, _agg_prog(dialect, kind, values), vsize=16)
    vals = _minmax(out, dialect)
    assert (min if kind == "min" else max)(vals) == want


def _hist_buckets(loader, dialect, values, **aggkw):
    kind = "lhist" if "lhist" in aggkw else "hist"
    out, _ = _run_agg(loader, _agg_prog(dialect, kind, values, **aggkw), ksize=16, unkeyed=False)
    res = {}
    for k, slots in out.items():
        user, bucket = struct.unpack("<qQ", k)
        assert user == 1
        res[bucket] = _summed(slots)[0]
    return res


def _bpftrace_log2(v: int, k: int) -> int:
    if v < 0:
        return 0
    if v < (1 << k):
        return v + 1
    m = v.bit_length() - 1
    return ((m - k + 1) << k) + ((v >> (m - k)) & ((1 << k) - 1)) + 1


def _btrace_pow2(v: int) -> int:
    if v <= 0:
        return 0
    p = 1
    while p < v:
        p <<= 1
    return p


HIST_VALUES = [-5, 0, 1, 2, 3, 4, 5, 7, 8, 1000, 1024, 1025, 2**40 + 3]


@pytest.mark.parametrize("bits", [0, 2])
def test_hist_bpftrace(loader, bits):
    got = _hist_buckets(loader, "bpftrace", HIST_VALUES, bits=bits)
    want: dict[int, int] = {}
    for v in HIST_VALUES:
        want[_bpftrace_log2(v, bits)] = want.get(_bpftrace_log2(v, bits), 0) + 1
    assert got == want


def test_hist_btrace(loader):
    got = _hist_buckets(loader, "btrace", HIST_VALUES)
    want: dict[int, int] = {}
    for v in HIST_VALUES:
        want[_btrace_pow2(v)] = want.get(_btrace_pow2(v), 0) + 1
    assert got == want


LHIST_VALUES = [-1, 0, 4, 5, 7, 10, 19, 20, 99, 100, 101, 500]


def test_lhist_both_dialects(loader):
    lo, hi, step = 5, 100, 10
    got = _hist_buckets(loader, "bpftrace", LHIST_VALUES, lhist=(lo, hi, step))
    want: dict[int, int] = {}
    for v in LHIST_VALUES:
        idx = 0 if v < lo else (1 + (hi - lo) // step if v > hi else 1 + (v - lo) // step)
        want[idx] = want.get(idx, 0) + 1
    assert got == want
    got = _hist_buckets(loader, "btrace", LHIST_VALUES, lhist=(lo, hi, step))
    want = {}
    for v in LHIST_VALUES:
        if lo <= v <= hi:
            key = (v // step + 1) * step
            want[key] = want.get(key, 0) + 1
    assert got == want


def test_aggregation_read_in_expression(loader):
    """Reading count/sum/avg/min maps in BPF sums over CPUs (map_lookup_percpu_elem)."""
    body = [N.MapAgg(map="@c", key=c(1), value=None), N.MapAgg(map="@c", key=c(1), value=None),
            N.MapAgg(map="@s", key=None, value=c(40)), N.MapAgg(map="@s", key=None, value=c(2)),
            N.MapAgg(map="@v", key=None, value=c(10)), N.MapAgg(map="@v", key=None, value=c(21)),
            N.MapAgg(map="@m", key=None, value=c(9)), N.MapAgg(map="@m", key=None, value=c(4))]
    exprs = [N.MapGet(map="@c", key=c(1), type=I64), N.MapGet(map="@c", key=c(2), type=I64),
             N.MapGet(map="@s", key=None, type=I64), N.MapGet(map="@v", key=None, type=I64),
             N.MapGet(map="@m", key=None, type=I64)]
    maps = [mapdecl("@c", T.AggType("count"), I64), mapdecl("@s", T.AggType("sum")),
            mapdecl("@v", T.AggType("avg")), mapdecl("@m", T.AggType("min"))]
    assert run_results(loader, results_program(exprs, extra=body, maps=maps), len(exprs)) == [2, 0, 42, 15, 4]


def test_filter_skips_body(loader):
    prog = program([func([N.MapSet(map="@r", key=c(0), value=c(1))], filt=b("==", c(1), N.MapGet(map="@r", key=c(9), type=I64)))],
                   maps=[mapdecl("@r", I64, I64)])
    assert run_results(loader, prog, 1) == [None]


def test_builtins_in_begin(loader):
    """pid/tid/comm/uid/cpu as the kernel reports them for this (test-running) thread."""
    import os
    import threading

    exprs = [N.Cast(expr=builtin("pid", U32), type=I64), N.Cast(expr=builtin("tid", U32), type=I64),
             N.Cast(expr=builtin("uid", U64), type=I64), b("!=", builtin("nsecs"), c(0)),
             b("<", N.Cast(expr=builtin("cpu", U32), type=I64), c(4096)),
             N.StrCmp(op="==", lhs=builtin("comm", T.StrType(16)), rhs=s("btcsem"), type=I64)]
    prog = results_program(exprs)
    import ctypes

    libc = ctypes.CDLL(None)
    old = open("/proc/self/comm").read().strip()
    libc.prctl(15, b"btcsem", 0, 0, 0)  # PR_SET_NAME
    try:
        got = run_results(loader, prog, len(exprs))
    finally:
        libc.prctl(15, old.encode(), 0, 0, 0)
    assert got == [os.getpid(), threading.get_native_id(), os.getuid(), 1, 1, 1]


def test_tuple_and_string_widening_into_map_values(loader):
    narrow = T.TupleType((I32, T.StrType(3)))
    wide = T.TupleType((I64, T.StrType(16)))
    extra = [
        N.MapSet(map="@tw", key=None, value=N.TupleNew(elems=(c(-3, I32), s("ab")), type=narrow)),
        N.MapSet(map="@sw", key=c(1), value=s("xy")),
    ]
    got = N.MapGet(map="@tw", key=None, type=wide)
    exprs = [
        N.TupleGet(expr=got, index=0, type=I64),
        N.StrCmp(op="==", lhs=N.TupleGet(expr=got, index=1, type=T.StrType(16)), rhs=s("ab"), type=I64),
        N.StrCmp(op="==", lhs=N.MapGet(map="@sw", key=c(1), type=T.StrType(32)), rhs=s("xy"), type=I64),
    ]
    maps = [mapdecl("@tw", wide), mapdecl("@sw", T.StrType(32), I64)]
    assert run_results(loader, results_program(exprs, extra=extra, maps=maps), len(exprs)) == [-3, 1, 1]


def test_kernel_and_user_stack_ids(loader):
    exprs = [N.Cast(expr=builtin("kstack", T.StackType("kernel")), type=I64),
             N.Cast(expr=builtin("ustack", T.StackType("user")), type=I64)]
    prog = results_program(exprs)
    obj = loader(compile_program(prog), "stk")
    assert obj.run("p0_BEGIN") == 0
    fd = obj.map_fd("m_r")
    kid = struct.unpack("<q", lookup(fd, struct.pack("<q", 0), 8))[0]
    uid = struct.unpack("<Q", lookup(fd, struct.pack("<q", 1), 8))[0]
    import os

    assert kid >= 0
    assert uid >> 32 == os.getpid()
    ips = lookup(obj.map_fd("kstacks"), struct.pack("<I", kid), 8 * 127)
    assert ips is not None and struct.unpack_from("<Q", ips)[0] >= 0xFFFF800000000000


def _patch_rodata(elf: bytes, values: dict) -> bytes:
    """Write slot values into the ELF's .rodata the way the runtime does before loading:
    section offset = st_value(sym) + slot offset."""
    import io

    from elftools.elf.elffile import ELFFile

    from btc import meta as M

    f = ELFFile(io.BytesIO(elf))
    meta = M.decode(f.get_section_by_name(M.META_SECTION).data())
    sec = f.get_section_by_name(M.RODATA_SECTION)
    sym = [x for x in f.get_section_by_name(".symtab").iter_symbols() if x.name == meta["rodata"]["sym"]][0]
    out = bytearray(elf)
    for slot in meta["rodata"]["slots"]:
        key = (slot["role"], slot["index"])
        if key not in values:
            continue
        data = values[key]
        if isinstance(data, int):
            data = struct.pack("<q" if slot["t"].get("signed") else "<Q", data)
        else:
            data = data.ljust(slot["t"]["size"], b"\0")
        pos = sec["sh_offset"] + sym["st_value"] + slot["offset"]
        out[pos:pos + len(data)] = data
    return bytes(out)


def test_rodata_slots_are_patched_before_load(loader):
    """Params, $#, elapsed and realtime nsecs read the patched .rodata (LLVM must not fold them)."""
    st = T.StrType(8)
    exprs = [
        N.Param(index=1, type=I64),
        N.StrCmp(op="==", lhs=N.Param(index=2, type=st), rhs=s("abc"), type=I64),
        N.ParamCount(type=I64),
        b("-", builtin("nsecs", I64, clock="realtime"), builtin("nsecs", I64, clock="boot")),
        b("<", builtin("elapsed", I64), c(0)),
        builtin("cpid", I64),
        b("-", builtin("nsecs", I64, clock="sw_tai"), builtin("nsecs", I64, clock="boot")),
        b("<", b("-", builtin("nsecs", I64, clock="tai"), builtin("nsecs", I64, clock="monotonic")), c(0)),
    ]
    prog = results_program(exprs, params=((1, I64), (2, st)))
    import time as _time

    start = _time.clock_gettime_ns(_time.CLOCK_BOOTTIME)
    offset = _time.time_ns() - _time.clock_gettime_ns(_time.CLOCK_BOOTTIME)
    elf = _patch_rodata(compile_program(prog), {("param", 1): -42, ("param", 2): b"abc", ("param_count", None): 2,
                                                ("realtime_offset_ns", None): offset, ("start_ns", None): start,
                                                ("cpid", None): 4242, ("tai_offset_ns", None): 37 * 10**9})
    obj = loader(elf, "rodata")
    assert obj.run("p0_BEGIN") == 0
    fd = obj.map_fd("m_r")
    got = [struct.unpack("<q", lookup(fd, struct.pack("<q", i), 8))[0] for i in range(len(exprs))]
    assert got[:3] == [-42, 1, 2]
    assert abs(got[3] - offset) < 10**9  # the two clock reads are ns apart
    assert got[4] == 0
    assert got[5] == 4242
    assert abs(got[6] - 37 * 10**9) < 10**9
    assert got[7] == 0


@pytest.mark.parametrize("size", [16, 200])
def test_long_string_compare(loader, size):
    """Straight-line compare for short strings, a bounded loop for long ones: same answers."""
    st = T.StrType(size)
    lg = lambda n: N.LocalGet(name=n, type=st)  # noqa: E731
    extra = [N.LocalSet(name="$a", value=s("hello world", size)), N.LocalSet(name="$b", value=s("hello world", size)),
             N.LocalSet(name="$c", value=s("hello there", size)), N.LocalSet(name="$d", value=s("hello", size))]
    eq = lambda x, y, op="==", n=None: N.StrCmp(op=op, lhs=lg(x), rhs=lg(y), n=n, type=I64)  # noqa: E731
    exprs = [eq("$a", "$b"), eq("$a", "$c"), eq("$a", "$d"), eq("$d", "$a"), eq("$a", "$c", "!="),
             eq("$a", "$c", n=6), eq("$d", "$d")]
    assert run_results(loader, results_program(exprs, extra=extra), len(exprs)) == [1, 0, 0, 0, 1, 1, 1]


def test_btrace_read_of_missing_aggregation_key_inserts_it(loader):
    read = N.MapGet(map="@c", key=c(7), insert_missing=True, type=I64)
    prog = results_program([read, N.MapHasKey(map="@c", key=c(7), type=I64)],
                           maps=[mapdecl("@c", T.AggType("count"), I64)], dialect="btrace")
    assert run_results(loader, prog, 2) == [0, 1]


@pytest.mark.parametrize("dialect", ["bpftrace", "btrace"])
def test_scalar_maps_unset_and_deleted(loader, dialect):
    """bpftrace: an unset or deleted scalar has no entry (it does not print); btrace: ARRAY."""
    body = [N.MapSet(map="@y", key=None, value=c(2)), N.MapDelete(map="@y", key=None),
            N.If(cond=c(0), then=(N.MapSet(map="@x", key=None, value=c(1)),)),
            N.MapAdd(map="@z", key=None, delta=c(3))]
    prog = program([func(body)], maps=[mapdecl("@x", I64), mapdecl("@y", I64), mapdecl("@z", I64)],
                   dialect=dialect)
    obj = loader(compile_program(prog), "scalar")
    assert obj.run("p0_BEGIN") == 0
    k0 = struct.pack("<I", 0)
    got = {n: lookup(obj.map_fd(f"m_{n}"), k0, 8) for n in "xyz"}
    assert struct.unpack("<q", got["z"])[0] == 3
    if dialect == "bpftrace":
        assert got["x"] is None and got["y"] is None
    else:  # btrace deletes in user space (an event): the BPF entry stays
        assert got["x"] == bytes(8) and struct.unpack("<q", got["y"])[0] == 2
