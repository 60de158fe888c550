"""BTF-defined map globals in `.maps` and the patchable `.rodata` object.

A map is a global `{ptr, ptr, ...}` zeroinitializer in section `.maps` whose debug type is an
anonymous struct of pointer members (`type`, `max_entries`, `map_flags` point to `int[N]`;
`key`/`value` point to the real types), which is what libbpf's `parse_btf_map_def` reads.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from llvmlite import ir

from btc import meta as M
from btc.backend_bpf.debuginfo import DebugInfo
from btc.backend_bpf.layout import I8, PTR, MapPlan
from btc.ir import nodes as N
from btc.ir import types as T
from btc.runtime.abi import MapType


def _map_global(module: ir.Module, di: DebugInfo, sym: str, attrs: list[tuple[str, object]],
                gv: ir.GlobalVariable | None = None) -> ir.GlobalVariable:
    """attrs: (member name, DI pointer type) in order. `gv`: an existing global to describe."""
    lty = ir.LiteralStructType([PTR] * len(attrs))
    if gv is None:
        gv = ir.GlobalVariable(module, lty, sym)
    elif gv.value_type != lty:
        raise ValueError(f"map {sym}: global type does not match its definition")
    gv.initializer = ir.Constant(lty, None)
    gv.section = ".maps"
    gv.align = 8
    members = [(name, dtype, i * 64, 64) for i, (name, dtype) in enumerate(attrs)]
    di.global_var(gv, sym, di.struct(None, members, 64 * len(attrs)))
    return gv


def placeholder_map(module: ir.Module, sym: str) -> ir.GlobalVariable:
    """A 4-member `.maps` global for a map whose size is known only after lowering (scratch,
    stack maps); `define_map(..., gv=...)` attaches its definition later."""
    lty = ir.LiteralStructType([PTR] * 4)
    gv = ir.GlobalVariable(module, lty, sym)
    gv.initializer = ir.Constant(lty, None)
    gv.section = ".maps"
    gv.align = 8
    return gv


def key_field_names(prog: N.Program) -> dict[str, list[str]]:
    """Member names for tuple keys, from the expressions that write the map: `@m[pid, comm]`
    gives `pid`, `comm`. A position falls back to `f<i>` when writers disagree or the
    expression has no name; `_<i>` suffixes keep names unique."""
    from btc.backend_bpf.lower import walk

    seen: dict[str, list[set[str]]] = {}
    for f in prog.functions:
        for n in walk(((f.filter,) if f.filter else ()) + f.body):
            if isinstance(n, (N.MapSet, N.MapAgg, N.MapAdd)) and isinstance(n.key, N.TupleNew):
                names = seen.setdefault(n.map, [set() for _ in n.key.elems])
                for i, e in enumerate(n.key.elems[:len(names)]):
                    names[i].add(_expr_name(e, i))
    out = {}
    for m, names in seen.items():
        chosen = [next(iter(s)) if len(s) == 1 else f"f{i}" for i, s in enumerate(names)]
        out[m] = [c if chosen.count(c) == 1 else f"{c}_{i}" for i, c in enumerate(chosen)]
    return out


def _expr_name(e: N.Expr, i: int) -> str:
    while isinstance(e, N.Cast):
        e = e.expr
    if isinstance(e, N.BuiltinRead):
        name = e.name
    elif isinstance(e, N.LocalGet):
        name = e.name.lstrip("$")
    elif isinstance(e, N.Param):
        name = f"param{e.index}"
    else:
        return f"f{i}"
    return name if name.isidentifier() else f"f{i}"


def _key_di(di: DebugInfo, plan: MapPlan, fields: list[str] | None = None):
    if plan.bucket_off is not None:
        u64 = di.int_type(64, False)
        if plan.user_key is None:
            return u64
        ukey = di.named(plan.user_key, f"{plan.sym}_ukey", fields)
        members = [("key", ukey, 0, plan.user_key.size() * 8),
                   ("bucket", u64, plan.bucket_off * 8, 64)]
        return di.struct(f"{plan.sym}_key", members, plan.key_size * 8)
    if plan.user_key is None:
        return di.int_type(32, False)
    return di.named(plan.user_key, f"{plan.sym}_key", fields)


def define_map(module: ir.Module, di: DebugInfo, plan: MapPlan, value_di=None,
               gv: ir.GlobalVariable | None = None,
               key_fields: list[str] | None = None) -> ir.GlobalVariable:
    attrs = [("type", di.uint_array_ptr(int(plan.map_type))),
             ("max_entries", di.uint_array_ptr(plan.max_entries))]
    if plan.map_type != MapType.RINGBUF:
        if plan.flags:
            attrs.append(("map_flags", di.uint_array_ptr(plan.flags)))
        attrs.append(("key", di.pointer(_key_di(di, plan, key_fields))))
        vdi = value_di if value_di is not None else di.named(plan.value_type, f"{plan.sym}_value")
        attrs.append(("value", di.pointer(vdi)))
    return _map_global(module, di, plan.sym, attrs, gv)


def events_plan() -> MapPlan:
    return MapPlan(None, M.EVENTS_MAP, M.EVENTS_MAP, MapType.RINGBUF, 0, 0, M.RINGBUF_SIZE)


def lost_plan() -> MapPlan:
    return MapPlan(None, M.LOST_MAP, M.LOST_MAP, MapType.ARRAY, 4, 8, 1)


def scratch_plan(size: int) -> MapPlan:
    return MapPlan(None, M.SCRATCH_MAP, M.SCRATCH_MAP, MapType.PERCPU_ARRAY, 4, T.round_up(size, 8), 1)


def stack_plan(kind: str) -> MapPlan:
    sym = M.STACK_MAPS[kind]
    return MapPlan(None, sym, sym, MapType.STACK_TRACE, 4, 8 * M.STACK_DEPTH, M.STACK_MAP_ENTRIES)


def map_desc(plan: MapPlan, internal: bool = False) -> M.MapDesc:
    decl = plan.decl
    value = decl.value if decl else None
    lh = list(value.lhist) if isinstance(value, T.AggType) and value.lhist else None
    if decl is not None:
        vdesc = T.to_typedesc(value)
    elif plan.map_type == MapType.RINGBUF:
        vdesc = {"k": "none"}
    elif plan.map_type == MapType.STACK_TRACE:
        vdesc = {"k": "stack", "kind": "kernel" if plan.sym == M.STACK_MAPS["kernel"] else "user"}
    elif plan.sym == M.SCRATCH_MAP:
        vdesc = {"k": "str", "size": plan.value_size}
    else:
        vdesc = {"k": "int", "size": 8, "signed": False}
    return M.MapDesc(
        name=plan.name,
        sym=plan.sym,
        map_type=int(plan.map_type),
        key_size=plan.key_size,
        value_size=plan.value_size,
        max_entries=plan.max_entries,
        flags=plan.flags,
        key=T.to_typedesc(plan.user_key) if plan.user_key is not None else None,
        value=vdesc,
        agg=plan.agg,
        percpu=plan.percpu,
        hist_bits=value.bits if isinstance(value, T.AggType) and value.kind == "hist" else 0,
        lhist=lh,
        internal=internal,
        hidden=bool(decl.hidden) if decl else False,
    )


# ---------------------------------------------------------------- .rodata


@dataclass
class Rodata:
    """Load-time constants in one `.rodata` object, patched by the runtime before loading."""

    slots: list[M.RodataSlot] = field(default_factory=list)
    types: list[T.Type] = field(default_factory=list)
    size: int = 0

    def add(self, role: str, t: T.Type, index: int | None = None,
            name: str | None = None) -> M.RodataSlot:
        off = T.round_up(self.size, 8)
        slot = M.RodataSlot(role=role, offset=off, t=T.to_typedesc(t), index=index, name=name)
        self.slots.append(slot)
        self.types.append(t)
        self.size = off + t.size()
        return slot

    def define(self, module: ir.Module, di: DebugInfo) -> ir.GlobalVariable | None:
        if not self.slots:
            return None
        size = T.round_up(self.size, 8)
        lty = ir.ArrayType(I8, size)
        gv = ir.GlobalVariable(module, lty, M.RODATA_SYM)
        gv.initializer = ir.Constant(lty, None)
        gv.global_constant = True
        # The runtime rewrites the bytes before loading: LLVM must not fold loads.
        gv.storage_class = "externally_initialized"
        gv.section = M.RODATA_SECTION
        gv.align = 8
        members = [
            (f"{s.role}{s.index if s.index is not None else ''}", di.of(t), s.offset * 8, t.size() * 8)
            for s, t in zip(self.slots, self.types)
        ]
        di.global_var(gv, M.RODATA_SYM, di.struct("btc_rodata", members, size * 8))
        return gv
