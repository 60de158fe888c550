"""Functions that return a value: str, strncmp, has_key, nsecs(clock), kstack/ustack(...).
Names btc knows but does not implement yet are listed with `supported=False`."""
from __future__ import annotations

from btc.ir import nodes as ir
from btc.ir.builtins.base import BOTH, BPFTRACE, FuncDesc
from btc.ir.types import UINT64, ArrayType, BufType, InetType, IntType, StrType
from btc.parser import ast

DEFAULT_STRLEN = 64  # bpftrace ≤0.22's max_strlen; 0.23's 1024 would not fit the BPF stack
BTRACE_STR_CAP = 127  # btrace keeps at most 127 characters of str($N, len)


def _str(lw, call: ast.Call) -> ir.Expr | None:
    src = call.args[0]
    length = _str_len(lw, call)
    if isinstance(src, ast.Positional):
        return lw.param(src.index, StrType(length), src.span)
    if lw.dialect == "btrace":
        lw.error("str() only accepts a positional parameter ($1, $2, ...)", src.span)
        return None
    value = lw.expr(src)
    if isinstance(value.type, StrType):
        return value
    if not lw.is_int(value):
        lw.error(f"str() expects an integer or a pointer ({value.type} provided)", src.span)
        return None
    return ir.StrRead(ptr=value, length=None, user=lw.user_pointers(), type=StrType(length),
                      span=call.span)


def _str_len(lw, call: ast.Call) -> int:
    if len(call.args) < 2:
        return DEFAULT_STRLEN
    n = lw.const_arg(call.args[1], "str", "length")
    if n is None:
        return DEFAULT_STRLEN
    if lw.dialect == "btrace":
        return max(min(n, BTRACE_STR_CAP), 0) + 1
    if n < 1:
        lw.error(f"str: length must be at least 1 ({n} provided)", call.args[1].span)
        return DEFAULT_STRLEN
    return n + 1


def _strncmp(lw, call: ast.Call) -> ir.Expr | None:
    a, b = lw.expr(call.args[0]), lw.expr(call.args[1])
    n = lw.const_arg(call.args[2], "strncmp", "length")
    for v, src in ((a, call.args[0]), (b, call.args[1])):
        if not isinstance(v.type, StrType):
            lw.error(f"strncmp() expects string arguments ({v.type} provided)", src.span)
            return None
    # strncmp returns 0 when equal, like C
    return ir.StrCmp(op="!=", lhs=a, rhs=b, n=n, type=lw.bool_t, span=call.span)


def _has_key(lw, call: ast.Call) -> ir.Expr | None:
    m = call.args[0]
    if not (isinstance(m, ast.MapRef) and m.keys is None):
        lw.error("has_key() expects a map as its first argument", m.span)
        return None
    k = call.args[1]
    keys = k.elems if isinstance(k, ast.Tuple) else (k,)
    name, key = lw.map_key(ast.MapRef(name=m.name, keys=keys, span=m.span.join(k.span)))
    return ir.MapHasKey(map=name, key=key, type=lw.bool_t, span=call.span)


def _nsecs(lw, call: ast.Call) -> ir.Expr | None:
    clock = "boot"
    if call.args:
        a = call.args[0]
        clock = getattr(a, "name", None) or getattr(a, "value", None)
        if clock not in ("monotonic", "boot", "tai", "sw_tai"):
            lw.error(f"Invalid timestamp mode: {clock}", a.span)
            return None
    return ir.BuiltinRead(name="nsecs", clock=clock, type=UINT64, span=call.span)


def _strcontains(lw, call: ast.Call) -> ir.Expr | None:
    hay, needle = lw.expr(call.args[0]), lw.expr(call.args[1])
    for v, src in ((hay, call.args[0]), (needle, call.args[1])):
        if not isinstance(v.type, StrType):
            lw.error(f"strcontains() expects string arguments ({v.type} provided)", src.span)
            return None
    return ir.Call(name="strcontains", args=(hay, needle), type=lw.bool_t, span=call.span)


BUF_MAX = 64  # bytes kept by buf(); bpftrace's default is larger, the BPF stack is not


def _buf(lw, call: ast.Call) -> ir.Expr | None:
    src = lw.expr(call.args[0])
    if isinstance(src.type, StrType):  # a string value: its bytes (up to the NUL's slot)
        n = src.type.size()
        if len(call.args) > 1:
            n = min(n, lw.const_arg(call.args[1], "buf", "length") or n)
        return ir.Call(name="buf", args=(src,), type=BufType(length=min(n, BUF_MAX)), span=call.span)
    if not lw.is_int(src):
        lw.error(f"buf() expects an integer, pointer or string ({src.type} provided)", call.args[0].span)
        return None
    if len(call.args) < 2:
        lw.error("buf() needs a length for a pointer", call.span)
        return None
    n = lw.const_arg(call.args[1], "buf", "length")
    if n is None:
        return None
    if not 1 <= n <= BUF_MAX:
        lw.error(f"buf: length must be 1..{BUF_MAX} in btc ({n} provided)", call.args[1].span)
        return None
    user = ir.Const(value=1 if lw.user_pointers() else 0, type=UINT64, span=call.span)
    return ir.Call(name="buf", args=(src, user), type=BufType(length=n), span=call.span)


