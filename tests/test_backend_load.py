"""Objects for every IR node kind load through libbpf (`bpftool prog loadall`) and pass the
kernel verifier; BTF shows the maps; the output is deterministic; `.btc.meta` round-trips;
ring-buffer records follow docs/design.md §3."""
from __future__ import annotations

import json
import mmap
import os
import struct
import subprocess
import sys

import pytest
from elftools.elf.elffile import ELFFile
from test_backend_common import (I32, I64, U32, U64, bpftool, builtin, c, func, keys, loader, lookup,  # noqa: F401
                                 mapdecl, program, s, sp)

from btc import meta as M
from btc.backend_bpf import compile_program, emit_asm, emit_llvm
from btc.diagnostics import BtcError
from btc.ir import nodes as N
from btc.ir import types as T

STR16 = T.StrType(16)
STR64 = T.StrType(64)
TUP = T.TupleType((I64, STR16))
STK = T.TupleType((T.StackType("kernel"), T.StackType("user")))


def _events_program(dialect="bpftrace") -> N.Program:
    printfs = (N.PrintfDecl(fmt="%d %s %d\n", arg_types=(U32, STR16, I64), span=sp(2, 3)),
               N.PrintfDecl(fmt="hello\n"))
    body = [
        N.Printf(fmt_id=0, args=(builtin("pid", U32), builtin("comm", STR16), c(-5)), span=sp(2, 3)),
        N.Printf(fmt_id=1, span=sp(3)),
        N.PrintValue(print_id=0, value=N.TupleNew(elems=(c(7), s("ab", 16)), type=TUP), span=sp(4)),
        N.PrintMap(map="@h", top=3, div=2, span=sp(5)),
        N.ClearMap(map="@h"), N.ZeroMap(map="@h"),
        N.Time(fmt_id=0, span=sp(6)),
        N.Exit(code=c(3), span=sp(7)),
        N.Printf(fmt_id=1, span=sp(8)),  # after exit: never runs
    ]
    return program([func(body)], maps=[mapdecl("@h", T.AggType("hist"), I64)], printfs=printfs,
                   prints=(TUP,), time_formats=("%H:%M:%S\n",), dialect=dialect, exit_order=("@h",))


