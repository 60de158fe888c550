"""`for ($kv : @m) { ... }` and `len(@m)`: bpf_for_each_map_elem (helper 164, kernel 5.13)
with a static callback subprogram `long cb(void *map, void *key, void *value, void *ctx)`.

The callback is lowered by a `FunctionLowerer` of its own (its own stack, locals and debug
scope). It shares the per-CPU scratch map with the probe, so its scratch temps start above the
caller's live ones. Its context argument points to a frame on the caller's stack of u64
slots: the address of each shared local (`ForMap.captures`, as bpftrace 0.22+ passes them:
the body reads and writes the probe's own slot), then, only when the body reads the probe
context (args, argN, retval, stacks), the probe's ctx pointer. The verifier tracks both
spilled pointers through the caller's stack. `break` returns 1 (stop), `continue` returns 0.
An aggregation's value is read back summed over CPUs, as bpftrace does."""
from __future__ import annotations

from llvmlite import ir

from btc.backend_bpf.builder import BpfBuilder, Mem
from btc.backend_bpf.layout import I64, PTR, is_memory, llvm_int
from btc.diagnostics import NO_SPAN
from btc.ir import nodes as N
from btc.ir import types as T
from btc.ir.walk import child_nodes

FOR_EACH_MAP_ELEM = 164  # include/uapi/linux/bpf.h: BPF_FUNC_for_each_map_elem
KV_STACK_MAX = 16  # a bigger `$kv` (string keys, tuples) lives in the scratch map


class _Body:
    """The slice of `ir.Function` a callback lowerer reads (its statements)."""

    def __init__(self, body, probe):
        self.body, self.probe, self.filter = body, probe, None


def _callback_class(base):
    class Callback(base):
        def __init__(self, mc, parent, name: str, body, line: int, captures=()):
            self.mc, self.f = mc, _Body(body, parent.f.probe)
            self.fn = ir.Function(mc.module, ir.FunctionType(I64, [PTR, PTR, PTR, PTR]), name)
            self.fn.linkage = "internal"
            self.fn.attributes.add("nounwind")
            set.add(self.fn.attributes, '"no-builtins"')
            for arg, n in zip(self.fn.args, ("map", "key", "value", "cbctx")):
                arg.name = n
            self.entry = self.fn.append_basic_block("entry")
            self.body = self.fn.append_basic_block("body")
            self.b = ir.IRBuilder(self.body)
            self.bpf = BpfBuilder(self.b)
            self.sp = mc.di.subprogram(name, line, local=True)
            self.fn.set_metadata("dbg", self.sp)
            self.loc0 = mc.di.location(self.sp, line, 0)
            self.b.debug_metadata = self.loc0
            self.scratch_ptr = None
            self.t = type(parent.t)(scratch_top=parent.t.scratch_top,
                                    scratch_high=parent.t.scratch_top)
            self.locals, self.loops, self._zero_key = {}, [], None
            self.captures, self._ctx = tuple(captures), None
            for i, n in enumerate(self.captures):
                self.locals[n] = self._shared_local(parent.locals[n], i)

        @property
        def ctx(self) -> ir.Value:
            """The probe's ctx, loaded from the frame's last slot on first use."""
            if self._ctx is None:
                with self._at_entry():
                    slot = self.bpf.at(self.fn.args[3], 8 * len(self.captures))
                    self._ctx = self.b.load(slot, typ=PTR, align=8)
            return self._ctx

        def _shared_local(self, outer: tuple, i: int) -> tuple:
            t, slot = outer
            # an integer slot's pointer is typed (i64*...) as the probe's alloca is, so the
            # shared LocalGet/LocalSet code loads through it unchanged
            typ = PTR if isinstance(slot, Mem) else llvm_int(t).as_pointer()
            with self._at_entry():
                p = self.b.load(self.bpf.at(self.fn.args[3], 8 * i), typ=typ, align=8)
            return t, (Mem(p, slot.align) if isinstance(slot, Mem) else p)

        def s_Break(self, s):
            if self.loops:
                return super().s_Break(s)
            self.b.ret(I64(1))
            self._dead_block()

        def s_Continue(self, s):
            if self.loops:
                return super().s_Continue(s)
            self.b.ret(I64(0))
            self._dead_block()

        def s_Return(self, s):
            self.b.ret(I64(1))
            self._dead_block()

        def lower_body(self, var: str | None, kv: T.TupleType | None, key_t, val_t,
                       plan=None, m=None) -> int:
            if var is not None:
                mem = self._kv_slot(kv)
                self.locals[var] = (kv, mem)
                self._declare_locals()
                k_off, v_off = kv.offsets()
                self._copy_in(mem, k_off, self.fn.args[1], key_t, kv.elems[0])
                if isinstance(plan.value_type, T.AggType):
                    self._agg_in(mem, v_off, plan, m, kv.elems[1])
                else:
                    self._copy_in(mem, v_off, self.fn.args[2], val_t, kv.elems[1])
                for s in self.f.body:
                    self.stmt(s)
            if not self.b.block.is_terminated:
                self.b.ret(I64(0))
            self._finish_entry()
            return self.t.scratch_high

        def _kv_slot(self, kv: T.TupleType) -> Mem:
            """`$kv`'s memory: on the callback's stack when small (an (int, int) pair), so a
            walk over such a map needs no scratch-map lookup per element."""
            if kv.size() > KV_STACK_MAX:
                return self._scratch_alloc(kv.size())
            with self._at_entry():
                a = self.b.alloca(ir.ArrayType(ir.IntType(8), T.round_up(kv.size(), 8)), name="kv")
                a.align = 8
                a.type = PTR  # opaque, as the stack temps are
            return Mem(a, 8)

        def _stop_value(self) -> ir.Constant:
            # a for_each callback's 1 stops the walk (after exit() the probe's later
            # statements still run; user space drops their events)
            return I64(1)

        def _copy_in(self, mem: Mem, off: int, src_ptr, src_t: T.Type, dst_t: T.Type) -> None:
            dst = Mem(self.bpf.at(mem.ptr, off), 8 if off % 8 == 0 else 1)
            src = Mem(src_ptr, 8)
            if is_memory(dst_t):
                self.store_value(dst, dst_t, src, dst_t)
            else:
                v = self.load_value(src, dst_t)
                self.store_value(dst, dst_t, v, dst_t)

        def _agg_in(self, mem: Mem, off: int, plan, m, dst_t: T.Type) -> None:
            """The element's aggregation value over all CPUs (the callback only sees this
            CPU's slot), read by key like `@m[k]` in an expression."""
            agg = plan.value_type
            v = self.agg_over_cpus(agg, m, self.fn.args[1])
            v = self.coerce(v, T.IntType(64, agg.elem.signed), dst_t)
            self.store_value(Mem(self.bpf.at(mem.ptr, off), 8), dst_t, v, dst_t)

    return Callback


