"""Text form of the typed IR (`btc compile --emit ir`): stable, readable, every type shown.

Expressions print as `(op args):type` or `leaf:type`; statements one per line, nested
blocks indented by two spaces."""
from __future__ import annotations

from btc.ir import nodes as ir
from btc.ir.types import Type

SIGNED_OPS = ("/", "%", ">>", "<", "<=", ">", ">=")


def format_program(prog: ir.Program) -> str:
    out = [f"program dialect={prog.dialect} source={prog.source_name or '-'}"]
    for m in prog.maps:
        out.append(_map(m))
    for i, d in enumerate(prog.printfs):
        out.append(f"printf #{i} {_quote(d.fmt)} ({', '.join(str(t) for t in d.arg_types)})")
    for i, t in enumerate(prog.prints):
        out.append(f"print #{i} {t}")
    for i, f in enumerate(prog.time_formats):
        out.append(f"time #{i} {_quote(f)}")
    for index, t in prog.params:
        out.append(f"param ${index}: {t}")
    out.append("exit_order: " + (", ".join(prog.exit_order) or "-"))
    for fn in prog.functions:
        out.append("")
        out.extend(format_function(fn))
    return "\n".join(out) + "\n"


def _map(m: ir.MapDecl) -> str:
    flags = [f for f, on in (("print_at_exit", m.print_at_exit), ("hidden", m.hidden)) if on]
    key = str(m.key) if m.key is not None else "none"
    tail = (" " + " ".join(flags)) if flags else ""
    return f"map {m.name}: key {key} -> value {m.value} max_entries={m.max_entries}{tail}"


def format_function(fn: ir.Function) -> list[str]:
    p = fn.probe
    out = [f"fn {fn.name} rule={fn.rule_index} probe={p.text!r} display={p.display!r} "
           f"section={p.section} prog_type={p.prog_type}"]
    if fn.filter is not None:
        out.append("  filter " + format_expr(fn.filter))
    out.extend(format_block(fn.body, 1))
    if not fn.body:
        out.append("  (empty)")
    return out


def format_block(stmts, depth: int) -> list[str]:
    out: list[str] = []
    for s in stmts:
        out.extend(format_stmt(s, depth))
    return out


def format_stmt(s: ir.Stmt, depth: int) -> list[str]:
    pad = "  " * depth
    if isinstance(s, ir.If):
        lines = [f"{pad}if {format_expr(s.cond)}"]
        lines += format_block(s.then, depth + 1) or [pad + "  (empty)"]
        if s.orelse:
            lines.append(f"{pad}else")
            lines += format_block(s.orelse, depth + 1)
        return lines
    if isinstance(s, ir.While):
        return [f"{pad}while {format_expr(s.cond)}"] + format_block(s.body, depth + 1)
    if isinstance(s, ir.Unroll):
        return [f"{pad}unroll {s.count}"] + format_block(s.body, depth + 1)
    if isinstance(s, ir.ForMap):
        shared = f" sharing {', '.join('$' + n for n in s.captures)}" if s.captures else ""
        head = f"{pad}for ${s.var}:{s.kv_type} in {s.map}{shared}"
        return [head] + format_block(s.body, depth + 1)
    return [pad + _simple_stmt(s)]


def _simple_stmt(s: ir.Stmt) -> str:
    if isinstance(s, ir.LocalSet):
        return f"${s.name} = {format_expr(s.value)}"
    if isinstance(s, ir.MapSet):
        return f"{_target(s.map, s.key)} = {format_expr(s.value)}"
    if isinstance(s, ir.MapAgg):
        value = format_expr(s.value) if s.value is not None else "-"
        return f"{_target(s.map, s.key)} <- agg {value}"
    if isinstance(s, ir.MapAdd):
        return f"{_target(s.map, s.key)} += {format_expr(s.delta)} (atomic)"
    if isinstance(s, ir.MapDelete):
        return f"delete {_target(s.map, s.key)}"
    if isinstance(s, ir.Printf):
        return f"{getattr(s, 'action', 'printf')} #{s.fmt_id}" + _args(s.args)
    if isinstance(s, ir.PrintValue):
        return f"print #{s.print_id} {format_expr(s.value)}"
    if isinstance(s, ir.PrintMap):
        top = format_expr(s.top_value) if s.top_value is not None else s.top
        return f"print_map {s.map} top={top} div={s.div}"
    if isinstance(s, ir.ClearMap):
        return f"clear {s.map}"
    if isinstance(s, ir.ZeroMap):
        return f"zero {s.map}"
    if isinstance(s, ir.Time):
        return f"time #{s.fmt_id}"
    if isinstance(s, ir.Exit):
        return "exit" + (f" {format_expr(s.code)}" if s.code is not None else "")
    if isinstance(s, ir.ExprStmt):
        return "eval " + format_expr(s.expr)
    return type(s).__name__.lower()  # break, continue, return