def _all_kinds_program() -> N.Program:
    """Every IR node kind at least once, across the probe types btc emits."""
    lg = lambda n, t=I64: N.LocalGet(name=n, type=t)  # noqa: E731
    filename = N.StrRead(ptr=N.CtxLoad(offset=24, type=U64), type=STR64, user=True)
    tp = func([
        N.LocalSet(name="$f", value=filename),
        N.MapSet(map="@files", key=builtin("comm", STR16), value=lg("$f", STR64)),
        N.MapAgg(map="@lat", key=N.TupleNew(elems=(c(1), builtin("comm", STR16)), type=TUP),
                 value=b_("-", builtin("nsecs", clock="realtime"), builtin("elapsed"))),
        N.MapAgg(map="@lh", key=None, value=N.CtxLoad(offset=32, type=I64)),
        N.If(cond=N.StrCmp(op="==", lhs=lg("$f", STR64), rhs=s("/etc/passwd"), type=I64),
             then=(N.MapAdd(map="@hits", key=None, delta=c(1)),),
             orelse=(N.MapDelete(map="@files", key=builtin("comm", STR16)),)),
        N.ExprStmt(expr=N.StrRead(ptr=N.CtxLoad(offset=24, type=U64), length=N.Param(index=1, type=I64),
                                  type=STR16, user=True)),
        N.MapSet(map="@p", key=N.Param(index=2, type=STR16), value=N.ParamCount(type=I64)),
        N.Return(),
    ], kind="tp_openat", idx=1, filt=N.Logical(op="||", lhs=b_("==", builtin("pid", U32), c(1, U32)),
                                                rhs=N.MapHasKey(map="@hits", key=None, type=I64), type=I64))
    raw = func([
        N.MapSet(map="@arg0", key=None, value=N.CtxLoad(offset=0, deref_offset=112, type=U64)),
        N.MapSet(map="@nr", key=None, value=N.CtxLoad(offset=8, type=I64)),
        N.MapAgg(map="@mx", key=builtin("tid", U32), value=N.CtxLoad(offset=8, type=I64)),
    ], kind="raw_enter", idx=2)
    execp = func([
        N.MapSet(map="@exec", key=N.CtxDataLoc(offset=8, type=STR64), value=builtin("cgroup")),
        N.MapAgg(map="@st", key=None, value=builtin("rand", U32)),
    ], kind="tp_exec", idx=3)
    prof = func([N.MapAgg(map="@cpu", key=builtin("cpu", U32), value=None),
                 N.MapAgg(map="@stk", key=N.TupleNew(elems=(builtin("kstack", T.StackType("kernel")),
                                                            builtin("ustack", T.StackType("user"))), type=STK),
                          value=None),
                 N.Printf(fmt_id=0, args=(builtin("jiffies"),))], kind="profile", idx=4)
    up = func([N.MapSet(map="@nr", key=None, value=N.Ternary(cond=c(1), then=N.CtxLoad(offset=112, type=I64),
                                                              orelse=c(0), type=I64)),
               N.ExprStmt(expr=N.Cast(expr=N.CtxLoad(offset=80, type=I64), type=I32))], kind="uprobe", idx=5)
    end = func([N.PrintMap(map="@lat"), N.Exit()], kind="END", idx=6)
    begin = func([N.MapSet(map="@hits", key=None, value=c(0)), N.Time(fmt_id=0)], kind="BEGIN", idx=0)
    maps = [
        mapdecl("@files", STR64, STR16), mapdecl("@lat", T.AggType("hist", bits=2), TUP),
        mapdecl("@lh", T.AggType("lhist", lhist=(0, 100, 10))), mapdecl("@hits", I64),
        mapdecl("@p", I64, STR16), mapdecl("@arg0", U64), mapdecl("@nr", I64),
        mapdecl("@mx", T.AggType("max"), U32), mapdecl("@exec", U64, STR64),
        mapdecl("@st", T.AggType("stats")), mapdecl("@cpu", T.AggType("count"), U32),
        mapdecl("$x@r1", I64, hidden=True, print_at_exit=False), mapdecl("@stk", T.AggType("count"), STK),
    ]
    return program([begin, tp, raw, execp, prof, up, end], maps=maps, time_formats=("%s",),
                   printfs=(N.PrintfDecl(fmt="%d\n", arg_types=(U64,)),),
                   params=((1, I64), (2, STR16)), exit_order=("@lat", "@files"))


def b_(op, x, y, t=I64):
    return N.Binary(op=op, lhs=x, rhs=y, type=t)


def test_all_node_kinds_load(loader):
    prog = _all_kinds_program()
    elf = compile_program(prog)
    obj = loader(elf, "all")
    names = sorted(os.listdir(obj.progs))
    assert names == sorted(f.name for f in prog.functions)
    # libbpf ignores the metadata section, saying so at info level only
    meta_lines = [ln for ln in obj.stderr.splitlines() if M.META_SECTION in ln]
    assert all("skipping unrecognized data section" in ln for ln in meta_lines)
    assert not [ln for ln in obj.stderr.splitlines() if "warn" in ln.lower() or "error" in ln.lower()]
    for name in names:  # the kernel accepted the BTF (libbpf would silently drop rejected BTF)
        info = json.loads(subprocess.run([bpftool(), "-j", "prog", "show", "pinned", f"{obj.progs}/{name}"],
                                         capture_output=True, text=True, check=True).stdout)
        assert info.get("btf_id", 0) != 0, name


def test_deterministic_across_processes():
    code = ("import sys, hashlib; sys.path.insert(0, 'tests');"
            "from test_backend_load import _all_kinds_program;"
            "from btc.backend_bpf import compile_program;"
            "print(hashlib.sha256(compile_program(_all_kinds_program(), kernel={})).hexdigest())")
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    env = {**os.environ, "PYTHONPATH": root}
    outs = {subprocess.run([sys.executable, "-c", code], cwd=root, capture_output=True, text=True, check=True,
                           env={**env, "PYTHONHASHSEED": seed}).stdout for seed in ("1", "2")}
    assert len(outs) == 1