def own_nodes(stmts):
    """The nodes a function's own frame lowers, depth first: a nested `for` body is another
    BPF function with its own locals, so only its uses of the locals it shares are seen
    (a body-local `$x` must not get a slot, or a type, in the probe)."""
    stack = list(stmts)[::-1]
    while stack:
        n = stack.pop()
        if isinstance(n, N.ForMap):
            shared = set(n.captures)
            yield from (x for x in own_nodes(n.body)
                        if isinstance(x, (N.LocalSet, N.LocalGet)) and x.name in shared)
            continue
        yield n
        stack.extend(reversed(child_nodes(n)))


def lower_for(fl, s: N.ForMap) -> None:
    plan, m = fl._map(s.map)
    fl.mc.n_callbacks = getattr(fl.mc, "n_callbacks", 0) + 1
    name = f"{fl.fn.name}_for{fl.mc.n_callbacks}"
    line = s.span.line if s.span is not NO_SPAN else 0
    cb = _callback_class(type(fl))(fl.mc, fl, name, s.body, max(line, 0), s.captures)
    kv: T.TupleType = s.kv_type
    high = cb.lower_body(s.var, kv, kv.elems[0], kv.elems[1], plan, m)
    fl.t.scratch_high = max(fl.t.scratch_high, high)
    if high > fl.t.scratch_top:
        fl._scratch()  # the callback's temps live in the scratch map: the probe looks it up
    _call(fl, m, cb.fn, _frame(fl, s.captures, cb._ctx is not None))


def _frame(fl, captures: tuple[str, ...], with_ctx: bool) -> ir.Value:
    """The callback's context: the shared locals' addresses, then ctx if the body reads it
    (NULL when there is nothing to pass)."""
    ptrs = [fl.locals[n][1] for n in captures]
    ptrs = [p.ptr if isinstance(p, Mem) else p for p in ptrs]
    if with_ctx:
        ptrs.append(fl.ctx)
    if not ptrs:
        return ir.Constant(PTR, None)
    with fl._at_entry():
        frame = fl.b.alloca(ir.ArrayType(I64, len(ptrs)), name="for_frame")
        frame.align = 8
        frame.type = PTR  # opaque: the slots hold pointers
    for i, p in enumerate(ptrs):
        fl.b.store(p, fl.bpf.at(frame, 8 * i), align=8)
    return frame


def lower_len(fl, e: N.MapLen):
    _, m = fl._map(e.map)
    key = ("len-callback",)
    cbs = fl.mc.__dict__.setdefault("len_callbacks", {})
    if key not in cbs:
        cb = _callback_class(type(fl))(fl.mc, fl, "btc_len_cb", (), 0)
        cb.lower_body(None, None, None, None)
        cbs[key] = cb.fn
    return _call(fl, m, cbs[key], ir.Constant(PTR, None))


def _call(fl, m, cb_fn, frame: ir.Value):
    args = [m, cb_fn, frame, I64(0)]
    fnty = ir.FunctionType(I64, [PTR, PTR, PTR, I64])
    callee = ir.Constant(I64, FOR_EACH_MAP_ELEM).inttoptr(PTR)
    callee.function_type = fnty
    return fl.b.call(callee, args)
