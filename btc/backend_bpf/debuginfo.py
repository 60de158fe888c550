"""Debug-info metadata: LLVM's BPF back end turns it into `.BTF` (types, maps, functions) and
`.BTF.ext` (func and line info).

Facts this relies on (shared/reference/linux-bpf.md §9): the module needs "Dwarf Version" and
"Debug Info Version" flags; the one DIFile carries the bt source text so line info shows bt
lines; every program parameter needs a named DILocalVariable in `retainedNodes` or the kernel
rejects the whole BTF blob.
"""
from __future__ import annotations

from llvmlite import ir
from llvmlite.ir import values as irv

from btc.ir import types as T

_I32 = ir.IntType(32)


class _DistinctDI(irv.DIValue):
    """A distinct node that may be completed after creation (cycles such as subprogram <->
    its parameter variables); hashed by identity so llvmlite's cache never recurses."""

    __hash__ = object.__hash__

    def __eq__(self, other: object) -> bool:
        return self is other


class DebugInfo:
    """Builds DI nodes for one module. Create types and globals first, then `finish_unit()`,
    then subprograms and locations."""

    def __init__(self, module: ir.Module, source_name: str, source: str):
        self.m = module
        self.file = module.add_debug_info(
            "DIFile", {"filename": source_name or "bt", "directory": "", "source": source}
        )
        self.globals: list = []
        self.unit = None
        self._types: dict = {}
        module.add_named_metadata("llvm.module.flags", [_I32(7), "Dwarf Version", _I32(5)])
        module.add_named_metadata("llvm.module.flags", [_I32(2), "Debug Info Version", _I32(3)])

    # ------------------------------------------------------------ node helpers

    def _di(self, kind: str, ops: dict):
        return self.m.add_debug_info(kind, ops)

    def _distinct(self, kind: str, ops: dict) -> _DistinctDI:
        fixed = tuple(sorted(self.m._fix_di_operands(ops.items()), key=lambda kv: kv[0]))
        return _DistinctDI(self.m, True, kind, fixed, name=str(len(self.m.metadata)))

    @staticmethod
    def _set(node: _DistinctDI, key: str, value) -> None:
        node.operands = tuple((k, value if k == key else v) for k, v in node.operands)

    # ------------------------------------------------------------ types

    def basic(self, name: str, bits: int, signed: bool):
        enc = "DW_ATE_signed" if signed else "DW_ATE_unsigned"
        if bits == 8 and name == "char":
            enc = "DW_ATE_signed_char"
        return self._di("DIBasicType", {"name": name, "size": bits, "encoding": ir.DIToken(enc)})

    def int_type(self, bits: int, signed: bool):
        return self.basic(("s" if signed else "u") + str(bits), bits, signed)

    def array(self, elem, elem_bits: int, count: int):
        sub = self._di("DISubrange", {"count": count})
        return self._di(
            "DICompositeType",
            {
                "tag": ir.DIToken("DW_TAG_array_type"),
                "baseType": elem,
                "size": elem_bits * count,
                "elements": [sub],
            },
        )

    def pointer(self, base):
        return self._di(
            "DIDerivedType", {"tag": ir.DIToken("DW_TAG_pointer_type"), "baseType": base, "size": 64}
        )

    def struct(self, name: str | None, members: list[tuple[str, object, int, int]], size_bits: int):
        """members: (name, type, offset_bits, size_bits)."""
        elems = [
            self._di(
                "DIDerivedType",
                {
                    "tag": ir.DIToken("DW_TAG_member"),
                    "name": mname,
                    "file": self.file,
                    "baseType": mtype,
                    "size": msize,
                    "offset": moff,
                },
            )
            for mname, mtype, moff, msize in members
        ]
        ops = {
            "tag": ir.DIToken("DW_TAG_structure_type"),
            "file": self.file,
            "size": size_bits,
            "elements": elems,
        }
        if name:
            ops["name"] = name
        return self._di("DICompositeType", ops)

    def of(self, t: T.Type):
        """The DI type of an IR type's memory layout."""
        key = t
        if key not in self._types:
            self._types[key] = self._build(t)
        return self._types[key]

    def _build(self, t: T.Type):
        if isinstance(t, T.IntType):
            return self.int_type(t.bits, t.signed)
        if isinstance(t, T.StrType):
            return self.array(self.basic("char", 8, True), 8, t.length)
        if isinstance(t, T.TupleType):
            members = [
                (f"f{i}", self.of(e), off * 8, e.size() * 8)
                for i, (e, off) in enumerate(zip(t.elems, t.offsets()))
            ]
            return self.struct(None, members, t.size() * 8)
        if isinstance(t, T.StackType):
            return self.int_type(64, False)
        if isinstance(t, (T.InetType, T.BufType)):  # u64 header, then bytes (btc.ir.types)
            return self.array(self.basic("char", 8, True), 8, t.size())
        if isinstance(t, T.AggType):
            s64 = self.int_type(64, True)
            if t.kind in ("min", "max"):
                return self.struct(f"agg_{t.kind}", [("value", s64, 0, 64), ("isset", s64, 64, 64)], 128)
            if t.kind in ("avg", "stats"):
                return self.struct(f"agg_{t.kind}", [("total", s64, 0, 64), ("count", s64, 64, 64)], 128)
            return s64
        raise TypeError(f"no debug type for {t}")

    def named(self, t: T.Type, name: str, fields: list[str] | None = None):
        """`t`'s layout, a tuple as a struct called `name` with members `fields` (default
        f0, f1, ...): map keys and values, so that bpftool prints named fields."""
        if not isinstance(t, T.TupleType):
            return self.of(t)
        fields = fields if fields and len(fields) == len(t.elems) else [f"f{i}" for i in range(len(t.elems))]
        members = [
            (fields[i], self.of(e), off * 8, e.size() * 8)
            for i, (e, off) in enumerate(zip(t.elems, t.offsets()))
        ]
        return self.struct(name, members, t.size() * 8)

    def uint_array_ptr(self, n: int):
        """`int (*)[n]`: how BTF map definitions encode an integer attribute."""
        return self.pointer(self.array(self.basic("int", 32, True), 32, n))

    # ------------------------------------------------------------ globals

    def global_var(self, gv: ir.GlobalVariable, name: str, dtype) -> None:
        var = self._di(
            "DIGlobalVariable",
            {
                "name": name,
                "scope": self.file,
                "file": self.file,
                "line": 0,
                "type": dtype,
                "isLocal": False,
                "isDefinition": True,
            },
        )
        gve = self._di("DIGlobalVariableExpression", {"var": var, "expr": self._di("DIExpression", {})})
        gv.set_metadata("dbg", gve)
        self.globals.append(gve)

    def finish_unit(self) -> None:
        """Create the compile unit (its global list is filled in by `finalize`)."""
        ops = {
            "language": ir.DIToken("DW_LANG_C99"),
            "file": self.file,
            "producer": "btc",
            "isOptimized": True,
            "runtimeVersion": 0,
            "emissionKind": ir.DIToken("FullDebug"),
            # no .debug_names: its assembly labels follow pointer order (differ run to run),
            # and nothing reads it (BTF comes from the types, not the name index)
            "nameTableKind": ir.DIToken("None"),
            "globals": None,
        }
        self.unit = self._distinct("DICompileUnit", ops)
        self.m.add_named_metadata("llvm.dbg.cu", self.unit)

    def finalize(self) -> None:
        if self.globals:
            self._set(self.unit, "globals", self.m.add_metadata(list(self.globals)))
        else:
            self.unit.operands = tuple(kv for kv in self.unit.operands if kv[0] != "globals")

    # ------------------------------------------------------------ functions

    def subprogram(self, name: str, line: int, local: bool = False):
        """A DISubprogram for `int name(void *ctx)` with its named parameter. `local`: a
        static function (BTF_FUNC_STATIC; the verifier wants callbacks static)."""
        int_t = self.basic("int", 32, True)
        void_ptr = self._di("DIDerivedType", {"tag": ir.DIToken("DW_TAG_pointer_type"), "baseType": None, "size": 64})
        fty = self._di("DISubroutineType", {"types": self.m.add_metadata([int_t, void_ptr])})
        sp = self._distinct(
            "DISubprogram",
            {
                "name": name,
                "scope": self.file,
                "file": self.file,
                "line": line,
                "type": fty,
                "scopeLine": line,
                "flags": ir.DIToken("DIFlagPrototyped"),
                "spFlags": ir.DIToken("DISPFlagDefinition | DISPFlagOptimized"
                                      + (" | DISPFlagLocalToUnit" if local else "")),
                "unit": self.unit,
                "retainedNodes": None,
            },
        )
        ctx = self._distinct(
            "DILocalVariable",
            {"name": "ctx", "arg": 1, "scope": sp, "file": self.file, "line": line, "type": void_ptr},
        )
        self._set(sp, "retainedNodes", self.m.add_metadata([ctx]))
        return sp

    def location(self, scope, line: int, col: int):
        return self._di("DILocation", {"line": line, "column": col, "scope": scope})