def test_btf_shows_maps_with_key_and_value_types(tmp_path):
    elf = compile_program(_all_kinds_program())
    path = tmp_path / "o.o"
    path.write_bytes(elf)
    out = subprocess.run([bpftool(), "btf", "dump", "file", str(path)], capture_output=True, text=True,
                         check=True).stdout
    assert "DATASEC '.maps'" in out
    for sym in ("m_files", "m_lat", "m_lh", "m_hits", "events", "lost", "m__x_r1"):
        assert f"VAR '{sym}'" in out, sym
    assert "DATASEC '.rodata'" in out and "VAR 'btc_rodata'" in out
    # the hist key is the user tuple followed by the u64 bucket; the ctx parameter is named
    assert "'bucket'" in out and "'ctx'" in out
    assert "STRUCT 'agg_max'" in out and "STRUCT 'agg_stats'" in out


def _sections(elf: bytes) -> dict[str, bytes]:
    import io

    f = ELFFile(io.BytesIO(elf))
    return {sec.name: sec.data() for sec in f.iter_sections()}


def test_object_layout_and_meta_round_trip():
    prog = _all_kinds_program()
    elf = compile_program(prog, kernel={"release": "test"})
    secs = _sections(elf)
    for name in ("license", ".maps", ".BTF", ".BTF.ext", ".rodata", M.META_SECTION,
                 "tracepoint/syscalls/sys_enter_openat", "raw_tp/sys_enter", "perf_event", "uprobe", "raw_tp"):
        assert name in secs, name
    assert secs["license"] == b"GPL\0"
    assert not any(n.startswith(".eh_frame") for n in secs)
    meta = M.decode(secs[M.META_SECTION])
    assert meta["version"] == M.META_VERSION and meta["dialect"] == "bpftrace"
    assert meta["kernel"] == {"release": "test"}
    assert [p["func"] for p in meta["programs"]] == [f.name for f in prog.functions]
    assert meta["programs"][2]["section"] == "raw_tp/sys_enter" and meta["programs"][2]["prog_type"] == 17
    assert meta["programs"][0]["section"] == meta["programs"][-1]["section"] == "raw_tp"
    descs = {d.name: d for d in M.map_descs(meta)}
    assert [m["name"] for m in meta["maps"]][: len(prog.maps)] == [m.name for m in prog.maps]
    lat = descs["@lat"]
    assert (lat.map_type, lat.key_size, lat.value_size, lat.agg, lat.percpu, lat.hist_bits) == (5, 32, 8, "hist", True, 2)
    assert lat.key == T.to_typedesc(TUP)
    # bpftrace scalars may be absent (unset / deleted): a one-entry HASH keyed by u32 0
    assert (descs["@hits"].map_type, descs["@hits"].key, descs["@hits"].key_size,
            descs["@hits"].max_entries) == (1, None, 4, 1)
    assert (descs["@files"].map_type, descs["@files"].key_size, descs["@files"].value_size) == (1, 16, 64)
    assert (descs["@mx"].map_type, descs["@mx"].value_size) == (5, 16)
    assert (descs["@st"].map_type, descs["@st"].max_entries) == (6, 1)
    assert descs["@lh"].lhist == [0, 100, 10]
    assert descs["events"].map_type == 27 and descs["events"].internal
    assert (descs["kstacks"].map_type, descs["kstacks"].key_size, descs["kstacks"].value_size) == (7, 4, 8 * 127)
    assert descs["ustacks"].value == {"k": "stack", "kind": "user"}
    assert descs["@stk"].key == T.to_typedesc(STK)
    assert descs["$x@r1"].hidden and descs["$x@r1"].sym == "m__x_r1"
    assert meta["print_at_exit"] == ["@lat", "@files"]
    slots = meta["rodata"]["slots"]
    roles = [(sl["role"], sl["index"]) for sl in slots]
    assert roles == [("param_count", None), ("param", 1), ("param", 2), ("start_ns", None),
                     ("realtime_offset_ns", None), ("target_pid", None)]
    assert meta["params"]["slots"][1]["t"] == {"k": "str", "size": 16}
    assert meta["params"]["count_slot"]["offset"] == 0
    assert meta["events"]["nsecs_clock"] == "realtime"
    # the JSON is stable through encode/decode
    assert M.decode(M.encode(meta)) == meta
    # each .maps symbol has the size libbpf expects
    import io

    f = ELFFile(io.BytesIO(elf))
    maps_idx = [i for i, sec in enumerate(f.iter_sections()) if sec.name == ".maps"][0]
    syms = {sym.name: sym for sym in f.get_section_by_name(".symtab").iter_symbols()}
    for d in meta["maps"]:
        sym = syms[d["sym"]]
        assert sym["st_shndx"] == maps_idx and sym["st_info"]["bind"] == "STB_GLOBAL"
    assert syms[M.RODATA_SYM]["st_size"] == meta["rodata"]["size"]