def _len(lw, call: ast.Call) -> ir.Expr | None:
    from btc.ir.env import SCALAR
    from btc.ir.lower import for_kv_type

    m = call.args[0]
    if not (isinstance(m, ast.MapRef) and m.keys is None):
        lw.error("len() expects a map as its argument", m.span)
        return None
    name = lw.map_name(m)
    lw.note_map_use(name, m.span)
    # a keyless map counts too (0 or 1 entries, as bpftrace 0.23's len(@))
    if lw.env.key(name) != SCALAR and for_kv_type(lw, name, m.span) is None:
        return None
    return ir.MapLen(map=name, type=UINT64, span=call.span)


def _bswap(lw, call: ast.Call) -> ir.Expr | None:
    """bswap(n): n's bytes reversed, as an unsigned integer of n's width (bpftrace 0.23)."""
    v = lw.expr(call.args[0])
    if not lw.is_int(v):
        lw.error(f"bswap() only supports integer arguments ({v.type} provided)", call.args[0].span)
        return None
    return ir.Call(name="bswap", args=(v,), type=IntType(v.type.bits, False), span=call.span)


AF_INET, AF_INET6 = 2, 10  # include/linux/socket.h


def _ntop(lw, call: ast.Call) -> ir.Expr | None:
    args = [lw.expr(a) for a in call.args]
    if len(args) == 1:
        addr = args[0]
        # bpftrace: a 4-byte array (pton of an IPv4 address) or an integer is IPv4
        v6 = isinstance(addr.type, StrType) and addr.type.size() != 4
        af = ir.Const(value=AF_INET6 if v6 else AF_INET, type=UINT64, span=call.span)
    else:
        af, addr = args
        if not lw.is_int(af):
            lw.error(f"ntop() expects an integer address family ({af.type} provided)", call.args[0].span)
            return None
    if not (lw.is_int(addr) or isinstance(addr.type, StrType)):
        lw.error(f"ntop() expects an integer or a 16-byte array ({addr.type} provided)",
                 call.args[-1].span)
        return None
    return ir.Call(name="ntop", args=(af, addr), type=InetType(), span=call.span)


def _pton(lw, call: ast.Call) -> ir.Expr | None:
    """pton("1.2.3.4" | "::1"): the address bytes, u8[4] or u8[16], known at compile time."""
    import socket

    a = call.args[0]
    if not isinstance(a, ast.Str):
        lw.error("pton() expects a string literal", a.span)
        return None
    family = socket.AF_INET6 if ":" in a.value else socket.AF_INET
    try:
        raw = socket.inet_pton(family, a.value)
    except OSError:
        lw.error(f"pton() expects an IPv4 or IPv6 address ('{a.value}' is neither)", a.span)
        return None
    return ir.StrConst(value=raw, type=ArrayType(len(raw), IntType(8, False)), span=call.span)


_UNSUPPORTED = ("macaddr", "cgroup_path", "path",
                "reg", "kptr", "uptr", "skboutput", "percpu_kaddr")

FUNCTIONS: tuple[FuncDesc, ...] = (
    FuncDesc("str", "value", BOTH, 1, 2, _str),
    FuncDesc("strncmp", "value", BPFTRACE, 3, 3, _strncmp),
    FuncDesc("has_key", "value", BPFTRACE, 2, 2, _has_key),
    FuncDesc("strcontains", "value", BPFTRACE, 2, 2, _strcontains),
    FuncDesc("buf", "value", BPFTRACE, 1, 2, _buf),
    FuncDesc("ntop", "value", BPFTRACE, 1, 2, _ntop),
    FuncDesc("pton", "value", BPFTRACE, 1, 1, _pton),
    FuncDesc("len", "value", BPFTRACE, 1, 1, _len),
    FuncDesc("bswap", "value", BPFTRACE, 1, 1, _bswap),
    FuncDesc("nsecs", "value", BPFTRACE, 0, 1, _nsecs),
) + tuple(FuncDesc(n, "value", BPFTRACE, 0, 8, None, supported=False) for n in _UNSUPPORTED)

__all__ = ["FUNCTIONS", "DEFAULT_STRLEN"]
