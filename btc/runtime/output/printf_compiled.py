"""printf events formatted by a function built once per PrintfDesc (the per-event path).

`compile_printf` parses the format and plans the argument decoding when the run starts, so
an event costs one struct unpack and one bytes join. Formats or arguments outside the
common cases (symbolic values, tuples, btrace's number re-parsing corner cases, too few
arguments) keep the general formatter, so output is the same text in every case.
"""
from __future__ import annotations

import struct
from collections.abc import Callable  # not typing: ~6 ms of start-up

from . import cfmt
from .printf import format_printf
from .printf_bpftrace import FORMAT_RE, _BITS, _format_int, _spec
from .symbolic import SymbolText

# (buffer, offset) -> (stdout text, warnings); buffer holds the event after `offset`
PrintfFn = Callable[[object, int], "tuple[str, list[str]]"]
_INT_CODES = {(1, False): "B", (2, False): "H", (4, False): "I", (8, False): "Q",
              (1, True): "b", (2, True): "h", (4, True): "i", (8, True): "q"}
_NO_WARNINGS: list[str] = []


def _layout_and_plan(desc: dict, dialect: str) -> tuple[struct.Struct | None, Plan | None]:
    fields = (desc.get("args") or {}).get("fields") or []
    layout = _struct_of(desc.get("args"), fields)
    if layout is None:
        return None, None
    if dialect == "bpftrace":
        return layout, _bpftrace_plan(desc["fmt"], fields)
    return layout, _btrace_plan(desc["fmt"], fields)


def compile_printf(desc: dict, dialect: str, sym: SymbolText | None = None) -> PrintfFn:
    """One formatter for every event of this printf (same text as format_printf)."""
    layout, plan = _layout_and_plan(desc, dialect)

    def general(buf, off: int) -> tuple[str, list[str]]:
        return format_printf(desc, bytes(buf[off:]), dialect, sym=sym)

    if plan is None:
        return general
    return _fast(layout, plan, general)


def _struct_of(args_td: dict | None, fields: list) -> struct.Struct | None:
    """A struct.Struct decoding the argument tuple (ints and strings only), else None."""
    codes, pos = ["<"], 0
    for f in fields:
        t, off = f["t"], f["off"]
        if off < pos:
            return None
        codes.append(f"{off - pos}x" if off > pos else "")
        if t["k"] == "int" and (t["size"], bool(t["signed"])) in _INT_CODES:
            codes.append(_INT_CODES[(t["size"], bool(t["signed"]))])
        elif t["k"] == "str":
            codes.append(f"{t['size']}s")
        else:
            return None
        pos = off + t["size"]
    return struct.Struct("".join(codes))


# A plan is a list of literal bytes and (field index, converter) pairs; a converter turns the
# decoded value into bytes, or returns None when this event needs the general formatter.
Plan = list


def _fast(layout: struct.Struct, plan: Plan, general) -> PrintfFn:
    """Generate the formatter's source (one unpack, one bytes %, no per-argument calls for
    plain %d/%s), as namedtuple does: at ~100k events/s each call layer shows."""
    env = {"unpack": layout.unpack_from, "general": general, "NO_WARNINGS": _NO_WARNINGS}
    names = [f"v{i}" for i in range(len(layout.unpack_from(bytes(layout.size))))]
    pieces, checks = _pieces(plan, names, env)
    unpacked = (", ".join(names) + ",") if names else "_"
    src = (f"def fn(buf, off):\n"
           f"    if len(buf) - off < {layout.size}:\n        return general(buf, off)\n"
           f"    {unpacked} = unpack(buf, off)\n" + "".join(checks) +
           f"    return (TEMPLATE % ({', '.join(pieces)}{',' if pieces else ''}))"
           f".decode('utf-8', 'surrogateescape'), NO_WARNINGS\n")
    exec(src, env)
    return env["fn"]


# (records, length word, kind | id << 32) -> the bytes of each leading record that matches
BatchFn = Callable[[memoryview, int, int], "list[bytes]"]


def compile_printf_batch(desc: dict, dialect: str, stride: int) -> BatchFn | None:
    """A formatter for a run of this printf's ring-buffer records, `stride` bytes apart
    (8-byte ring-buffer header, 8-byte event header, arguments). Why: decoding a run with one
    struct.iter_unpack and a loop without calls costs ~1 us per event against ~6 us through
    the per-record callback. None when some event could need the general formatter."""
    layout, plan = _layout_and_plan(desc, dialect)
    if plan is None or 16 + layout.size > stride:
        return None
    env: dict = {}
    names = [f"v{i}" for i in range(len(layout.unpack_from(bytes(layout.size))))]
    pieces, checks = _pieces(plan, names, env)
    if checks:
        return None
    rec = struct.Struct("<I4xQ" + layout.format.lstrip("<@=") + f"{stride - 16 - layout.size}x")
    env["iter_unpack"] = rec.iter_unpack
    src = (f"def batch(view, length, kind_id):\n"
           f"    out = []\n    add = out.append\n"
           f"    for ln, kid, {', '.join(names + [''])} in iter_unpack(view):\n"
           f"        if ln != length or kid != kind_id:\n            break\n"
           f"        add(TEMPLATE % ({', '.join(pieces)}{',' if pieces else ''}))\n"
           f"    return out\n")
    exec(src, env)
    return env["batch"]


