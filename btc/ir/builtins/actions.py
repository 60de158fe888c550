"""Functions that are statements: printf, print, time, exit, clear, zero, delete.

Each becomes one explicit IR statement; the asynchronous ones are ring-buffer events the
runtime handles (docs/design.md §3, "Events")."""
from __future__ import annotations

from btc.diagnostics import Span
from btc.ir import nodes as ir
from btc.ir import typecheck
from btc.ir.builtins.base import BOTH, FuncDesc
from btc.ir.types import UINT64, StrType
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


def _formatted(action: str):
    """system(fmt, ...) and cat(fmt, ...): a printf-shaped event that user space acts on."""

    def lower(lw, call: ast.Call) -> ir.Stmt | None:
        got = _printf(lw, call)
        if got is None:
            return None
        return ir.Printf(fmt_id=got.fmt_id, args=got.args, action=action, span=call.span)

    return lower


def _join(lw, call: ast.Call) -> ir.Stmt | None:
    """join(argv[, sep]): a NULL-terminated char ** read in BPF (btc.meta.JOIN_ARGS strings of
    at most JOIN_LEN - 1 bytes each), printed joined by `sep` (default " ") and a newline."""
    ptr = lw.expr(call.args[0])
    if not lw.is_int(ptr):
        lw.error(f"join() expects an integer or a pointer ({ptr.type} provided)", call.args[0].span)
        return None
    sep = b" "
    if len(call.args) > 1:
        a = call.args[1]
        if not isinstance(a, ast.Str):
            lw.error("join: the separator must be a string literal", a.span)
            return None
        sep = a.value.encode("utf-8", "surrogateescape") if isinstance(a.value, str) else a.value
    user = ir.Const(value=1 if lw.user_pointers() else 0, type=UINT64, span=call.span)
    sep_c = ir.StrConst(value=sep, type=StrType(len(sep) + 1), span=call.span)
    return ir.ExprStmt(expr=ir.Call(name="join", args=(ptr, sep_c, user), type=UINT64,
                                    span=call.span), span=call.span)


def _signal(lw, call: ast.Call) -> ir.Stmt | None:
    """signal(9), signal("KILL"), signal("SIGKILL") or signal(SIGKILL): bpf_send_signal."""
    import signal as _sig

    a = call.args[0]
    name = getattr(a, "value", None) if isinstance(a, ast.Str) else getattr(a, "name", None)
    if name is not None:
        key = name if name.startswith("SIG") else "SIG" + name
        try:
            num = int(_sig.Signals[key])
        except KeyError:
            lw.error(f"Invalid string for signal: {name}", a.span)
            return None
        value: ir.Expr = ir.Const(value=num, type=UINT64, span=a.span)
    else:
        value = lw.int_expr(a, "signal")
        if isinstance(value, ir.Const) and not 1 <= value.value <= 64:
            lw.error(f"sig number should be in [1, 64] ({value.value} provided)", a.span)
            return None
    call_ir = ir.Call(name="signal", args=(value,), type=UINT64, span=call.span)
    return ir.ExprStmt(expr=call_ir, span=call.span)


def _print(lw, call: ast.Call) -> ir.Stmt | None:
    target = call.args[0]
    if isinstance(target, ast.MapRef) and target.keys is None:
        if len(call.args) > 1 and lw.dialect == "btrace" and lw.fold_int(call.args[1]) is None:
            return _print_top_at_run_time(lw, call)
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


def _print_top_at_run_time(lw, call: ast.Call) -> ir.Stmt | None:
    """btrace `print(@m, @n)`: btrace evaluates the top count per event (btrace.c stmt_print)."""
    if len(call.args) > 2:
        lw.error("too many arguments", call.args[2].span)
        return None
    name = lw.map_name(call.args[0])
    lw.note_map_use(name, call.args[0].span)
    top = lw.int_expr(call.args[1], "print")
    return ir.PrintMap(map=name, top_value=top, span=call.span)


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
            if lw.dialect == "btrace" and isinstance(target, _BT_NOT_A_VARIABLE):
                # btrace's grammar takes only a variable here: a literal or builtin is a
                # syntax error on its last character
                lw.error("syntax error", _last_char(target.span))
            else:
                lw.error(_not_a_map(kind, target, lw.dialect), target.span)
            return None
        name = lw.map_name(target)
        lw.note_map_use(name, target.span)
        node = ir.ClearMap if kind == "clear" else ir.ZeroMap
        return node(map=name, span=call.span)

    return lower


_BT_NOT_A_VARIABLE = (ast.Int, ast.Str, ast.Builtin, ast.Positional)


def _last_char(span: Span) -> Span:
    return Span(span.file, span.end_line, max(span.end_col - 1, 1), span.end_line, span.end_col)


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
    FuncDesc("system", "action", ("bpftrace",), 1, 65, _formatted("system")),
    FuncDesc("cat", "action", ("bpftrace",), 1, 65, _formatted("cat")),
    FuncDesc("join", "action", ("bpftrace",), 1, 2, _join),
    FuncDesc("signal", "action", ("bpftrace",), 1, 1, _signal),
    FuncDesc("override", "action", ("bpftrace",), 1, 1, None, supported=False),
    FuncDesc("debugf", "action", ("bpftrace",), 1, 65, None, supported=False),
    FuncDesc("unwatch", "action", ("bpftrace",), 1, 1, None, supported=False),
)
