"""`for ($kv : @m) { ... }` and `len(@m)`: bpf_for_each_map_elem (helper 164, kernel 5.13)
with a static callback subprogram `long cb(void *map, void *key, void *value, void *ctx)`.

The callback is lowered by a `FunctionLowerer` of its own (its own stack, locals and debug
scope). It shares the per-CPU scratch map with the probe, so its scratch temps start above the
caller's live ones. Its context argument is NULL: probe-context reads (args, retval, stacks)
are not available inside a for body; `break` returns 1 (stop), `continue` returns 0."""
from __future__ import annotations

from llvmlite import ir

from btc.backend_bpf.builder import BpfBuilder, Mem
from btc.backend_bpf.layout import I64, PTR, is_memory
from btc.diagnostics import NO_SPAN
from btc.ir import nodes as N
from btc.ir import types as T

FOR_EACH_MAP_ELEM = 164  # include/uapi/linux/bpf.h: BPF_FUNC_for_each_map_elem


class _Body:
    """The slice of `ir.Function` a callback lowerer reads (its statements)."""

    def __init__(self, body, probe):
        self.body, self.probe, self.filter = body, probe, None


def _callback_class(base):
    class Callback(base):
        def __init__(self, mc, parent, name: str, body, line: int):
            self.mc, self.f = mc, _Body(body, parent.f.probe)
            self.fn = ir.Function(mc.module, ir.FunctionType(I64, [PTR, PTR, PTR, PTR]), name)
            self.fn.linkage = "internal"
            self.fn.attributes.add("nounwind")
            set.add(self.fn.attributes, '"no-builtins"')
            for arg, n in zip(self.fn.args, ("map", "key", "value", "cbctx")):
                arg.name = n
            self.ctx = ir.Constant(PTR, None)
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

        def lower_body(self, var: str | None, kv: T.TupleType | None, key_t, val_t) -> int:
            if var is not None:
                self._declare_locals()
                mem = self.locals.get(var, (None, None))[1]
                if mem is None:
                    mem = self._scratch_alloc(kv.size())
                    self.locals[var] = (kv, mem)
                k_off, v_off = kv.offsets()
                self._copy_in(mem, k_off, self.fn.args[1], key_t, kv.elems[0])
                self._copy_in(mem, v_off, self.fn.args[2], val_t, kv.elems[1])
                for s in self.f.body:
                    self.stmt(s)
            if not self.b.block.is_terminated:
                self.b.ret(I64(0))
            self._finish_entry()
            return self.t.scratch_high

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

    return Callback


def lower_for(fl, s: N.ForMap) -> None:
    plan, m = fl._map(s.map)
    fl.mc.n_callbacks = getattr(fl.mc, "n_callbacks", 0) + 1
    name = f"{fl.fn.name}_for{fl.mc.n_callbacks}"
    line = s.span.line if s.span is not NO_SPAN else 0
    cb = _callback_class(type(fl))(fl.mc, fl, name, s.body, max(line, 0))
    kv: T.TupleType = s.kv_type
    high = cb.lower_body(s.var, kv, kv.elems[0], kv.elems[1])
    fl.t.scratch_high = max(fl.t.scratch_high, high)
    if high > fl.t.scratch_top:
        fl._scratch()  # the callback's temps live in the scratch map: the probe looks it up
    _call(fl, m, cb.fn)


def lower_len(fl, e: N.MapLen):
    _, m = fl._map(e.map)
    key = ("len-callback",)
    cbs = fl.mc.__dict__.setdefault("len_callbacks", {})
    if key not in cbs:
        cb = _callback_class(type(fl))(fl.mc, fl, "btc_len_cb", (), 0)
        cb.lower_body(None, None, None, None)
        cbs[key] = cb.fn
    return _call(fl, m, cbs[key])


def _call(fl, m, cb_fn):
    args = [m, cb_fn, ir.Constant(PTR, None), I64(0)]
    fnty = ir.FunctionType(I64, [PTR, PTR, PTR, I64])
    callee = ir.Constant(I64, FOR_EACH_MAP_ELEM).inttoptr(PTR)
    callee.function_type = fnty
    return fl.b.call(callee, args)