def _target(name: str, key: ir.Expr | None) -> str:
    return name if key is None else f"{name}[{format_expr(key)}]"


def _args(args) -> str:
    return "" if not args else " " + ", ".join(format_expr(a) for a in args)


def format_expr(e: ir.Expr) -> str:
    return f"{_expr_body(e)}:{_t(e.type)}"


def _t(t: Type) -> str:
    return str(t)


def _expr_body(e: ir.Expr) -> str:
    if isinstance(e, ir.Const):
        return str(e.value)
    if isinstance(e, ir.StrConst):
        return _quote(e.value.decode("utf-8", "backslashreplace"))
    if isinstance(e, ir.BuiltinRead):
        return e.name + (f"@{e.clock}" if e.clock else "")
    if isinstance(e, ir.CtxLoad):
        where = f"ctx+{e.offset}" + (f"->+{e.deref_offset}" if e.deref_offset is not None else "")
        where += "(user)" if e.deref_user else ""
        return f"load({where})"
    if isinstance(e, ir.CtxDataLoc):
        return f"data_loc(ctx+{e.offset})"
    if isinstance(e, ir.LocalGet):
        return f"${e.name}"
    if isinstance(e, ir.MapGet):
        flag = " insert_missing" if e.insert_missing else ""
        return f"(get {_target(e.map, e.key)}{flag})"
    if isinstance(e, ir.MapHasKey):
        return f"(has_key {_target(e.map, e.key)})"
    if isinstance(e, ir.MapLen):
        return f"(len {e.map})"
    if isinstance(e, ir.Binary):
        op = e.op + (("s" if e.signed else "u") if e.op in SIGNED_OPS else "")
        return f"({op} {format_expr(e.lhs)} {format_expr(e.rhs)})"
    if isinstance(e, ir.Logical):
        op = e.op if e.short_circuit else e.op + "all"
        return f"({op} {format_expr(e.lhs)} {format_expr(e.rhs)})"
    if isinstance(e, ir.Unary):
        return f"({e.op} {format_expr(e.operand)})"
    if isinstance(e, ir.Ternary):
        return f"(? {format_expr(e.cond)} {format_expr(e.then)} {format_expr(e.orelse)})"
    if isinstance(e, ir.Cast):
        return f"(cast {format_expr(e.expr)})"
    if isinstance(e, ir.StrCmp):
        n = f" n={e.n}" if e.n is not None else ""
        return f"(str{e.op}{n} {format_expr(e.lhs)} {format_expr(e.rhs)})"
    if isinstance(e, ir.TupleNew):
        return "(tuple " + " ".join(format_expr(x) for x in e.elems) + ")"
    if isinstance(e, ir.TupleGet):
        return f"(.{e.index} {format_expr(e.expr)})"
    if isinstance(e, ir.Param):
        return f"${e.index}"
    if isinstance(e, ir.ParamCount):
        return "$#"
    if isinstance(e, ir.StrRead):
        n = f" {format_expr(e.length)}" if e.length is not None else ""
        return f"(str_read{'_user' if e.user else '_kernel'} {format_expr(e.ptr)}{n})"
    if isinstance(e, ir.Call):
        return f"(call {e.name}{_args(e.args)})"
    return type(e).__name__


def _quote(s: str) -> str:
    out = s.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n").replace("\t", "\\t")
    return f'"{out}"'
