"""Typed IR -> LLVM IR: one method per IR node kind.

Integers are SSA values of their type's width; strings and tuples are `Mem` (an address in a
per-CPU scratch map or on the stack). Temporaries are freed at the end of each statement;
locals get slots for the whole program run. Every node's lowering is wrapped so that an
unexpected failure becomes a `BtcError` at the node's span.
"""
from __future__ import annotations

import contextlib
from dataclasses import dataclass, field

from llvmlite import ir

from btc import meta as M
from btc.backend_bpf import aggs, arith, btf_maps
from btc.backend_bpf.builder import BpfBuilder, Mem
from btc.backend_bpf.debuginfo import DebugInfo
from btc.backend_bpf.formap import own_nodes
from btc.backend_bpf.helpers import BPF_ANY, BPF_F_USER_STACK, BPF_NOEXIST, BpfFunc
from btc.backend_bpf.layout import I8, I32, I64, PTR, MapPlan, as_int_type, is_memory, llvm_int
from btc.backend_bpf.regs_window import RegsWindow, plan_window
from btc.diagnostics import NO_SPAN, BtcError
from btc.ir import nodes as N
from btc.ir import types as T
from btc.ir.walk import child_nodes
from btc.runtime.abi import ProgType

STACK_TEMP_MAX = 16  # temporaries up to this size live on the stack, bigger ones in scratch
STACK_TEMPS_MAX = 12  # at most this many stack temporaries at once (192 of the 512 bytes)
MAX_CPUS = 1024  # bound of the per-CPU summing loop for aggregation reads
STRCMP_UNROLL_MAX = 64  # longer string comparisons use a loop
ONE_VALUE_AGGS = ("count", "hist", "lhist")  # a key's first event stores the value 1


@dataclass
class ModuleCtx:
    """What every function's lowering shares: the module, maps and load-time constants."""

    module: ir.Module
    di: DebugInfo
    prog: N.Program
    maps: dict[str, tuple[MapPlan, ir.GlobalVariable]]
    map_index: dict[str, int]
    events: ir.GlobalVariable
    lost: ir.GlobalVariable
    rodata: ir.GlobalVariable | None
    slots: dict[tuple, M.RodataSlot]
    scratch: ir.GlobalVariable | None = None
    scratch_size: int = 0
    stacks: dict[str, ir.GlobalVariable] = field(default_factory=dict)  # kind -> STACK_TRACE map
    unsafe: set[str] = field(default_factory=set)  # system/signal used: runs need --unsafe
    consts: dict[int, ir.GlobalVariable] = field(default_factory=dict)  # value -> btc_kN

    def const_u64(self, value: int) -> ir.GlobalVariable:
        """A read-only u64 in `.rodata` (its own symbol, the bytes in the ELF: nothing to patch
        at load time) for helpers that read a constant from memory. Passing its address is one
        ld_imm64 (2 instructions); a stack copy costs a move, a store and 2 for the address."""
        if value not in self.consts:
            name = f"btc_k{value}" if value >= 0 else f"btc_km{-value}"
            gv = ir.GlobalVariable(self.module, I64, name)
            gv.initializer = I64(value)
            gv.global_constant = True
            gv.section = M.RODATA_SECTION
            gv.align = 8
            self.consts[value] = gv
        return self.consts[value]

    def scratch_map(self) -> ir.GlobalVariable:
        if self.scratch is None:
            self.scratch = btf_maps.placeholder_map(self.module, M.SCRATCH_MAP)
        return self.scratch

    def stack_map(self, kind: str) -> ir.GlobalVariable:
        if kind not in self.stacks:
            self.stacks[kind] = btf_maps.placeholder_map(self.module, M.STACK_MAPS[kind])
        return self.stacks[kind]


@dataclass
class _Loop:
    cont: ir.Block
    brk: ir.Block


@dataclass
class _Temps:
    scratch_top: int = 0
    scratch_high: int = 0
    stack_used: int = 0
    stack: list = field(default_factory=list)


