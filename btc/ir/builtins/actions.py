"""Functions that are statements: printf, print, time, exit, clear, zero, delete.

Each becomes one explicit IR statement; the asynchronous ones are ring-buffer events the
runtime handles (docs/design.md §3, "Events")."""
from __future__ import annotations

from btc.ir import nodes as ir
from btc.ir import typecheck
from btc.ir.builtins.base import BOTH, FuncDesc
from btc.parser import ast

DEFAULT_TIME_FMT = "%H:%M:%S\n"


def _printf(lw, call: ast.Call) -> ir.Stmt | None:
    fmt_ast = call.args[0]
    if not isinstance(fmt_ast, ast.Str):
        lw.error("printf: the first argument must be a string literal", fmt_ast.span)
        return None
    args = tuple(lw.expr(a) for a in call.args[1:])
    for msg, span in typecheck.check_printf(fmt_ast.value, args, lw.dialect, call.span):
        lw.error(msg, span)
    for msg, span in typecheck.printf_warnings(fmt_ast.value, lw.dialect, fmt_ast.span):
        lw.warn(msg, span)
    fid = lw.add_printf(fmt_ast.value, tuple(a.type for a in args), call.span)
    return ir.Printf(fmt_id=fid, args=args, span=call.span)


def _print(lw, call: ast.Call) -> ir.Stmt | None:
    target = call.args[0]
    if isinstance(target, ast.MapRef) and target.keys is None:
        top = lw.const_arg(call.args[1], "print", "top") if len(call.args) > 1 else 0
        div = lw.const_arg(call.args[2], "print", "div") if len(call.args) > 2 else 1
        if len(call.args) > 2 and lw.dialect == "btrace":
            lw.error("too many arguments", call.args[2].span)
        name = lw.map_name(target)
        lw.note_map_use(name, target.span)
        return ir.PrintMap(map=name, top=top or 0, div=div or 1, span=call.span)
    if len(call.args) > 1:
        lw.error("print() takes one argument for a non-map value", call.args[1].span)
    value = lw.expr(target)
    return ir.PrintValue(print_id=lw.add_print(value.type), value=value, span=call.span)


def _time(lw, call: ast.Call) -> ir.Stmt | None:
    if not call.args:
        if lw.dialect == "btrace":
            lw.error("time() requires a format string", call.span)
        return ir.Time(fmt_id=lw.add_time(DEFAULT_TIME_FMT), span=call.span)
    fmt = call.args[0]
    if not isinstance(fmt, ast.Str):
        lw.error("time: the format must be a string literal", fmt.span)
        return None
    return ir.Time(fmt_id=lw.add_time(fmt.value), span=call.span)


def _exit(lw, call: ast.Call) -> ir.Stmt:
    code = lw.int_expr(call.args[0], "exit") if call.args else None
    return ir.Exit(code=code, span=call.span)


def _map_wide(kind: str):
    def lower(lw, call: ast.Call) -> ir.Stmt | None:
        target = call.args[0]
        if not (isinstance(target, ast.MapRef) and target.keys is None):
            lw.error(_not_a_map(kind, target, lw.dialect), target.span)
            return None
        name = lw.map_name(target)
        lw.note_map_use(name, target.span)
        node = ir.ClearMap if kind == "clear" else ir.ZeroMap
        return node(map=name, span=call.span)

    return lower


def _not_a_map(kind: str, target: ast.Expr, dialect: str) -> str:
    if dialect == "btrace":
        # btrace's runtime wording; the name always gets "@", even for "$x"
        name = getattr(target, "name", "")
        return f"invalid variable type for {kind}(@{name})"
    return f"{kind}() expects a map to be provided"


def _delete(lw, call: ast.Call) -> ir.Stmt | None:
    target = call.args[0]
    if not isinstance(target, ast.MapRef):
        lw.error("delete() expects a map element as its first argument", target.span)
        return None
    if len(call.args) == 2:  # delete(@m, k) / delete(@m, (k1, k2))
        if target.keys is not None:
            lw.error("delete(@m, key) expects a bare map as its first argument", target.span)
            return None
        k = call.args[1]
        keys = k.elems if isinstance(k, ast.Tuple) else (k,)
        target = ast.MapRef(name=target.name, keys=keys, span=target.span.join(k.span))
    if target.keys is None and lw.map_is_keyed(lw.map_name(target)):
        lw.error("delete() expects a map element, e.g. delete(@m[key])", target.span)
        return None
    name, key = lw.map_key(target)
    return ir.MapDelete(map=name, key=key, span=call.span)


FUNCTIONS: tuple[FuncDesc, ...] = (
    FuncDesc("printf", "action", BOTH, 1, 1 + 64, _printf),
    FuncDesc("print", "action", BOTH, 1, 3, _print),
    FuncDesc("time", "action", BOTH, 0, 1, _time),
    FuncDesc("exit", "action", BOTH, 0, 1, _exit),
    FuncDesc("clear", "action", BOTH, 1, 1, _map_wide("clear")),
    FuncDesc("zero", "action", BOTH, 1, 1, _map_wide("zero")),
    FuncDesc("delete", "action", BOTH, 1, 2, _delete),
    FuncDesc("system", "action", ("bpftrace",), 1, 65, None, supported=False),
    FuncDesc("cat", "action", ("bpftrace",), 1, 65, None, supported=False),
    FuncDesc("join", "action", ("bpftrace",), 1, 2, None, supported=False),
    FuncDesc("signal", "action", ("bpftrace",), 1, 1, None, supported=False),
    FuncDesc("override", "action", ("bpftrace",), 1, 1, None, supported=False),
    FuncDesc("debugf", "action", ("bpftrace",), 1, 65, None, supported=False),
    FuncDesc("unwatch", "action", ("bpftrace",), 1, 1, None, supported=False),
)