def test_deterministic():
    a = compile_program(_all_kinds_program(), kernel={})
    b = compile_program(_all_kinds_program(), kernel={})
    assert a == b
    assert emit_llvm(_events_program()) == emit_llvm(_events_program())


def test_emit_text_forms():
    ll = emit_llvm(_events_program(), optimize=False)
    assert 'section "raw_tp"' in ll and "nounwind" in ll and "llvm.compiler.used" in ll
    asm = emit_asm(_events_program())
    assert "call 131" in asm and "call 132" in asm  # ringbuf_reserve / ringbuf_submit


def test_unknown_call_is_a_spanned_error():
    prog = program([func([N.ExprStmt(expr=N.Call(name="ksym", args=(c(1),), type=U64, span=sp(4, 9)),
                                     span=sp(4, 1))])])
    with pytest.raises(BtcError) as ei:
        compile_program(prog)
    assert "ksym" in ei.value.message and ei.value.span.line == 4 and ei.value.span.col == 9


def test_line_info_shows_bt_source(loader):
    src = "BEGIN {\n  printf(\"%d %s %d\\n\", pid, comm, -5);\n  printf(\"hello\\n\");\n}\n" + "x\n" * 10
    prog = _events_program()
    prog = N.Program(**{**{f: getattr(prog, f) for f in prog.__dataclass_fields__}, "source": src})
    obj = loader(compile_program(prog), "lines")
    out = subprocess.run([bpftool(), "prog", "dump", "xlated", "pinned", f"{obj.progs}/p0_BEGIN", "linum"],
                         capture_output=True, text=True, check=True).stdout
    assert 'printf("%d %s %d\\n", pid, comm, -5);' in out
    assert "line_num:2" in out and "file:t.bt" in out


class _Ring:
    """Just enough of a ring-buffer consumer (linux-bpf.md §5) to check record layouts."""

    def __init__(self, fd: int, size: int):
        page = mmap.PAGESIZE
        self.size = size
        self.cons = mmap.mmap(fd, page, mmap.MAP_SHARED, mmap.PROT_READ | mmap.PROT_WRITE, offset=0)
        self.prod = mmap.mmap(fd, page + 2 * size, mmap.MAP_SHARED, mmap.PROT_READ, offset=page)
        self.page = page

    def records(self) -> list[bytes]:
        out = []
        cons = struct.unpack_from("<Q", self.cons, 0)[0]
        prod = struct.unpack_from("<Q", self.prod, 0)[0]
        while cons < prod:
            off = self.page + (cons & (self.size - 1))
            length, _ = struct.unpack_from("<II", self.prod, off)
            n = length & 0x3FFFFFFF
            if not length & (1 << 30):
                out.append(bytes(self.prod[off + 8: off + 8 + n]))
            cons += (n + 8 + 7) // 8 * 8
        struct.pack_into("<Q", self.cons, 0, cons)
        return out