class FunctionLowerer:
    # the pt_regs copy that serves register reads once it is read (class defaults: a `for`
    # callback, which does not run __init__, keeps per-read probe reads)
    _regs_window: RegsWindow | None = None
    _window_mem: ir.Value | None = None

    def __init__(self, mc: ModuleCtx, fn_ir: N.Function):
        self.mc = mc
        self.f = fn_ir
        fnty = ir.FunctionType(I32, [PTR])
        self.fn = ir.Function(mc.module, fnty, fn_ir.name)
        self.fn.section = fn_ir.probe.section
        self.fn.attributes.add("nounwind")
        # No library calls exist in BPF: without this, MemCpyOpt/LoopIdiom turn long store
        # sequences into memset/memcpy calls that the BPF back end rejects (fatally).
        set.add(self.fn.attributes, '"no-builtins"')
        self.fn.args[0].name = "ctx"
        self.ctx = self.fn.args[0]
        self.entry = self.fn.append_basic_block("entry")
        self.body = self.fn.append_basic_block("body")
        self.b = ir.IRBuilder(self.body)
        self.bpf = BpfBuilder(self.b)
        line = fn_ir.span.line if fn_ir.span is not NO_SPAN else fn_ir.probe.span.line
        self.sp = mc.di.subprogram(fn_ir.name, max(line, 0))
        self.fn.set_metadata("dbg", self.sp)
        self.loc0 = mc.di.location(self.sp, max(line, 0), 0)
        self.b.debug_metadata = self.loc0
        self.scratch_ptr: ir.Value | None = None
        self.t = _Temps()
        self.locals: dict[str, tuple[T.Type, object]] = {}
        self.loops: list[_Loop] = []
        self._cold_blocks: list[ir.Block] = []

    # ------------------------------------------------------------ driver

    def lower(self) -> int:
        """Lower the function; returns the scratch bytes it needs."""
        # interval probes fire on a timer in whatever task is running: a pid test there
        # would only make them stop firing, so `-p` leaves them (and BEGIN/END) alone
        if ((M.SLOT_TARGET_PID,) in self.mc.slots and not is_special(self.f)
                and not self.f.probe.text.startswith("interval:")):
            self._target_pid_check()
        window = plan_window(self.f, own_nodes, walk)
        if window is not None:
            self._filter_reading_window(window)
        elif self.f.filter is not None:
            self._wrap(self.f.filter, self._filter, self.f.filter)
        self._declare_locals()
        for s in self.f.body:
            self.stmt(s)
        if not self.b.block.is_terminated:
            self.b.ret(I32(0))
        self._finish_entry()
        self._move_cold_blocks()
        return self.t.scratch_high

    def _filter_reading_window(self, w: RegsWindow) -> None:
        """The filter, then the pt_regs copy; when the filter reads registers, one conjunct
        at a time (the same test) with the copy right before the first that reads one."""
        if w.start == len(w.conjuncts):
            if self.f.filter is not None:  # as a whole: the same code as without a copy
                self._wrap(self.f.filter, self._filter, self.f.filter)
            self._read_window(w)
            return
        for i, c in enumerate(w.conjuncts):
            if i == w.start:
                self._read_window(w)
            self._wrap(c, self._filter, c)

    def _read_window(self, w: RegsWindow) -> None:
        with self._at_entry():
            mem = self.b.alloca(ir.ArrayType(I8, w.size), name="regs")
            mem.align = 8
            mem.type = PTR  # opaque: loads of any width go through it
        regs = self.b.load(self.ctx, typ=I64, align=8)
        src = self.b.inttoptr(self.b.add(regs, I64(w.lo)), PTR)
        self.bpf.probe_read(mem, I32(w.size), src, user=False)
        self._regs_window, self._window_mem = w, mem

    def _move_cold_blocks(self) -> None:
        """Put rarely-run blocks last. LLVM keeps the IR's block order here (it ignores branch
        weights for this layout), and a cold block placed last means the hot branch falls
        through: when the verifier proves a test constant (-p unset), the test becomes
        `ja 0` and is deleted, instead of a `ja` over the cold code that stays."""
        blocks = self.fn.blocks
        for bb in self._cold_blocks:
            blocks.remove(bb)
            blocks.append(bb)

    def _target_pid_check(self) -> None:
        """`-p PID`: return early for other processes. The slot is 0 unless -p was given; the
        frozen read-only .rodata lets the verifier drop this code when it is 0."""
        want = self._rodata_u64((M.SLOT_TARGET_PID,))
        check = self.fn.append_basic_block("pid_check")
        skip = self.fn.append_basic_block("other_pid")
        go = self.fn.append_basic_block("target_pid")
        self.b.cbranch(self.b.icmp_unsigned("==", want, I64(0)), go, check)
        self._cold_blocks += [check, skip]
        self.b.position_at_end(check)
        pid = self.b.lshr(self.bpf.pid_tgid(), I64(32))
        self.b.cbranch(self.b.icmp_unsigned("==", pid, want), go, skip)
        self.b.position_at_end(skip)
        self.b.ret(I32(0))
        self.b.position_at_end(go)

    def _finish_entry(self) -> None:
        with self._at_entry():
            if self.scratch_ptr is not None:
                ok = self.b.icmp_unsigned("!=", self.scratch_ptr, ir.Constant(PTR, None))
                bail = self.fn.append_basic_block("no_scratch")
                self.b.cbranch(ok, self.body, bail)
                self.b.position_at_end(bail)
                self.b.ret(self._stop_value())
            else:
                self.b.branch(self.body)

    def _stop_value(self) -> ir.Constant:
        """What the function returns to stop early (no scratch slot, exit())."""
        return I32(0)

    @contextlib.contextmanager
    def _at_entry(self):
        saved_block, saved_loc = self.b.block, self.b.debug_metadata
        self.b.position_at_end(self.entry)
        self.b.debug_metadata = self.loc0
        try:
            yield
        finally:
            self.b.position_at_end(saved_block)
            self.b.debug_metadata = saved_loc

    def _wrap(self, node: N.Node, fn, *args):
        if node.span is not NO_SPAN and node.span.line > 0:
            self.b.debug_metadata = self.mc.di.location(self.sp, node.span.line, node.span.col)
        try:
            return fn(*args)
        except BtcError as e:
            if e.span is None and node.span is not NO_SPAN:
                e.span = node.span
            raise
        except Exception as e:  # an internal failure: name the construct and where it was
            raise BtcError(f"cannot compile {type(node).__name__}: {e}", node.span) from e

    def _dead_block(self) -> None:
        self.b.position_at_end(self.fn.append_basic_block("dead"))

    # ------------------------------------------------------------ memory management

    def _scratch(self) -> ir.Value:
        if self.scratch_ptr is None:
            m = self.mc.scratch_map()
            with self._at_entry():
                self.scratch_ptr = self.bpf.map_lookup(m, self._zero_key_ptr())
        return self.scratch_ptr

    def _zero_key_ptr(self) -> ir.Value:
        """Key 0 of array maps (keyless maps, scratch, lost), read-only in .rodata: helpers
        take a map value as a key. On the stack it was stored at entry, so every event paid
        for it, the ones a filter rejects too."""
        return self.mc.const_u64(0)

    def temp(self, size: int) -> Mem:
        """Statement-lifetime memory of `size` bytes, 8-aligned, contents undefined."""
        size = max(T.round_up(size, 8), 8)
        if size <= STACK_TEMP_MAX and self.t.stack_used < STACK_TEMPS_MAX:
            i = self.t.stack_used
            self.t.stack_used += 1
            if i == len(self.t.stack):
                with self._at_entry():
                    a = self.b.alloca(ir.ArrayType(I8, STACK_TEMP_MAX), name=f"tmp{i}")
                    a.align = 8
                    a.type = PTR  # opaque: stores of any width go through it
                self.t.stack.append(a)
            return Mem(self.t.stack[i], 8)
        return self._scratch_alloc(size)

    def _scratch_alloc(self, size: int) -> Mem:
        base = self._scratch()
        off = self.t.scratch_top
        self.t.scratch_top += T.round_up(size, 8)
        self.t.scratch_high = max(self.t.scratch_high, self.t.scratch_top)
        return Mem(self.bpf.at(base, off), 8)

    @contextlib.contextmanager
    def _statement_temps(self):
        mark = (self.t.scratch_top, self.t.stack_used)
        try:
            yield
        finally:
            self.t.scratch_top, self.t.stack_used = mark

    def _declare_locals(self) -> None:
        found: dict[str, T.Type] = {}
        for n in own_nodes(self.f.body):
            if isinstance(n, N.LocalSet):
                found.setdefault(n.name, n.value.type)
            elif isinstance(n, N.LocalGet):
                found.setdefault(n.name, n.type)
        for name in sorted(found):
            if name in self.locals:  # a for body's shared local: the probe's slot
                continue
            t = found[name]
            if is_memory(t):
                mem = self._scratch_alloc(t.size())
                self.bpf.zero(mem, t.size())
                self.locals[name] = (t, mem)
            else:
                lty = llvm_int(as_int_type(t))
                with self._at_entry():
                    slot = self.b.alloca(lty, name="l_" + name.lstrip("$"))
                    self.b.store(lty(0), slot)
                self.locals[name] = (as_int_type(t), slot)

    # ------------------------------------------------------------ value helpers

    def coerce(self, v: ir.Value, src: T.Type, dst: T.Type) -> ir.Value:
        src_i, dst_i = as_int_type(src), as_int_type(dst)
        sw, dw = src_i.bits, dst_i.bits
        if v.type.width != sw:  # be lenient about widths the IR did not spell out
            sw = v.type.width
        if sw == dw:
            return v
        if sw > dw:
            return self.b.trunc(v, ir.IntType(dw))
        return (self.b.sext if src_i.signed else self.b.zext)(v, ir.IntType(dw))

    def to_i64(self, v: ir.Value, src: T.Type) -> ir.Value:
        return self.coerce(v, src, T.IntType(64, as_int_type(src).signed))

    def truth(self, v, t: T.Type) -> ir.Value:
        if isinstance(v, Mem):
            byte = self.b.load(v.ptr, typ=I8, align=1)
            return self.b.icmp_unsigned("!=", byte, I8(0))
        return self.b.icmp_unsigned("!=", v, v.type(0))

    def bool_value(self, cond: ir.Value, t: T.Type) -> ir.Value:
        ty = llvm_int(as_int_type(t)) if not isinstance(t, T.VoidType) else I64
        return self.b.zext(cond, ty)

    def store_value(self, dst: Mem, dst_t: T.Type, v, src_t: T.Type) -> None:
        """Write value `v` of type src_t into memory laid out as dst_t."""
        if is_memory(dst_t):
            if not isinstance(v, Mem):
                raise BtcError(f"cannot store an integer into {dst_t}")
            if isinstance(dst_t, T.TupleType) and src_t != dst_t:
                self._store_tuple(dst, dst_t, v, src_t)
                return
            n = min(dst_t.size(), src_t.size())
            self.bpf.copy(dst, v, n)
            if dst_t.size() > n:
                self.bpf.zero(Mem(self.bpf.at(dst.ptr, n), _align_at(dst.align, n)), dst_t.size() - n)
            return
        if isinstance(v, Mem):
            raise BtcError(f"cannot store {src_t} into {dst_t}")
        val = self.coerce(v, src_t, dst_t)
        self.bpf.store_int(val, dst.ptr, min(dst.align, dst_t.size()))

    def _store_tuple(self, dst: Mem, dst_t: T.TupleType, v: Mem, src_t: T.Type) -> None:
        """Field-wise conversion between tuples of the same arity (e.g. wider strings)."""
        if not isinstance(src_t, T.TupleType) or len(src_t.elems) != len(dst_t.elems):
            raise BtcError(f"cannot store {src_t} into {dst_t}")
        self.bpf.zero(dst, dst_t.size())
        for st, so, dt, do in zip(src_t.elems, src_t.offsets(), dst_t.elems, dst_t.offsets()):
            field = self.load_value(Mem(self.bpf.at(v.ptr, so), _align_at(v.align, so)), st)
            self.store_value(Mem(self.bpf.at(dst.ptr, do), _align_at(dst.align, do)), dt, field, st)

    def load_value(self, src: Mem, t: T.Type):
        if is_memory(t):
            return src
        it = as_int_type(t)
        return self.bpf.load_int(src.ptr, llvm_int(it), min(src.align, it.size()))

    def materialize(self, v, src_t: T.Type, dst_t: T.Type) -> Mem:
        """`v` as memory with exactly dst_t's layout (padding zeroed)."""
        if isinstance(v, Mem) and src_t == dst_t:
            return v
        mem = self.temp(dst_t.size())
        if isinstance(dst_t, T.TupleType) and src_t != dst_t:
            self.bpf.zero(mem, dst_t.size())
        self.store_value(mem, dst_t, v, src_t)
        return mem

    # ------------------------------------------------------------ statements

    def stmt(self, s: N.Stmt) -> None:
        method = getattr(self, "s_" + type(s).__name__, None)
        if method is None:
            raise BtcError(f"the BPF back end cannot compile {type(s).__name__} yet", s.span)
        with self._statement_temps():
            self._wrap(s, method, s)

    def block(self, stmts) -> None:
        for s in stmts:
            self.stmt(s)

    def _filter(self, e: N.Expr) -> None:
        with self._statement_temps():
            cond = self.truth(self.expr(e), e.type)
            with self.b.if_then(self.b.not_(cond), likely=False):
                self.b.ret(I32(0))

    def s_ExprStmt(self, s: N.ExprStmt) -> None:
        self.expr(s.expr)

    def s_LocalSet(self, s: N.LocalSet) -> None:
        t, slot = self.locals[s.name]
        v = self.expr(s.value)
        if isinstance(slot, Mem):
            if isinstance(v, Mem) and v.ptr is slot.ptr:
                return
            self.store_value(slot, t, v, s.value.type)
        else:
            self.b.store(self.coerce(v, s.value.type, t), slot)

    def s_If(self, s: N.If) -> None:
        cond = self.truth(self.expr(s.cond), s.cond.type)
        then_bb = self.fn.append_basic_block("then")
        else_bb = self.fn.append_basic_block("else") if s.orelse else None
        end_bb = self.fn.append_basic_block("endif")
        self.b.cbranch(cond, then_bb, else_bb or end_bb)
        self.b.position_at_end(then_bb)
        self.block(s.then)
        if not self.b.block.is_terminated:
            self.b.branch(end_bb)
        if else_bb is not None:
            self.b.position_at_end(else_bb)
            self.block(s.orelse)
            if not self.b.block.is_terminated:
                self.b.branch(end_bb)
        self.b.position_at_end(end_bb)

    def s_While(self, s: N.While) -> None:
        cond_bb = self.fn.append_basic_block("while.cond")
        body_bb = self.fn.append_basic_block("while.body")
        end_bb = self.fn.append_basic_block("while.end")
        self.b.branch(cond_bb)
        self.b.position_at_end(cond_bb)
        with self._statement_temps():
            cond = self.truth(self.expr(s.cond), s.cond.type)
        self.b.cbranch(cond, body_bb, end_bb)
        self.b.position_at_end(body_bb)
        self.loops.append(_Loop(cond_bb, end_bb))
        self.block(s.body)
        self.loops.pop()
        if not self.b.block.is_terminated:
            self.b.branch(cond_bb)
        self.b.position_at_end(end_bb)

    def s_Unroll(self, s: N.Unroll) -> None:
        end_bb = self.fn.append_basic_block("unroll.end")
        for _ in range(s.count):
            next_bb = self.fn.append_basic_block("unroll.next")
            self.loops.append(_Loop(next_bb, end_bb))
            self.block(s.body)
            self.loops.pop()
            if not self.b.block.is_terminated:
                self.b.branch(next_bb)
            self.b.position_at_end(next_bb)
        self.b.branch(end_bb)
        self.b.position_at_end(end_bb)

    def s_Break(self, s: N.Break) -> None:
        if not self.loops:
            raise BtcError("break outside a loop", s.span)
        self.b.branch(self.loops[-1].brk)
        self._dead_block()

    def s_Continue(self, s: N.Continue) -> None:
        if not self.loops:
            raise BtcError("continue outside a loop", s.span)
        self.b.branch(self.loops[-1].cont)
        self._dead_block()

    def s_Return(self, s: N.Return) -> None:
        self.b.ret(I32(0))
        self._dead_block()

    # ---- maps

    def _map(self, name: str) -> tuple[MapPlan, ir.GlobalVariable]:
        try:
            return self.mc.maps[name]
        except KeyError:
            raise BtcError(f"unknown map {name}") from None

    def _key(self, plan: MapPlan, key: N.Expr | None, bucket: ir.Value | None = None) -> ir.Value:
        """A pointer to the BPF key for `plan` (evaluate `key` first: no temps after this)."""
        if plan.bucket_off is not None:
            mem = self.temp(plan.key_size)
            if key is not None:
                kv = self.expr(key)
                if plan.bucket_off != plan.user_key.size():
                    self.bpf.zero(Mem(self.bpf.at(mem.ptr, plan.user_key.size()), 1),
                                  plan.bucket_off - plan.user_key.size())
                self.store_value(mem, plan.user_key, kv, key.type)
            self.bpf.store_int(bucket, self.bpf.at(mem.ptr, plan.bucket_off), 8)
            return mem.ptr
        if plan.user_key is None:
            return self._zero_key_ptr()
        kv = self.expr(key)
        return self.materialize(kv, key.type, plan.user_key).ptr

    def _lookup_or_insert(self, plan: MapPlan, m, key_ptr: ir.Value, insert: bool) -> ir.Value:
        """Look the key up; when missing and `insert`, insert a zero value and look again."""
        p = self.bpf.map_lookup(m, key_ptr)
        if plan.is_array or not insert:
            return p
        found_bb = self.b.block
        miss = self.b.icmp_unsigned("==", p, ir.Constant(PTR, None))
        with self.b.if_then(miss, likely=False):
            zero = self.temp(plan.value_size)
            self.bpf.zero(zero, plan.value_size)
            self.bpf.map_update(m, key_ptr, zero.ptr, BPF_NOEXIST)
            p2 = self.bpf.map_lookup(m, key_ptr)
            miss_bb = self.b.block
        phi = self.b.phi(PTR)
        phi.add_incoming(p, found_bb)
        phi.add_incoming(p2, miss_bb)
        return phi

    def s_MapSet(self, s: N.MapSet) -> None:
        plan, m = self._map(s.map)
        vt = plan.value_type
        v = self.expr(s.value)
        if plan.is_array:
            p = self.bpf.map_lookup(m, self._zero_key_ptr())
            with self.b.if_then(self.b.icmp_unsigned("!=", p, ir.Constant(PTR, None))):
                if isinstance(vt, T.TupleType):
                    self.bpf.zero(Mem(p, 8), vt.size())
                self.store_value(Mem(p, 8), vt, v, s.value.type)
            return
        val = self.materialize(v, s.value.type, vt)
        key = self._key(plan, s.key)
        self.bpf.map_update(m, key, val.ptr, BPF_ANY)

    def s_MapDelete(self, s: N.MapDelete) -> None:
        plan, m = self._map(s.map)
        if self.mc.prog.dialect == "btrace":
            self._delete_event(plan, s)
            return
        if plan.is_array:  # one-entry arrays cannot lose their entry: reset it
            p = self.bpf.map_lookup(m, self._zero_key_ptr())
            with self.b.if_then(self.b.icmp_unsigned("!=", p, ir.Constant(PTR, None))):
                self.bpf.zero(Mem(p, 8), plan.value_size)
            return
        if plan.bucket_off is not None:
            raise BtcError("deleting one key of a histogram is not supported", s.span)
        self.bpf.map_delete(m, self._key(plan, s.key))

    def _delete_event(self, plan: MapPlan, s: N.MapDelete) -> None:
        """btrace works on maps in user space in event order (like clear/zero), so a delete is
        an event carrying the user key (all buckets of a histogram key go)."""
        key_t = plan.user_key
        if key_t is None or s.key is None:
            self._event(M.EV_DELETE, self._map_id(s.map), 0, None)
            return
        kv = self.expr(s.key)

        def write(mem: Mem) -> None:
            if isinstance(key_t, T.TupleType) or key_t.size() % 8:
                self.bpf.zero(mem, T.round_up(key_t.size(), 8))
            self.store_value(mem, key_t, kv, s.key.type)

        self._event(M.EV_DELETE, self._map_id(s.map), key_t.size(), write)

    def s_MapAdd(self, s: N.MapAdd) -> None:
        plan, m = self._map(s.map)
        vt = as_int_type(plan.value_type)
        lty = llvm_int(vt)
        delta = self.coerce(self.expr(s.delta), s.delta.type, vt)
        key = self._key(plan, s.key)
        p = self.bpf.map_lookup(m, key)
        found = self.b.icmp_unsigned("!=", p, ir.Constant(PTR, None))
        with self.b.if_else(found) as (hit, miss):
            with hit:
                self._add_in_place(p, delta, lty, atomic=not plan.percpu)
            with miss:
                if not plan.is_array:
                    init = self.temp(plan.value_size)
                    self.bpf.zero(init, plan.value_size)
                    self.bpf.store_int(delta, init.ptr, vt.size())
                    rc = self.bpf.map_update(m, key, init.ptr, BPF_NOEXIST)
                    # another CPU inserted the key first: add to its entry instead
                    with self.b.if_then(self.b.icmp_unsigned("!=", rc, I64(0)), likely=False):
                        p2 = self.bpf.map_lookup(m, key)
                        with self.b.if_then(self.b.icmp_unsigned("!=", p2, ir.Constant(PTR, None))):
                            self._add_in_place(p2, delta, lty, atomic=not plan.percpu)

    def _first_value(self, plan: MapPlan, agg: T.AggType, v) -> ir.Value:
        """Address of the value a miss inserts. count/hist/lhist insert 1, read from .rodata:
        one ld_imm64, where building it on the stack costs a constant move, a store and two
        instructions of address arithmetic (the helper only reads the value)."""
        if agg.kind in ONE_VALUE_AGGS and plan.value_size == 8:
            return self.mc.const_u64(1)
        init = self.temp(plan.value_size)
        self.bpf.zero(init, plan.value_size)
        aggs.update_value(self.b, self.mc.prog.dialect, agg, init.ptr, v)
        return init.ptr

    def _add_in_place(self, p: ir.Value, delta: ir.Value, lty: ir.IntType, atomic: bool) -> None:
        if atomic and lty.width in (32, 64):
            self.bpf.atomic_add(p, delta)
            return
        old = self.b.load(p, typ=lty, align=lty.width // 8)
        self.b.store(self.b.add(old, delta), p, align=lty.width // 8)

    def s_MapAgg(self, s: N.MapAgg) -> None:
        plan, m = self._map(s.map)
        agg: T.AggType = plan.value_type
        v = None
        if s.value is not None:
            v = self.coerce(self.expr(s.value), s.value.type, T.IntType(64, agg.elem.signed))
        bucket = None
        if agg.kind in ("hist", "lhist"):
            bucket, keep = aggs.bucket(self.b, self.mc.prog.dialect, agg, v)
            if keep is not None:  # btrace lhist drops out-of-range values
                with self.b.if_then(keep):
                    self._agg_update(plan, m, s.key, bucket, agg, v)
                return
        self._agg_update(plan, m, s.key, bucket, agg, v)

    def _agg_update(self, plan: MapPlan, m, key: N.Expr | None, bucket, agg: T.AggType, v) -> None:
        key_ptr = self._key(plan, key, bucket)
        dialect = self.mc.prog.dialect
        if plan.is_array:
            p = self.bpf.map_lookup(m, key_ptr)
            with self.b.if_then(self.b.icmp_unsigned("!=", p, ir.Constant(PTR, None))):
                aggs.update_value(self.b, dialect, agg, p, v)
            return
        # A miss inserts the first event's value (one update, no second lookup). On a per-CPU
        # map BPF_ANY is race-free: an existing entry only gets this CPU's slot set, and this
        # CPU's slot was just seen absent. Otherwise, when another CPU inserted the key first,
        # it is looked up again and updated in place.
        p = self.bpf.map_lookup(m, key_ptr)
        hit_bb = self.b.block
        update_bb = self.b.append_basic_block("agg.update")
        done_bb = self.b.append_basic_block("agg.done")
        miss_bb = self.b.append_basic_block("agg.miss")
        self.b.cbranch(self.b.icmp_unsigned("!=", p, ir.Constant(PTR, None)), update_bb, miss_bb)
        self.b.position_at_end(miss_bb)
        init = self._first_value(plan, agg, v)
        if plan.percpu:
            self.bpf.map_update(m, key_ptr, init, BPF_ANY)
            self.b.branch(done_bb)
            self.b.position_at_end(update_bb)
            aggs.update_value(self.b, dialect, agg, p, v)
            self.b.branch(done_bb)
            self.b.position_at_end(done_bb)
            return
        rc = self.bpf.map_update(m, key_ptr, init, BPF_NOEXIST)
        race_bb = self.b.append_basic_block("agg.race")
        self.b.cbranch(self.b.icmp_unsigned("==", rc, I64(0)), done_bb, race_bb)
        self.b.position_at_end(race_bb)
        p2 = self.bpf.map_lookup(m, key_ptr)
        race_end = self.b.block
        self.b.cbranch(self.b.icmp_unsigned("!=", p2, ir.Constant(PTR, None)), update_bb, done_bb)
        self.b.position_at_end(update_bb)
        slot = self.b.phi(PTR)
        slot.add_incoming(p, hit_bb)
        slot.add_incoming(p2, race_end)
        aggs.update_value(self.b, dialect, agg, slot, v)
        self.b.branch(done_bb)
        self.b.position_at_end(done_bb)

    # ---- events

    def _event(self, kind: int, ident: int, payload: int, write) -> None:
        size = M.EVENT_HEADER_SIZE + T.round_up(payload, 8)
        rec = self.bpf.ringbuf_reserve(self.mc.events, size)
        ok = self.b.icmp_unsigned("!=", rec, ir.Constant(PTR, None))
        with self.b.if_else(ok, likely=True) as (have, full):
            with have:
                self.bpf.store_int(I64(kind | (ident << 32)), rec, 8)
                if write is not None:
                    write(Mem(self.bpf.at(rec, M.EVENT_HEADER_SIZE), 8))
                self.bpf.ringbuf_submit(rec)
            with full:
                self._count_lost()

    def _count_lost(self) -> None:
        p = self.bpf.map_lookup(self.mc.lost, self._zero_key_ptr())
        with self.b.if_then(self.b.icmp_unsigned("!=", p, ir.Constant(PTR, None))):
            self.bpf.atomic_add(p, I64(1))

    def s_Printf(self, s: N.Printf) -> None:
        decl = self.mc.prog.printfs[s.fmt_id]
        tt = decl.args_type
        vals = [self.expr(a) for a in s.args]

        def write(mem: Mem) -> None:
            if tt.size() > sum(t.size() for t in tt.elems):
                self.bpf.zero(mem, tt.size())
            for v, a, t, off in zip(vals, s.args, tt.elems, tt.offsets()):
                self.store_value(Mem(self.bpf.at(mem.ptr, off), _align_at(8, off)), t, v, a.type)

        action = getattr(s, "action", "printf")
        if action == "system":
            self.mc.unsafe.add("system")
        kind = {"system": M.EV_SYSTEM, "cat": M.EV_CAT}.get(action, M.EV_PRINTF)
        self._event(kind, s.fmt_id, tt.size(), write)

    def s_PrintValue(self, s: N.PrintValue) -> None:
        t = self.mc.prog.prints[s.print_id]
        v = self.expr(s.value)
        self._event(M.EV_PRINT, s.print_id, t.size(), lambda mem: self.store_value(mem, t, v, s.value.type))

    def s_PrintMap(self, s: N.PrintMap) -> None:
        top = I64(s.top)
        if s.top_value is not None:
            top = self.coerce(self.expr(s.top_value), s.top_value.type, T.INT64)

        def write(mem: Mem) -> None:
            self.bpf.store_int(top, mem.ptr, 8)
            self.bpf.store_int(I64(s.div), self.bpf.at(mem.ptr, 8), 8)

        self._event(M.EV_PRINT_MAP, self._map_id(s.map), 16, write)

    def s_ClearMap(self, s: N.ClearMap) -> None:
        self._event(M.EV_CLEAR, self._map_id(s.map), 0, None)

    def s_ZeroMap(self, s: N.ZeroMap) -> None:
        self._event(M.EV_ZERO, self._map_id(s.map), 0, None)

    def s_Time(self, s: N.Time) -> None:
        now = self.bpf.ktime("boot")
        self._event(M.EV_TIME, s.fmt_id, 8, lambda mem: self.bpf.store_int(now, mem.ptr, 8))

    def s_Exit(self, s: N.Exit) -> None:
        code = I64(0)
        if s.code is not None:
            code = self.coerce(self.expr(s.code), s.code.type, T.INT64)
        self._event(M.EV_EXIT, 0, 8, lambda mem: self.bpf.store_int(code, mem.ptr, 8))
        self.b.ret(self._stop_value())
        self._dead_block()

    def _map_id(self, name: str) -> int:
        self._map(name)
        return self.mc.map_index[name]

    # ------------------------------------------------------------ expressions

    def expr(self, e: N.Expr):
        method = getattr(self, "e_" + type(e).__name__, None)
        if method is None:
            raise BtcError(f"the BPF back end cannot compile {type(e).__name__} yet", e.span)
        return self._wrap(e, method, e)

    def e_Const(self, e: N.Const):
        it = as_int_type(e.type) if not isinstance(e.type, T.VoidType) else T.INT64
        return llvm_int(it)(e.value & ((1 << it.bits) - 1))

    def e_StrConst(self, e: N.StrConst):
        n = e.type.size() if isinstance(e.type, T.StrType) else len(e.value) + 1
        mem = self.temp(n)
        self.bpf.store_bytes(mem, e.value, n)
        return mem

    def e_LocalGet(self, e: N.LocalGet):
        t, slot = self.locals[e.name]
        if isinstance(slot, Mem):
            return slot
        return self.coerce(self.b.load(slot), t, e.type)

    def e_BuiltinRead(self, e: N.BuiltinRead):
        name = e.name
        if name == "comm":
            n = e.type.size() if isinstance(e.type, T.StrType) else 16
            mem = self.temp(n)
            if n > 16:  # the helper writes (and NUL-pads) all the bytes it is given
                self.bpf.zero(Mem(self.bpf.at(mem.ptr, 16), 1), n - 16)
            self.bpf.comm(mem.ptr, min(n, 16))
            return mem
        if name in ("pid", "tid"):
            v = self.bpf.pid_tgid()
            v = self.bpf.high_half(v) if name == "pid" else self.b.and_(v, I64(0xFFFFFFFF))
        elif name in ("uid", "gid"):
            v = self.bpf.uid_gid()
            v = self.bpf.high_half(v) if name == "gid" else self.b.and_(v, I64(0xFFFFFFFF))
        elif name == "nsecs":
            v = self._nsecs(e.clock or "boot", e)
        elif name == "elapsed":
            v = self.b.sub(self.bpf.ktime("boot"), self._rodata_u64((M.SLOT_START_NS,)))
        elif name == "cpid":
            v = self._rodata_u64((M.SLOT_CPID,))
        elif name == "ctx":  # bpftrace `ctx`: the context pointer as an integer
            v = self.b.ptrtoint(self.ctx, I64)
        elif name in ("kstack", "ustack"):
            return self._stack(name, e.type)
        elif name in _SIMPLE_BUILTINS:
            v = self.bpf.call_helper(_SIMPLE_BUILTINS[name], [])
        else:
            raise BtcError(f"the BPF back end cannot read builtin '{name}' yet", e.span)
        return self.coerce(v, T.UINT64, e.type)

    def _nsecs(self, clock: str, e: N.Expr) -> ir.Value:
        """Kernel clocks come from helpers; realtime and sw_tai are the boot clock plus an
        offset the runtime measures and patches into .rodata before loading."""
        if clock in ("boot", "monotonic", "tai"):
            return self.bpf.ktime(clock)
        offset = {"realtime": M.SLOT_REALTIME_OFFSET, "sw_tai": M.SLOT_TAI_OFFSET}.get(clock)
        if offset is None:
            raise BtcError(f"unknown clock '{clock}'", e.span)
        return self.b.add(self.bpf.ktime("boot"), self._rodata_u64((offset,)))

    def _stack(self, name: str, t: T.Type) -> ir.Value:
        """A stack id from bpf_get_stackid. ustack: (tgid << 32) | id, so user space knows
        whose address space to symbolize; a negative id (32-bit) means no stack."""
        kind = "kernel" if name == "kstack" else "user"
        flags = BPF_F_USER_STACK if kind == "user" else 0
        sid = self.bpf.call_helper(BpfFunc.get_stackid, [self.ctx, self.mc.stack_map(kind), I64(flags)])
        if kind == "user":
            tgid = self.b.and_(self.bpf.pid_tgid(), I64(0xFFFFFFFF00000000))
            sid = self.b.or_(tgid, self.b.and_(sid, I64(0xFFFFFFFF)))
        return self.coerce(sid, T.UINT64, t)

    def _rodata_ptr(self, key: tuple) -> Mem:
        slot = self.mc.slots[key]
        return Mem(self.bpf.at(self.mc.rodata, slot.offset), 8)

    def _rodata_u64(self, key: tuple) -> ir.Value:
        return self.bpf.load_int(self._rodata_ptr(key).ptr, I64, 8)

    def e_Param(self, e: N.Param):
        mem = self._rodata_ptr(param_slot_key(e.index, e.type))
        if is_memory(e.type):
            return mem
        return self.coerce(self.bpf.load_int(mem.ptr, I64, 8), T.INT64, e.type)

    def e_LoadTimeValue(self, e: N.LoadTimeValue):
        return self._rodata_u64((e.role, e.name))

    def e_ParamCount(self, e: N.ParamCount):
        return self.coerce(self._rodata_u64((M.SLOT_PARAM_COUNT,)), T.UINT64, e.type)

    def e_CtxLoad(self, e: N.CtxLoad):
        if is_memory(e.type):
            return self._ctx_bytes(e)
        it = as_int_type(e.type)
        lty = llvm_int(it)
        w = self._regs_window
        if w is not None and w.covers(e):
            at = self.bpf.at(self._window_mem, e.deref_offset - w.lo)
            return self.b.load(at, typ=lty, align=it.size())
        if e.deref_offset is None:
            if self.f.probe.prog_type != ProgType.TRACEPOINT and e.offset % 8 == 0 and it.bits < 64:
                # raw_tp args, pt_regs and perf_event regs only allow full 8-byte reads
                word = self.b.load(self.bpf.at(self.ctx, e.offset), typ=I64, align=8)
                return self.coerce(word, T.IntType(64, it.signed), it)
            return self.b.load(self.bpf.at(self.ctx, e.offset), typ=lty, align=it.size())
        base = self.b.load(self.bpf.at(self.ctx, e.offset), typ=I64, align=8)
        addr = self.b.inttoptr(self.b.add(base, I64(e.deref_offset)), PTR)
        tmp = self.temp(8)
        self.bpf.probe_read(tmp.ptr, I32(it.size()), addr, user=e.deref_user)
        return self.b.load(tmp.ptr, typ=lty, align=it.size())

    def _ctx_bytes(self, e: N.CtxLoad) -> Mem:
        """A `char name[N]` field: copy its N bytes out of the context. Tracepoint contexts
        allow direct loads at naturally aligned offsets, so the copy keeps the field's
        alignment; a field behind a pointer is read with probe_read."""
        n = e.type.size()
        mem = self.temp(n)
        if e.deref_offset is not None:
            base = self.b.load(self.bpf.at(self.ctx, e.offset), typ=I64, align=8)
            addr = self.b.inttoptr(self.b.add(base, I64(e.deref_offset)), PTR)
            self.bpf.zero(mem, n)
            self.bpf.probe_read(mem.ptr, I32(n), addr, user=False)
            return mem
        self.bpf.copy(mem, Mem(self.bpf.at(self.ctx, e.offset), _align_at(8, e.offset)), n)
        return mem

    def e_CtxDataLoc(self, e: N.CtxDataLoc):
        n = e.type.size()
        loc = self.b.load(self.bpf.at(self.ctx, e.offset), typ=I32, align=4)
        off = self.b.zext(self.b.and_(loc, I32(0xFFFF)), I64)
        src = self.b.inttoptr(self.b.add(self.b.ptrtoint(self.ctx, I64), off), PTR)
        mem = self.temp(n)
        self.bpf.zero(mem, n)
        self.bpf.probe_read_str(mem.ptr, I32(n), src, user=False)
        return mem

    def e_StrRead(self, e: N.StrRead):
        n = e.type.size()
        ptr = self.expr(e.ptr)
        ptr = self.b.inttoptr(self.to_i64(ptr, e.ptr.type), PTR)
        size: ir.Value = I32(n)
        if e.length is not None:
            want = self.b.add(self.to_i64(self.expr(e.length), e.length.type), I64(1))
            big = self.b.icmp_unsigned(">", want, I64(n))
            size = self.b.trunc(self.b.select(big, I64(n), want), I32)
        mem = self.temp(n)
        self.bpf.zero(mem, n)
        self.bpf.probe_read_str(mem.ptr, size, ptr, user=e.user)
        return mem

    def e_MapGet(self, e: N.MapGet):
        plan, m = self._map(e.map)
        if plan.percpu:
            return self._agg_read(plan, m, e)
        vt = plan.value_type
        key_ptr = self._key(plan, e.key)
        p = self._lookup_or_insert(plan, m, key_ptr, e.insert_missing)
        found = self.b.icmp_unsigned("!=", p, ir.Constant(PTR, None))
        if is_memory(vt):
            out = self.temp(vt.size())
            with self.b.if_else(found) as (hit, miss):
                with hit:
                    self.bpf.copy(out, Mem(p, 8), vt.size())
                with miss:
                    self.bpf.zero(out, vt.size())
            return self._retype(out, vt, e.type)
        it = as_int_type(vt)
        entry_bb = self.b.block
        with self.b.if_then(found):
            val = self.bpf.load_int(p, llvm_int(it), it.size())
            hit_bb = self.b.block
        phi = self.b.phi(llvm_int(it))
        phi.add_incoming(llvm_int(it)(0), entry_bb)
        phi.add_incoming(val, hit_bb)
        return self.coerce(phi, it, e.type)

    def _retype(self, mem: Mem, src: T.Type, dst: T.Type) -> Mem:
        if src == dst or not is_memory(dst) or dst.size() <= src.size():
            return mem
        return self.materialize(mem, src, dst)

    def _agg_read(self, plan: MapPlan, m, e: N.MapGet) -> ir.Value:
        """An aggregation's value summed over CPUs (bpf_map_lookup_percpu_elem, kernel 5.19)."""
        agg = plan.value_type
        if plan.bucket_off is not None:
            raise BtcError("a histogram cannot be used as a value", e.span)
        key_ptr = self._key(plan, e.key)
        if e.insert_missing:  # btrace: reading a missing key creates it (zero on every CPU)
            self._lookup_or_insert(plan, m, key_ptr, insert=True)
        v = self.agg_over_cpus(agg, m, key_ptr)
        return self.coerce(v, T.IntType(64, agg.elem.signed), e.type)

    def agg_over_cpus(self, agg: T.AggType, m, key_ptr) -> ir.Value:
        """The i64 value of the aggregation at `key_ptr`, combined over every CPU's slot."""
        acc = self.temp(16)
        self.bpf.zero(acc, 16)
        if agg.kind in ("min", "max"):
            self.bpf.store_int(I64(0), self.bpf.at(acc.ptr, 8), 8)
        cpu_slot = self.temp(8)
        self.bpf.store_int(I32(0), cpu_slot.ptr, 4)
        cond_bb = self.fn.append_basic_block("cpus.cond")
        body_bb = self.fn.append_basic_block("cpus.body")
        end_bb = self.fn.append_basic_block("cpus.end")
        self.b.branch(cond_bb)
        self.b.position_at_end(cond_bb)
        cpu = self.b.load(cpu_slot.ptr, typ=I32, align=4)
        more = self.b.icmp_unsigned("<", cpu, I32(MAX_CPUS))
        self.b.cbranch(more, body_bb, end_bb)
        self.b.position_at_end(body_bb)
        p = self.bpf.map_lookup_percpu(m, key_ptr, cpu)
        has = self.b.icmp_unsigned("!=", p, ir.Constant(PTR, None))
        step_bb = self.fn.append_basic_block("cpus.step")
        self.b.cbranch(has, step_bb, end_bb)
        self.b.position_at_end(step_bb)
        aggs.combine_cpu(self.b, self.mc.prog.dialect, agg, acc.ptr, p)
        self.b.store(self.b.add(cpu, I32(1)), cpu_slot.ptr, align=4)
        self.b.branch(cond_bb)
        self.b.position_at_end(end_bb)
        return aggs.read_combined(self.b, agg, acc.ptr)

    def e_MapHasKey(self, e: N.MapHasKey):
        plan, m = self._map(e.map)
        if plan.is_array:
            return self.bool_value(ir.Constant(ir.IntType(1), 1), e.type)
        p = self.bpf.map_lookup(m, self._key(plan, e.key))
        return self.bool_value(self.b.icmp_unsigned("!=", p, ir.Constant(PTR, None)), e.type)

    def e_Binary(self, e: N.Binary):
        lt, rt = as_int_type(e.lhs.type), as_int_type(e.rhs.type)
        lhs, rhs = self.expr(e.lhs), self.expr(e.rhs)
        if e.op in _CMP:
            w = max(lt.bits, rt.bits)
            a = self.coerce(lhs, lt, T.IntType(w, lt.signed))
            c = self.coerce(rhs, rt, T.IntType(w, rt.signed))
            cmp = self.b.icmp_signed if e.signed else self.b.icmp_unsigned
            return self.bool_value(cmp(e.op, a, c), e.type)
        rt_out = as_int_type(e.type)
        a = self.coerce(lhs, lt, rt_out)
        c = self.coerce(rhs, rt, rt_out)
        return arith.binop(self.b, e.op, a, c, e.signed)

    def e_Logical(self, e: N.Logical):
        lhs = self.truth(self.expr(e.lhs), e.lhs.type)
        if not e.short_circuit:
            rhs = self.truth(self.expr(e.rhs), e.rhs.type)
            op = self.b.and_ if e.op == "&&" else self.b.or_
            return self.bool_value(op(lhs, rhs), e.type)
        start = self.b.block
        rhs_bb = self.fn.append_basic_block("logic.rhs")
        end_bb = self.fn.append_basic_block("logic.end")
        if e.op == "&&":
            self.b.cbranch(lhs, rhs_bb, end_bb)
        else:
            self.b.cbranch(lhs, end_bb, rhs_bb)
        self.b.position_at_end(rhs_bb)
        rhs = self.truth(self.expr(e.rhs), e.rhs.type)
        rhs_end = self.b.block
        self.b.branch(end_bb)
        self.b.position_at_end(end_bb)
        phi = self.b.phi(ir.IntType(1))
        phi.add_incoming(ir.Constant(ir.IntType(1), 0 if e.op == "&&" else 1), start)
        phi.add_incoming(rhs, rhs_end)
        return self.bool_value(phi, e.type)

    def e_Unary(self, e: N.Unary):
        v = self.coerce(self.expr(e.operand), e.operand.type, e.type)
        if e.op == "!":
            return self.bool_value(self.b.icmp_unsigned("==", v, v.type(0)), e.type)
        if e.op == "~":
            return self.b.not_(v)
        if e.op == "-":
            return self.b.neg(v)
        raise BtcError(f"unknown unary operator {e.op}", e.span)

    def e_Ternary(self, e: N.Ternary):
        cond = self.truth(self.expr(e.cond), e.cond.type)
        out = self.temp(e.type.size()) if is_memory(e.type) else None
        then_bb = self.fn.append_basic_block("tern.then")
        else_bb = self.fn.append_basic_block("tern.else")
        end_bb = self.fn.append_basic_block("tern.end")
        self.b.cbranch(cond, then_bb, else_bb)
        results = []
        for bb, sub in ((then_bb, e.then), (else_bb, e.orelse)):
            self.b.position_at_end(bb)
            v = self.expr(sub)
            if out is not None:
                self.store_value(out, e.type, v, sub.type)
            else:
                v = self.coerce(v, sub.type, e.type)
            results.append((v, self.b.block))
            self.b.branch(end_bb)
        self.b.position_at_end(end_bb)
        if out is not None:
            return out
        phi = self.b.phi(llvm_int(as_int_type(e.type)))
        for v, bb in results:
            phi.add_incoming(v, bb)
        return phi

    def e_Cast(self, e: N.Cast):
        v = self.expr(e.expr)
        if isinstance(v, Mem):
            if is_memory(e.type):
                return self._retype(v, e.expr.type, e.type)
            raise BtcError(f"cannot cast {e.expr.type} to {e.type}", e.span)
        return self.coerce(v, e.expr.type, e.type)

    def e_StrCmp(self, e: N.StrCmp):
        lhs, rhs = self.expr(e.lhs), self.expr(e.rhs)
        limit = min(e.lhs.type.size(), e.rhs.type.size())
        if e.n is not None:
            limit = min(limit, e.n)
        const = isinstance(e.lhs, N.StrConst) or isinstance(e.rhs, N.StrConst)
        # rodata loads (`$N` strings) are hoisted freely by LLVM: unrolled, they spill the stack
        rodata = isinstance(e.lhs, N.Param) or isinstance(e.rhs, N.Param)
        if (limit > STRCMP_UNROLL_MAX or rodata) and not const:
            eq = self._strings_equal_loop(lhs, rhs, limit)
        else:
            eq = _strings_equal(self.b, lhs, rhs, limit, e.lhs, e.rhs)
        if e.op == "!=":
            eq = self.b.not_(eq)
        return self.bool_value(eq, e.type)

    def _strings_equal_loop(self, lhs: Mem, rhs: Mem, limit: int) -> ir.Value:
        """A bounded byte loop for long strings (the verifier walks it; code stays small)."""
        b = self.b
        pre = b.block
        loop = self.fn.append_basic_block("strcmp.loop")
        step = self.fn.append_basic_block("strcmp.step")
        done = self.fn.append_basic_block("strcmp.done")
        b.branch(loop)
        b.position_at_end(loop)
        i = b.phi(I64)
        i.add_incoming(I64(0), pre)
        x = b.load(b.gep(lhs.ptr, [i], inbounds=True, source_etype=I8), typ=I8, align=1)
        y = b.load(b.gep(rhs.ptr, [i], inbounds=True, source_etype=I8), typ=I8, align=1)
        b.cbranch(b.icmp_unsigned("!=", x, y), done, step)
        b.position_at_end(step)
        nxt = b.add(i, I64(1))
        i.add_incoming(nxt, step)
        end = b.or_(b.icmp_unsigned("==", x, I8(0)), b.icmp_unsigned(">=", nxt, I64(limit)))
        b.cbranch(end, done, loop)
        b.position_at_end(done)
        eq = b.phi(ir.IntType(1))
        eq.add_incoming(ir.Constant(ir.IntType(1), 0), loop)
        eq.add_incoming(ir.Constant(ir.IntType(1), 1), step)
        return eq

    def e_TupleNew(self, e: N.TupleNew):
        tt: T.TupleType = e.type
        vals = [self.expr(x) for x in e.elems]
        mem = self.temp(tt.size())
        self.bpf.zero(mem, tt.size())
        for v, x, t, off in zip(vals, e.elems, tt.elems, tt.offsets()):
            self.store_value(Mem(self.bpf.at(mem.ptr, off), _align_at(8, off)), t, v, x.type)
        return mem

    def e_TupleGet(self, e: N.TupleGet):
        tt: T.TupleType = e.expr.type
        base = self.expr(e.expr)
        off = tt.offsets()[e.index]
        field = Mem(self.bpf.at(base.ptr, off), _align_at(base.align, off))
        v = self.load_value(field, tt.elems[e.index])
        if isinstance(v, Mem):
            return v
        return self.coerce(v, tt.elems[e.index], e.type)

    def s_ForMap(self, s: N.ForMap) -> None:
        from btc.backend_bpf.formap import lower_for  # bpf_for_each_map_elem callback

        lower_for(self, s)

    def e_MapLen(self, e: N.MapLen):
        from btc.backend_bpf.formap import lower_len

        return lower_len(self, e)

    def e_Call(self, e: N.Call):
        from btc.backend_bpf.calls import lower_call  # signal, strcontains, ntop, buf, join

        return lower_call(self, e)


# ---------------------------------------------------------------- pure helpers

_CMP = ("==", "!=", "<", "<=", ">", ">=")

_SIMPLE_BUILTINS = {
    "cpu": BpfFunc.get_smp_processor_id,
    "cgroup": BpfFunc.get_current_cgroup_id,
    "rand": BpfFunc.get_prandom_u32,
    "curtask": BpfFunc.get_current_task,
    "jiffies": BpfFunc.jiffies64,
    "numaid": BpfFunc.get_numa_node_id,
    "func": BpfFunc.get_func_ip,
}


def _align_at(align: int, off: int) -> int:
    a = align
    while a > 1 and off % a:
        a //= 2
    return a


def _strings_equal(b: ir.IRBuilder, lhs, rhs, limit: int, lexpr: N.Expr, rexpr: N.Expr) -> ir.Value:
    """Straight-line comparison of up to `limit` bytes, stopping at the first NUL."""
    const = None
    if isinstance(rexpr, N.StrConst):
        const, mem, size = rexpr.value, lhs, lexpr.type.size()
    elif isinstance(lexpr, N.StrConst):
        const, mem, size = lexpr.value, rhs, rexpr.type.size()
    i1 = ir.IntType(1)
    if const is not None:
        return _equals_const(b, mem, size, (const + b"\0")[:limit])
    done = ir.Constant(i1, 0)
    diff = ir.Constant(i1, 0)
    for i in range(limit):
        x = b.load(_byte_ptr(b, lhs.ptr, i), typ=I8, align=1)
        y = b.load(_byte_ptr(b, rhs.ptr, i), typ=I8, align=1)
        ne = b.icmp_unsigned("!=", x, y)
        diff = b.or_(diff, b.and_(b.not_(done), ne))
        done = b.or_(done, b.icmp_unsigned("==", x, I8(0)))
    return b.not_(diff)


def _equals_const(b: ir.IRBuilder, mem: Mem, size: int, data: bytes) -> ir.Value:
    """`data` (a literal and its NUL) equals the first bytes at `mem`: 8 bytes per load
    where the buffer is 8-aligned and holds the whole word, else byte by byte."""
    acc = I64(0)
    i = 0
    while i < len(data):
        n = min(8, len(data) - i)
        if mem.align >= 8 and i + 8 <= size:
            word = b.load(_byte_ptr(b, mem.ptr, i), typ=I64, align=8)
            diff = b.xor(word, I64(int.from_bytes(data[i:i + 8], "little")))
            if n < 8:
                diff = b.and_(diff, I64((1 << (8 * n)) - 1))
            i += 8
        else:
            byte = b.load(_byte_ptr(b, mem.ptr, i), typ=I8, align=1)
            diff = b.zext(b.xor(byte, I8(data[i])), I64)
            i += 1
        acc = b.or_(acc, diff)
    return b.icmp_unsigned("==", acc, I64(0))


def _byte_ptr(b: ir.IRBuilder, ptr: ir.Value, i: int) -> ir.Value:
    return ptr if i == 0 else b.gep(ptr, [I64(i)], inbounds=True, source_etype=I8)


def is_special(f: N.Function) -> bool:
    """BEGIN and END run once in btc's own process: `-p` does not apply to them."""
    return f.probe.attach.get("kind") in ("begin", "end")


def param_slot_key(index: int, t: T.Type) -> tuple:
    """Integer uses of `$N` share one u64 slot; each string length gets its own char[N]."""
    return (M.SLOT_PARAM, index, t if isinstance(t, T.StrType) else "int")


def walk(stmts):
    """Every node under the given statements (fields of dataclass nodes, depth first)."""
    stack = list(stmts)[::-1]
    while stack:
        n = stack.pop()
        yield n
        stack.extend(reversed(child_nodes(n)))

