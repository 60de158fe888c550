"""Value-returning builtin calls that are not plain IR operators (`ir.Call` by name):
signal, strcontains, ntop, buf, join, bswap. Each takes the function's lowerer (`FunctionLowerer`)."""
from __future__ import annotations

from llvmlite import ir

from btc.backend_bpf.builder import Mem
from btc.backend_bpf.helpers import BpfFunc
from btc.backend_bpf.layout import I8, I32, I64, PTR
from btc.diagnostics import BtcError
from btc.ir import nodes as N
from btc.ir import types as T


def lower_call(fl, e: N.Call):
    fn = _CALLS.get(e.name)
    if fn is None:
        raise BtcError(f"the BPF back end cannot compile {e.name}() yet", e.span)
    return fn(fl, e)


def _signal(fl, e: N.Call):
    fl.mc.unsafe.add("signal")
    sig = fl.coerce(fl.expr(e.args[0]), e.args[0].type, T.UINT32)
    return fl.bpf.call_helper(BpfFunc.send_signal, [sig])


def _strcontains(fl, e: N.Call):
    """Bounded nested byte loops (the verifier walks at most |hay| * |needle| steps)."""
    hay, needle = fl.expr(e.args[0]), fl.expr(e.args[1])
    h_len, n_len = e.args[0].type.size(), e.args[1].type.size()
    b, fn = fl.b, fl.fn
    blocks = {n: fn.append_basic_block(f"sc.{n}") for n in
              ("outer", "inner", "cmp", "load", "step", "miss", "next", "done")}
    pre = b.block
    b.branch(blocks["outer"])
    b.position_at_end(blocks["outer"])
    i = b.phi(I64)
    i.add_incoming(I64(0), pre)
    b.branch(blocks["inner"])
    b.position_at_end(blocks["inner"])
    j = b.phi(I64)
    j.add_incoming(I64(0), blocks["outer"])
    c = _byte(b, needle, j)
    b.cbranch(b.icmp_unsigned("==", c, I8(0)), blocks["done"], blocks["cmp"])
    b.position_at_end(blocks["cmp"])
    k = b.add(i, j)
    b.cbranch(b.icmp_unsigned(">=", k, I64(h_len)), blocks["miss"], blocks["load"])
    b.position_at_end(blocks["load"])
    h = _byte(b, hay, k)
    b.cbranch(b.icmp_unsigned("!=", h, c), blocks["miss"], blocks["step"])
    b.position_at_end(blocks["step"])
    j1 = b.add(j, I64(1))
    j.add_incoming(j1, blocks["step"])
    b.cbranch(b.icmp_unsigned(">=", j1, I64(n_len)), blocks["done"], blocks["inner"])
    b.position_at_end(blocks["miss"])
    first = _byte(b, hay, i)
    b.cbranch(b.icmp_unsigned("==", first, I8(0)), blocks["done"], blocks["next"])
    b.position_at_end(blocks["next"])
    i1 = b.add(i, I64(1))
    i.add_incoming(i1, blocks["next"])
    b.cbranch(b.icmp_unsigned(">=", i1, I64(h_len)), blocks["done"], blocks["outer"])
    b.position_at_end(blocks["done"])
    found = b.phi(ir.IntType(1))
    for name, v in (("inner", 1), ("step", 1), ("miss", 0), ("next", 0)):
        found.add_incoming(ir.Constant(ir.IntType(1), v), blocks[name])
    return fl.bool_value(found, e.type)


def _byte(b: ir.IRBuilder, mem: Mem, i: ir.Value) -> ir.Value:
    return b.load(b.gep(mem.ptr, [i], inbounds=True, source_etype=I8), typ=I8, align=1)


def _ntop(fl, e: N.Call):
    """`u64 af; u8 addr[16]`: an integer address is stored as its 4 bytes in memory order."""
    af_e, addr_e = e.args
    af, addr = fl.expr(af_e), fl.expr(addr_e)
    mem = fl.temp(24)
    fl.bpf.zero(mem, 24)
    fl.bpf.store_int(fl.to_i64(af, af_e.type), mem.ptr, 8)
    dst = Mem(fl.bpf.at(mem.ptr, 8), 8)
    if isinstance(addr, Mem):
        fl.bpf.copy(dst, addr, min(16, addr_e.type.size()))
    else:
        fl.bpf.store_int(fl.coerce(addr, addr_e.type, T.UINT32), dst.ptr, 4)
    return mem


def _buf(fl, e: N.Call):
    """`u64 len; u8 data[n]`: a string's bytes, or n bytes read from a pointer."""
    n = e.type.length
    size = e.type.size()
    mem = fl.temp(size)
    fl.bpf.zero(mem, size)
    data = Mem(fl.bpf.at(mem.ptr, 8), 8)
    src = fl.expr(e.args[0])
    if isinstance(src, Mem):
        fl.bpf.copy(data, src, n)
    else:
        ptr = fl.b.inttoptr(fl.to_i64(src, e.args[0].type), PTR)
        user = isinstance(e.args[1], N.Const) and e.args[1].value == 1
        fl.bpf.probe_read(data.ptr, I32(n), ptr, user=user)
    fl.bpf.store_int(I64(n), mem.ptr, 8)
    return mem


def _join(fl, e: N.Call):
    """Reads up to JOIN_ARGS strings of a NULL-terminated char ** straight into the event."""
    from btc import meta as M

    ptr_e, sep_e, user_e = e.args
    user = isinstance(user_e, N.Const) and user_e.value == 1
    seps = fl.mc.__dict__.setdefault("join_seps", [])
    sep = sep_e.value.decode("utf-8", "surrogateescape")
    if sep not in seps:
        seps.append(sep)
    base = fl.to_i64(fl.expr(ptr_e), ptr_e.type)
    slot = fl.temp(8)

    def write(mem: Mem) -> None:
        fl.bpf.zero(mem, M.JOIN_ARGS * M.JOIN_LEN)
        done = fl.fn.append_basic_block("join.done")
        for i in range(M.JOIN_ARGS):
            fl.bpf.store_int(I64(0), slot.ptr, 8)
            src = fl.b.inttoptr(fl.b.add(base, I64(8 * i)), PTR)
            fl.bpf.probe_read(slot.ptr, I32(8), src, user=user)
            p = fl.b.load(slot.ptr, typ=I64, align=8)
            more = fl.fn.append_basic_block(f"join.{i}")
            fl.b.cbranch(fl.b.icmp_unsigned("==", p, I64(0)), done, more)
            fl.b.position_at_end(more)
            dst = fl.bpf.at(mem.ptr, i * M.JOIN_LEN)
            fl.bpf.probe_read_str(dst, I32(M.JOIN_LEN), fl.b.inttoptr(p, PTR), user=user)
        fl.b.branch(done)
        fl.b.position_at_end(done)

    fl._event(M.EV_JOIN, seps.index(sep), M.JOIN_ARGS * M.JOIN_LEN, write)
    return I64(0)


def _bswap(fl, e: N.Call):
    """llvm.bswap (BPF_END); a byte has nothing to swap."""
    v = fl.coerce(fl.expr(e.args[0]), e.args[0].type, e.type)
    return v if e.type.bits == 8 else fl.b.bswap(v)


_CALLS = {"join": _join, "signal": _signal, "strcontains": _strcontains, "ntop": _ntop, "buf": _buf,
          "bswap": _bswap}
