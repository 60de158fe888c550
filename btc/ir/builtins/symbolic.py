"""Functions whose values user space prints as symbols (ksym, usym, kstack/ustack with a
mode), those printed through a user-space lookup (strftime, strerror), and those that turn
symbol names into addresses (kaddr, uaddr)."""
from __future__ import annotations

from btc.ir import nodes as ir
from btc.ir.builtins.base import BPFTRACE, FuncDesc
from btc.ir.types import (INT64, UINT32, UINT64, ErrnoType, KSymType, StackType, StrType, TimestampType,
                          USymType)
from btc.parser import ast

STACK_MODES = ("bpftrace", "perf", "raw")
MAX_STACK_LIMIT = 127  # frames a stack map entry holds


def _int_arg(lw, call: ast.Call, fname: str) -> ir.Expr | None:
    value = lw.expr(call.args[0])
    if not lw.is_int(value):
        lw.error(f"{fname}() expects an integer address ({value.type} provided)", call.args[0].span)
        return None
    return value


def _ksym(lw, call: ast.Call) -> ir.Expr | None:
    value = _int_arg(lw, call, "ksym")
    if value is None:
        return None
    return ir.Cast(expr=lw.convert(value, UINT64), type=KSymType(), span=call.span)


def _usym(lw, call: ast.Call) -> ir.Expr | None:
    value = _int_arg(lw, call, "usym")
    if value is None:
        return None
    # the pid at probe time names the address space user space resolves the address in
    pid = ir.Cast(expr=ir.BuiltinRead(name="pid", type=UINT32, span=call.span), type=UINT64,
                  span=call.span)
    return ir.TupleNew(elems=(lw.convert(value, UINT64), pid), type=USymType(), span=call.span)


def _strftime(lw, call: ast.Call) -> ir.Expr | None:
    """The nanoseconds travel as a u64; user space formats them (as bpftrace does), so the
    format is part of the type."""
    fmt = call.args[0]
    if not isinstance(fmt, ast.Str):
        lw.error("strftime() expects a format string literal as its first argument", fmt.span)
        return None
    value = lw.expr(call.args[1])
    if not lw.is_int(value):
        lw.error(f"strftime() expects an integer number of nanoseconds ({value.type} provided)",
                 call.args[1].span)
        return None
    return ir.Cast(expr=lw.convert(value, UINT64), type=TimestampType(fmt=fmt.value),
                   span=call.span)


def _strerror(lw, call: ast.Call) -> ir.Expr | None:
    value = lw.expr(call.args[0])
    if not lw.is_int(value):
        lw.error(f"strerror() expects an integer errno ({value.type} provided)", call.args[0].span)
        return None
    return ir.Cast(expr=lw.convert(value, INT64), type=ErrnoType(), span=call.span)


def _symbol_name(lw, call: ast.Call, fname: str) -> str | None:
    a = call.args[0]
    if not isinstance(a, ast.Str) or not a.value:
        lw.error(f"{fname}() expects a symbol name as a string literal", a.span)
        return None
    return a.value


def _kaddr(lw, call: ast.Call) -> ir.Expr | None:
    name = _symbol_name(lw, call, "kaddr")
    if name is None:
        return None
    return ir.LoadTimeValue(role="kaddr", name=name, type=UINT64, span=call.span)


def _cgroupid(lw, call: ast.Call) -> ir.Expr | None:
    """The id is looked up where the object loads (cgroups come and go; bpftrace resolves it
    when compiling), so a filter on it is still a constant for the verifier."""
    a = call.args[0]
    if not isinstance(a, ast.Str) or not a.value:
        lw.error("cgroupid() expects a cgroup path as a string literal", a.span)
        return None
    return ir.LoadTimeValue(role="cgroupid", name=a.value, type=UINT64, span=call.span)


def _uaddr(lw, call: ast.Call) -> ir.Expr | None:
    name = _symbol_name(lw, call, "uaddr")
    if name is None:
        return None
    spec = lw.facts.spec if lw.facts else None
    if spec is None or spec.provider not in ("uprobe", "uretprobe") or not spec.path:
        lw.error("uaddr() can only be used in uprobe and uretprobe probes (it resolves the "
                 "symbol in the probe's binary)", call.span)
        return None
    from btc.probes.uprobe import elf_symbols

    addr = elf_symbols(spec.path)[0].get(name)
    if addr is None:
        lw.error(f"Could not resolve symbol: {spec.path}:{name}", call.args[0].span)
        return None
    return ir.Const(value=addr, type=UINT64, span=call.span)


FUNC_PROVIDERS = ("uprobe", "uretprobe", "kprobe", "kretprobe", "fentry", "fexit")


def func_name(lw, e: ast.Builtin) -> ir.Expr:
    """`func`: the traced function's name, a constant since every match gets its own
    program (bpftrace reads the instruction pointer instead)."""
    spec = lw.facts.spec if lw.facts else None
    if spec is None or spec.provider not in FUNC_PROVIDERS or not spec.name:
        where = spec.provider if spec is not None else "this probe"
        lw.error(f"func is only available in uprobe, uretprobe, kprobe, kretprobe, fentry and "
                 f"fexit probes, not in {where}", e.span)
        text = b""
    else:
        text = spec.name.encode()
    return ir.StrConst(value=text, type=StrType(len(text) + 1), span=e.span)


def _stack(kind: str):
    def lower(lw, call: ast.Call) -> ir.Expr | None:
        mode, limit = "", 0
        for a in call.args:
            if isinstance(a, ast.Int):
                if not 0 <= a.value <= MAX_STACK_LIMIT:
                    lw.error(f"{call.name}: the frame limit must be between 0 and "
                             f"{MAX_STACK_LIMIT} ({a.value} provided)", a.span)
                    return None
                limit = a.value
                continue
            name = getattr(a, "name", None)
            if name not in STACK_MODES:
                lw.error(f"{call.name}: expected a stack mode ({', '.join(STACK_MODES)}) or a "
                         f"frame limit", a.span)
                return None
            mode = name
        t = StackType(kind, mode, limit)
        return ir.BuiltinRead(name=f"{kind[0]}stack", type=t, span=call.span)

    return lower


FUNCTIONS: tuple[FuncDesc, ...] = (
    FuncDesc("ksym", "value", BPFTRACE, 1, 1, _ksym),
    FuncDesc("usym", "value", BPFTRACE, 1, 1, _usym),
    FuncDesc("kaddr", "value", BPFTRACE, 1, 1, _kaddr),
    FuncDesc("cgroupid", "value", BPFTRACE, 1, 1, _cgroupid),
    FuncDesc("strftime", "value", BPFTRACE, 2, 2, _strftime),
    FuncDesc("strerror", "value", BPFTRACE, 1, 1, _strerror),
    FuncDesc("uaddr", "value", BPFTRACE, 1, 1, _uaddr),
    FuncDesc("kstack", "value", BPFTRACE, 0, 2, _stack("kernel")),
    FuncDesc("ustack", "value", BPFTRACE, 0, 2, _stack("user")),
)

__all__ = ["FUNCTIONS", "STACK_MODES", "func_name"]