def _pieces(plan: Plan, names: list[str], env: dict) -> tuple[list[str], list[str]]:
    """The generated code's % arguments and converter calls; sets env["TEMPLATE"]."""
    template, pieces, checks = [], [], []
    for part in plan:
        if isinstance(part, bytes):
            template.append(part.replace(b"%", b"%%"))
            continue
        field, conv = part
        if conv is _AS_INT:
            template.append(b"%d")
            pieces.append(names[field])
        elif isinstance(conv, _IntExpr):
            template.append(b"%d")
            pieces.append(conv.expr.format(v=names[field]))
        elif conv is _cut:
            template.append(b"%s")
            pieces.append(f"{names[field]}.partition(b'\\0')[0]")
        else:
            k = len(env)
            env[f"c{k}"] = conv
            template.append(b"%s")
            pieces.append(f"p{k}")
            checks.append(f"    p{k} = c{k}({names[field]})\n"
                          f"    if p{k} is None:\n        return general(buf, off)\n")
    env["TEMPLATE"] = b"".join(template)
    return pieces, checks


class _IntExpr:
    """A converter the generated code inlines: a Python int expression of `{v}`, printed
    with %d (C's conversion of the value to the token's type)."""

    def __init__(self, expr: str):
        self.expr = expr
        self._fn = eval("lambda v: b'%d' % " + expr.format(v="v"))

    def __call__(self, v: int) -> bytes:
        return self._fn(v)


def _AS_INT(v: int) -> bytes:
    """Marker converter: the value prints as C %d prints it (the generated code inlines it)."""
    return b"%d" % v


def _cut(raw: bytes) -> bytes:
    n = raw.find(b"\0")
    return raw if n < 0 else raw[:n]


def _bpftrace_plan(fmt: str, fields: list) -> Plan | None:
    raw = fmt.encode("utf-8", "surrogateescape")
    latin = raw.decode("latin-1")
    matches = list(FORMAT_RE.finditer(latin))
    if len(matches) > len(fields):
        return None  # the general formatter prints the unused conversions literally
    plan: Plan = []
    last = 0
    for i, m in enumerate(matches):
        plan.append(latin[last:m.start()].replace("%%", "%").encode("latin-1"))
        plan.append((i, _bpftrace_conv(m, fields[i]["t"])))
        last = m.end()
    plan.append(latin[last:].replace("%%", "%").encode("latin-1"))
    return [p for p in plan if p != b""]


def _bpftrace_conv(m, td: dict):
    spec, token = _spec(m), m.group(2)
    plain = spec.flags == "" and spec.width is None and spec.prec is None
    if token == "s" or token.startswith("r"):
        if td["k"] == "str":
            if plain:
                return _cut
            return lambda v: cfmt.format_str(_cut(v).decode("latin-1"), spec).encode("latin-1")
        return lambda v: cfmt.format_str(str(v), spec).encode("latin-1")
    if td["k"] != "int":
        return lambda v: _format_int(int(v), token, spec).encode("latin-1")
    bits = _BITS.get(token[:-1])
    signed_conv = token[-1] in "di"
    width = td["size"] * 8
    # the value prints unchanged when C's conversion to the token's type keeps it
    fits = bits is not None and (width < bits and (signed_conv or not td["signed"])
                                 or width == bits and bool(td["signed"]) == signed_conv)
    if plain and fits and token[-1] in "diu":
        return _AS_INT
    if plain and bits is not None and token[-1] in "diu":
        mask, sign, wrap = (1 << bits) - 1, 1 << (bits - 1), 1 << bits
        if signed_conv:
            return _IntExpr(f"(({{v}} & {mask}) - {wrap} if {{v}} & {sign} else {{v}} & {mask})")
        return _IntExpr(f"({{v}} & {mask})")
    return lambda v: _format_int(v, token, spec).encode("latin-1")


def _btrace_plan(fmt: str, fields: list) -> Plan | None:
    """Only formats whose conversions are exactly %d/%i (ints) and %s (strings), one per
    argument, without backslashes: there btrace's re-parsing is the identity."""
    raw = fmt.encode("utf-8", "surrogateescape")
    if b"\\" in raw:
        return None
    plan: Plan = []
    i, start, n = 0, 0, 0
    while i < len(raw):
        if raw[i:i + 1] != b"%":
            i += 1
            continue
        nxt = raw[i + 1:i + 2]
        if nxt == b"%":
            plan.append(raw[start:i] + b"%")
            i = start = i + 2
            continue
        if n >= len(fields):
            return None
        kind = fields[n]["t"]["k"]
        if nxt in (b"d", b"i") and kind == "int":
            t = fields[n]["t"]
            conv = _AS_INT if t["signed"] or t["size"] < 8 else _btrace_long
        elif nxt == b"s" and kind == "str":
            conv = _cut
        else:
            return None
        plan.append(raw[start:i])
        plan.append((n, conv))
        n += 1
        i = start = i + 2
    if n != len(fields):
        return None
    plan.append(raw[start:])
    return [p for p in plan if p != b""]


def _btrace_long(v: int) -> bytes | None:
    # outside long's range strtol clamps and warns: the general formatter does that
    return b"%d" % v if -(1 << 63) <= v < (1 << 63) else None
