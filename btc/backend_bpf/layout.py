"""IR types -> LLVM types, and the memory layout of every BPF map btc creates.

Integers are LLVM integers of their width; strings and tuples live in memory and travel as
pointers to their bytes (layouts per `btc.ir.types`). A map's key/value sizes are decided
here once and used by both the `.maps` definitions and the metadata.
"""
from __future__ import annotations

import re

from llvmlite import ir

from btc.ir import nodes as N
from btc.ir import types as T
from btc.records import Record  # cheaper to define than a dataclass (start-up)
from btc.runtime.abi import MapType

I8, I32, I64 = ir.IntType(8), ir.IntType(32), ir.IntType(64)
PTR = ir.PointerType()


def llvm_int(t: T.Type) -> ir.IntType:
    if isinstance(t, T.IntType):
        return ir.IntType(t.bits)
    if isinstance(t, (T.AggType, T.StackType)):
        return I64
    raise TypeError(f"{t} is not an integer type")


def is_memory(t: T.Type) -> bool:
    """Values that live in memory and are passed around as pointers."""
    return isinstance(t, (T.StrType, T.TupleType, T.InetType, T.BufType))


def as_int_type(t: T.Type) -> T.IntType:
    if isinstance(t, T.IntType):
        return t
    if isinstance(t, T.AggType):
        return T.IntType(64, t.elem.signed)
    return T.UINT64


def sym_name(prefix: str, name: str) -> str:
    return prefix + re.sub(r"[^A-Za-z0-9_]", "_", name.lstrip("@"))


class MapPlan(Record):
    """How one bt map is laid out in BPF. `key_type` is the BPF key (for hist/lhist: user key
    padded to 8 plus a u64 bucket, as a TupleType-like layout described by `bucket_off`)."""

    decl: N.MapDecl | None
    name: str
    sym: str
    map_type: int
    key_size: int
    value_size: int
    max_entries: int
    flags: int = 0
    agg: str = "none"
    user_key: T.Type | None = None
    bucket_off: int | None = None  # hist/lhist: offset of the u64 bucket in the key

    @property
    def percpu(self) -> bool:
        return self.map_type in (MapType.PERCPU_HASH, MapType.PERCPU_ARRAY)

    @property
    def is_array(self) -> bool:
        return self.map_type in (MapType.ARRAY, MapType.PERCPU_ARRAY)

    @property
    def value_type(self) -> T.Type:
        return self.decl.value if self.decl else T.UINT64


def plan_user_map(decl: N.MapDecl, sym: str, dialect: str = "bpftrace") -> MapPlan:
    value = decl.value
    agg = value.kind if isinstance(value, T.AggType) else "none"
    key = decl.key
    if agg in ("hist", "lhist"):
        off = T.round_up(key.size(), 8) if key is not None else 0
        return MapPlan(decl, decl.name, sym, MapType.PERCPU_HASH, off + 8, value.size(),
                       decl.max_entries, agg=agg, user_key=key, bucket_off=off)
    if key is None:
        # bpftrace prints a plain scalar only once it was set (and not after delete), so it
        # must be able to be absent: a one-entry HASH. btrace reads insert zero anyway, and an
        # unkeyed aggregation prints 0 even when never run (bpftrace too): ARRAYs there.
        if agg != "none":
            mtype = MapType.PERCPU_ARRAY
        else:
            mtype = MapType.HASH if dialect == "bpftrace" else MapType.ARRAY
        return MapPlan(decl, decl.name, sym, mtype, 4, value.size(), 1, agg=agg)
    mtype = MapType.PERCPU_HASH if agg != "none" else MapType.HASH
    return MapPlan(decl, decl.name, sym, mtype, key.size(), value.size(), decl.max_entries,
                   agg=agg, user_key=key)


def plan_maps(prog: N.Program) -> list[MapPlan]:
    """User maps in `Program.maps` order (their index is the map id in events)."""
    plans, used = [], set()
    for decl in prog.maps:
        sym = sym_name("m_", decl.name)
        base, i = sym, 1
        while sym in used:
            sym, i = f"{base}_{i}", i + 1
        used.add(sym)
        plans.append(plan_user_map(decl, sym, prog.dialect))
    return plans