def test_ring_buffer_records(loader):
    prog = _events_program()
    elf = compile_program(prog)
    meta = M.decode(_sections(elf)[M.META_SECTION])
    obj = loader(elf, "ring")
    fd = obj.map_fd("events")
    ring = _Ring(fd, M.RINGBUF_SIZE)
    import ctypes

    libc = ctypes.CDLL(None)
    old = open("/proc/self/comm").read().strip()
    libc.prctl(15, b"ringtest", 0, 0, 0)
    try:
        assert obj.run("p0_BEGIN") == 0
    finally:
        libc.prctl(15, old.encode(), 0, 0, 0)
    recs = ring.records()
    os.close(fd)
    kinds = [struct.unpack_from("<II", r) for r in recs]
    assert kinds == [(M.EV_PRINTF, 0), (M.EV_PRINTF, 1), (M.EV_PRINT, 0), (M.EV_PRINT_MAP, 0),
                     (M.EV_CLEAR, 0), (M.EV_ZERO, 0), (M.EV_TIME, 0), (M.EV_EXIT, 0)]
    args = meta["events"]["printf"][0]["args"]
    assert [f["off"] for f in args["fields"]] == [0, 4, 24] and args["size"] == 32
    pid, = struct.unpack_from("<I", recs[0], 8)
    comm = recs[0][12:28].split(b"\0")[0]
    val, = struct.unpack_from("<q", recs[0], 32)
    assert (pid, comm, val) == (os.getpid(), b"ringtest", -5)
    assert len(recs[0]) == 8 + 32 and len(recs[1]) == 8
    assert struct.unpack_from("<q", recs[2], 8)[0] == 7 and recs[2][16:18] == b"ab"
    assert struct.unpack_from("<QQ", recs[3], 8) == (3, 2)
    assert struct.unpack_from("<Q", recs[6], 8)[0] > 0
    assert struct.unpack_from("<q", recs[7], 8)[0] == 3
    assert meta["events"]["time"] == ["%H:%M:%S\n"] and meta["events"]["clock"] == "boot"
    assert meta["events"]["print"] == [T.to_typedesc(TUP)]


def test_btrace_delete_is_an_event(loader):
    """btrace: delete(@m[k]) goes to user space in event order, with the user key bytes."""
    body = [N.MapSet(map="@m", key=c(5), value=c(1)), N.MapDelete(map="@m", key=c(5)),
            N.MapDelete(map="@s", key=None)]
    prog = program([func(body)], maps=[mapdecl("@m", I64, I64), mapdecl("@s", I64)], dialect="btrace")
    obj = loader(compile_program(prog), "del")
    fd = obj.map_fd("events")
    ring = _Ring(fd, M.RINGBUF_SIZE)
    assert obj.run("p0_BEGIN") == 0
    recs = ring.records()
    os.close(fd)
    assert [struct.unpack_from("<II", r) for r in recs] == [(M.EV_DELETE, 0), (M.EV_DELETE, 1)]
    assert struct.unpack_from("<q", recs[0], 8)[0] == 5 and len(recs[0]) == 16 and len(recs[1]) == 8
    assert lookup(obj.map_fd("m_m"), struct.pack("<q", 5), 8) is not None  # still there in BPF


def test_many_live_temporaries_stay_within_the_stack(loader):
    """A printf with 40 comm arguments: temporaries beyond the stack budget spill to the scratch map."""
    args = tuple(builtin("comm", STR16) for _ in range(40))
    decl = N.PrintfDecl(fmt="%s" * 40, arg_types=(STR16,) * 40)
    prog = program([func([N.Printf(fmt_id=0, args=args)])], printfs=(decl,))
    loader(compile_program(prog), "temps")


def test_oversized_stack_frame_is_an_error_not_an_exit(monkeypatch):
    """LLVM would exit(1) on a frame above 512 bytes; btc emits it and reports a BtcError."""
    from btc.backend_bpf import lower

    monkeypatch.setattr(lower, "STACK_TEMPS_MAX", 1000)
    args = tuple(builtin("comm", STR16) for _ in range(40))
    decl = N.PrintfDecl(fmt="%s" * 40, arg_types=(STR16,) * 40)
    prog = program([func([N.Printf(fmt_id=0, args=args)])], printfs=(decl,))
    with pytest.raises(BtcError, match="bytes of stack"):
        compile_program(prog)


def test_big_strings_do_not_become_library_calls(loader):
    """4 KiB strings: zeroing/copying must stay loads and stores (LLVM would otherwise form
    memset/memcpy calls, which the BPF back end rejects by exiting the process)."""
    st = T.StrType(4096)
    body = [N.LocalSet(name="$a", value=N.StrRead(ptr=c(0, U64), type=st)),
            N.LocalSet(name="$b", value=N.LocalGet(name="$a", type=st)),
            N.MapSet(map="@m", key=c(1), value=N.LocalGet(name="$b", type=st))]
    prog = program([func(body)], maps=[mapdecl("@m", st, I64)])
    loader(compile_program(prog), "bigstr")
