"""IR verifier: structural invariants every pass must keep. Tests run it between passes;
a failure is a compiler bug, reported as a BtcError naming the function and the node."""
from __future__ import annotations

from btc.diagnostics import BtcError
from btc.ir import nodes as ir
from btc.ir.consts import wrap
from btc.ir.types import AggType, IntType, StrType, TupleType, VoidType
from btc.ir.walk import iter_exprs, iter_stmts, stmt_exprs

MAP_STMTS = (ir.MapSet, ir.MapAgg, ir.MapAdd, ir.MapDelete, ir.PrintMap, ir.ClearMap, ir.ZeroMap)


def verify_program(prog: ir.Program) -> None:
    problems: list[str] = []
    maps = {m.name: m for m in prog.maps}
    if len(maps) != len(prog.maps):
        problems.append("duplicate map declarations")
    for name in prog.exit_order:
        if name not in maps or not maps[name].print_at_exit:
            problems.append(f"exit_order names {name}, which does not print at exit")
    names = [f.name for f in prog.functions]
    if len(set(names)) != len(names):
        problems.append("duplicate function names")
    for fn in prog.functions:
        problems.extend(f"{fn.name}: {p}" for p in _function(fn, prog, maps))
    if problems:
        raise BtcError("IR verification failed: " + "; ".join(problems[:10]))


def _function(fn: ir.Function, prog: ir.Program, maps: dict) -> list[str]:
    out: list[str] = []
    set_locals = {s.name for s in iter_stmts(fn.body) if isinstance(s, ir.LocalSet)}
    set_locals |= {s.var for s in iter_stmts(fn.body) if isinstance(s, ir.ForMap)}  # $kv
    exprs = list(iter_exprs(fn.filter)) if fn.filter is not None else []
    for s in iter_stmts(fn.body):
        out.extend(_stmt(s, prog, maps))
        for e in stmt_exprs(s):
            exprs.extend(iter_exprs(e))
    for e in exprs:
        out.extend(_expr(e, maps, set_locals))
    out.extend(_loops(fn.body, False))
    return out


def _stmt(s: ir.Stmt, prog: ir.Program, maps: dict) -> list[str]:
    out = []
    if isinstance(s, MAP_STMTS) and s.map not in maps:
        out.append(f"{type(s).__name__} on undeclared map {s.map}")
        return out
    if isinstance(s, ir.MapAgg) and not isinstance(maps[s.map].value, AggType):
        out.append(f"aggregation into {s.map}, which is not an aggregation map")
    if isinstance(s, (ir.MapSet, ir.MapAdd)) and isinstance(maps[s.map].value, AggType):
        out.append(f"plain store into aggregation map {s.map}")
    if isinstance(s, ir.MapSet) and s.value.type != maps[s.map].value:
        out.append(f"store of {s.value.type} into {s.map} holding {maps[s.map].value}")
    if isinstance(s, (ir.MapSet, ir.MapAgg, ir.MapAdd, ir.MapDelete)):
        out.extend(_key(s.map, s.key, maps))
    if isinstance(s, ir.Printf):
        if not 0 <= s.fmt_id < len(prog.printfs):
            out.append(f"printf id {s.fmt_id} out of range")
        elif tuple(a.type for a in s.args) != prog.printfs[s.fmt_id].arg_types:
            out.append(f"printf #{s.fmt_id} argument types differ from its declaration")
    if isinstance(s, ir.PrintValue) and (not 0 <= s.print_id < len(prog.prints)
                                         or prog.prints[s.print_id] != s.value.type):
        out.append(f"print id {s.print_id} does not match its value")
    if isinstance(s, ir.Time) and not 0 <= s.fmt_id < len(prog.time_formats):
        out.append(f"time id {s.fmt_id} out of range")
    return out


def _key(name: str, key: ir.Expr | None, maps: dict) -> list[str]:
    want = maps[name].key
    have = key.type if key is not None else None
    return [] if have == want else [f"key of type {have} for {name} keyed by {want}"]


def _expr(e: ir.Expr, maps: dict, set_locals: set[str]) -> list[str]:
    out = []
    if isinstance(e.type, VoidType):
        out.append(f"{type(e).__name__} has no type")
    if isinstance(e, ir.Const):
        if not isinstance(e.type, IntType):
            out.append(f"integer constant of type {e.type}")
        elif wrap(e.value, e.type) != e.value:
            out.append(f"constant {e.value} out of range for {e.type}")
    elif isinstance(e, ir.StrConst) and (not isinstance(e.type, StrType) or e.type.length < len(e.value) + 1):
        out.append(f"string constant too long for {e.type}")
    elif isinstance(e, ir.MapLen) and e.map not in maps:
        out.append(f"len of undeclared map {e.map}")
    elif isinstance(e, (ir.MapGet, ir.MapHasKey)):
        if e.map not in maps:
            out.append(f"read of undeclared map {e.map}")
        else:
            out.extend(_key(e.map, e.key, maps))
    elif isinstance(e, ir.LocalGet) and e.name not in set_locals:
        out.append(f"read of local ${e.name}, which is never set")
    elif isinstance(e, ir.Binary) and not (isinstance(e.lhs.type, IntType) and isinstance(e.rhs.type, IntType)):
        out.append(f"binary {e.op} on {e.lhs.type} and {e.rhs.type}")
    elif isinstance(e, ir.TupleGet) and (not isinstance(e.expr.type, TupleType)
                                         or e.expr.type.elems[e.index] != e.type):
        out.append("tuple access with a wrong type")
    return out


def _loops(stmts, inside: bool) -> list[str]:
    out = []
    for s in stmts:
        if isinstance(s, (ir.Break, ir.Continue)) and not inside:
            out.append(f"{type(s).__name__.lower()} outside a loop")
        if isinstance(s, ir.If):
            out += _loops(s.then, inside) + _loops(s.orelse, inside)
        elif isinstance(s, (ir.While, ir.Unroll, ir.ForMap)):
            out += _loops(s.body, True)
    return out
