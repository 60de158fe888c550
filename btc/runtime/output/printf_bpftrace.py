"""bpftrace v0.23 printf: typed arguments, compile-time checks (check_printf), C printing.

Kept free of numpy so the compiler's semantic analysis can import check_printf cheaply.
"""
from __future__ import annotations

import re

from . import cfmt

_LENGTHS = ("hh", "h", "ll", "l", "j", "z", "t", "")
_INT_CONVS = "duoxXp"
# Longest alternatives first, so "%rx" is one token and "%lld" never stops at "l".
_TOKENS = ["rx", "rh", "r", "s", "c"] + [ln + c for ln in _LENGTHS for c in _INT_CONVS]
FORMAT_RE = re.compile(r"%-?[0-9]*(\.[0-9]+)?(" + "|".join(sorted(_TOKENS, key=len, reverse=True)) + ")")
_BITS = {"hh": 8, "h": 16, "": 32, "l": 64, "ll": 64, "j": 64, "z": 64, "t": 64}

# bpftrace type names for the argument kinds btc's IR reports.
_KIND_TYPE = {"int": "integer", "integer": "integer", "pointer": "integer", "ptr": "integer",
              "str": "string", "string": "string", "buffer": "buffer", "tuple": "tuple",
              "none": "none"}
_STRINGISH = {"ksym", "usym", "probe", "username", "strftime", "strerror", "kstack", "ustack", "stack", "inet",
              "timestamp", "mac_address", "cgroup_path", "strerror"}


def _token_type(token: str) -> str:
    if token.startswith("r"):
        return "buffer"
    if token == "s":
        return "string"
    return "integer"


def _arg_type(kind: str) -> str:
    if kind in _STRINGISH:
        return "string"
    return _KIND_TYPE.get(kind, kind)


def check_printf(fmt: str, arg_kinds: list[str], func: str = "printf") -> list[str]:
    """bpftrace's format/argument check: [] when fine, else the (single) error message."""
    tokens = list(FORMAT_RE.finditer(fmt))
    supplied, expected = len(arg_kinds), len(tokens)
    if supplied < expected:
        return [f"{func}: Not enough arguments for format string "
                f"({supplied} supplied, {expected} expected)"]
    if supplied > expected:
        return [f"{func}: Too many arguments for format string "
                f"({supplied} supplied, {expected} expected)"]
    for kind, m in zip(arg_kinds, tokens):
        token = m.group(2)
        want, have = _token_type(token), _arg_type(kind)
        if want != have:
            return [f"{func}: %{token} specifier expects a value of type {want} ({have} supplied)"]
    return []


def _literal(text: str) -> str:
    # btc prints "%%" as "%" everywhere (upstream v0.23 keeps it after the last conversion)
    return text.replace("%%", "%")


def _spec(m: re.Match) -> cfmt.Spec:
    body = m.group(0)[1:len(m.group(0)) - len(m.group(2))]
    flags = ""
    if body.startswith("-"):
        flags, body = "-", body[1:]
    width_txt, _, prec_txt = body.partition(".")
    if width_txt.startswith("0"):
        flags += "0"
    width = int(width_txt) if width_txt else None
    prec = int(prec_txt) if m.group(1) else None
    return cfmt.Spec(flags, width, prec, m.group(2)[-1])


def _format_int(value: int, token: str, spec: cfmt.Spec) -> str:
    conv = token[-1]
    if token == "c":
        return cfmt.format_char(value, spec)
    if conv == "p":
        return cfmt.format_pointer(value & ((1 << 64) - 1), spec)
    bits = _BITS[token[:-1]]
    value &= (1 << bits) - 1
    if conv == "d" and value >> (bits - 1):
        value -= 1 << bits
    return cfmt.format_int(value, spec)


def _latin(value) -> str:
    if isinstance(value, bytes):
        return value.decode("latin-1")
    return str(value).encode("utf-8", "surrogateescape").decode("latin-1")


def buffer_text(raw: bytes, token: str = "r") -> str:
    """bpftrace's buffer conversions: %r printable ASCII as is and other bytes `\\xNN`;
    %rx every byte `\\xNN`; %rh every byte as two hex digits, space separated."""
    if token == "rh":
        return " ".join(f"{c:02x}" for c in raw)
    if token == "rx":
        return "".join(f"\\x{c:02x}" for c in raw)
    return "".join(chr(c) if 32 <= c < 127 else f"\\x{c:02x}" for c in raw)


def bpftrace_printf(fmt: str, args: list, truncated: frozenset[int] = frozenset()) -> str:
    """Format decoded arguments (int, bytes or text) like bpftrace. Arguments listed in
    `truncated` are strings that filled their buffer: they get the ".." trailer."""
    raw = fmt.encode("utf-8", "surrogateescape").decode("latin-1")
    out, last = [], 0
    for i, m in enumerate(FORMAT_RE.finditer(raw)):
        if i >= len(args):
            break
        out.append(_literal(raw[last:m.start()]))
        spec, token, arg = _spec(m), m.group(2), args[i]
        if token.startswith("r") and isinstance(arg, bytes):
            out.append(cfmt.format_str(buffer_text(arg, token), spec))
        elif token == "s" or token.startswith("r"):
            text = _latin(arg) + (".." if i in truncated else "")
            out.append(cfmt.format_str(text, spec))
        else:
            out.append(_format_int(int(arg), token, spec))
        last = m.end()
    out.append(_literal(raw[last:]))
    return "".join(out).encode("latin-1").decode("utf-8", "surrogateescape")
