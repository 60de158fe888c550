"""OpenBSD btrace printf (printf.c): arguments are strings, reparsed per conversion.

Every argument was stringified (%ld / raw string); each conversion re-reads it with
strtol/strtoul/strtod (base 0). The format is reused while arguments remain, backslash
escapes in the format are processed again here, and problems become `btrace: ...` warnings.
"""
from __future__ import annotations

import re

from btc.records import Record, field  # not dataclasses: start-up time

from . import cfmt, cnum

_ATOI = re.compile(r"[+-]?\d+")
_SKIP1 = "#-+ 0"
_DIGITS = "0123456789"
_SIMPLE_ESC = {"\\": "\\", "'": "'", '"': '"', "a": "\a", "b": "\b", "e": "\x1b",
               "f": "\f", "n": "\n", "r": "\r", "t": "\t", "v": "\v"}


class _Stop(Exception):
    """Processing of this printf ends here (invalid directive, %b with \\c, ...)."""


class _State(Record, frozen=False):
    args: list[str]
    ints: list[bool]
    pos: int = 0
    out: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def warn(self, msg: str) -> None:
        self.warnings.append("btrace: " + _to_text(msg))

    def next(self) -> tuple[str, bool] | None:
        if self.pos >= len(self.args):
            return None
        self.pos += 1
        return self.args[self.pos - 1], self.ints[self.pos - 1]


def _to_text(latin: str) -> str:
    return latin.encode("latin-1").decode("utf-8", "surrogateescape")


def _check(st: _State, s: str, end: int, erange: bool) -> None:
    if end < len(s):
        st.warn(f"{s}: expected numeric value" if end == 0 else f"{s}: not completely converted")
    elif erange:
        st.warn(f"{s}: Result too large")


def _get_number(st: _State, parse):
    arg = st.next()
    if arg is None:
        return 0
    s = arg[0]
    if s[:1] in ("'", '"'):
        return ord(s[1]) if len(s) > 1 else 0
    value, end, erange = parse(s)
    _check(st, s, end, erange)
    return value


def _get_int_star(st: _State) -> int:
    """'*' width/precision: atoi, and the argument is only consumed if it looks numeric."""
    if st.pos >= len(st.args):
        return 0
    s = st.args[st.pos]
    if s[:1] and s[0] in "+-.0123456789":
        st.pos += 1
        m = _ATOI.match(s)
        value = int(m.group(0)) if m else 0
        return ((value + (1 << 31)) & 0xFFFFFFFF) - (1 << 31)
    return 0


def _get_char(st: _State) -> int:
    arg = st.next()
    if arg is None:
        return 0
    s, is_int = arg
    if is_int:  # btrace 1.3 prints an integer argument's value as a byte
        return cnum.strtol(s)[0] & 0xFF
    return ord(s[0]) if s else 0


def _escape(st: _State, text: str, i: int) -> int:
    """Process the escape at text[i] == '\\'; return the index after it."""
    j = i + 1
    if j >= len(text):
        st.warn("null escape sequence")
        return j
    c = text[j]
    if c in "01234567":
        value, k = 0, j
        while k < len(text) and k < j + 3 and text[k] in "01234567":
            value = value * 8 + int(text[k])
            k += 1
        st.out.append(chr(value & 0xFF))
        return k
    if c == "x":
        value, k = 0, j + 1
        while k < len(text) and text[k] in "0123456789abcdefABCDEF":
            value = value * 16 + int(text[k], 16)
            k += 1
        if value > 0xFF:
            st.warn("escape sequence out of range for character")
        st.out.append(chr(value & 0xFF))
        return k
    if c in _SIMPLE_ESC:
        st.out.append(_SIMPLE_ESC[c])
    else:
        st.out.append(c)
        st.warn(f"unknown escape sequence `\\{c}'")
    return j + 1


def _escape_b(st: _State, s: str) -> None:
    """%b: echo-style escapes; octal is \\0 plus up to 3 digits; \\c stops everything."""
    i = 0
    while i < len(s):
        if s[i] != "\\":
            st.out.append(s[i])
            i += 1
        elif s[i + 1:i + 2] == "0":
            value, k = 0, i + 2
            while k < len(s) and k < i + 5 and s[k] in "01234567":
                value = value * 8 + int(s[k])
                k += 1
            st.out.append(chr(value & 0xFF))
            i = k
        elif s[i + 1:i + 2] == "c":
            raise _Stop
        else:
            i = _escape(st, s, i)


def _conversion(st: _State, fmt: str, i: int) -> int:
    """fmt[i] == '%'. Print one conversion; return the index after it."""
    start, j = i, i + 1
    if j < len(fmt) and fmt[j] == "%":
        st.out.append("%")
        return j + 1
    if j < len(fmt) and fmt[j] == "b":
        arg = st.next()
        _escape_b(st, arg[0] if arg else "")
        return j + 1
    flags = ""
    while j < len(fmt) and fmt[j] in _SKIP1:
        flags += fmt[j]
        j += 1
    width = None
    if j < len(fmt) and fmt[j] == "*":
        width, j = _get_int_star(st), j + 1
    k = j
    while j < len(fmt) and fmt[j] in _DIGITS:
        j += 1
    if width is None and j > k:
        width = int(fmt[k:j])
    prec = None
    if j < len(fmt) and fmt[j] == ".":
        j += 1
        if j < len(fmt) and fmt[j] == "*":
            prec, j = _get_int_star(st), j + 1
        k = j
        while j < len(fmt) and fmt[j] in _DIGITS:
            j += 1
        if prec is None:
            prec = int(fmt[k:j]) if j > k else 0
    if j >= len(fmt):
        st.warn("missing format character")
        raise _Stop
    conv = fmt[j]
    if prec is not None and prec < 0:  # C: a negative '*' precision means none
        prec = None
    spec = cfmt.Spec(flags, width, prec, conv)
    if conv == "c":
        st.out.append(cfmt.format_char(_get_char(st), spec))
    elif conv == "s":
        arg = st.next()
        st.out.append(cfmt.format_str(arg[0] if arg else "", spec))
    elif conv in "di":
        st.out.append(cfmt.format_int(_get_number(st, cnum.strtol), spec))
    elif conv in "ouxX":
        st.out.append(cfmt.format_int(_get_number(st, cnum.strtoul), spec))
    elif conv in "aAeEfFgG":
        st.out.append(cfmt.format_float(float(_get_number(st, cnum.strtod)), spec))
    else:
        st.warn(f"{fmt[start:j + 1]}: invalid directive")
        raise _Stop
    return j + 1


def _one_pass(st: _State, fmt: str) -> None:
    i = 0
    while i < len(fmt):
        c = fmt[i]
        if c == "%":
            i = _conversion(st, fmt, i)
        elif c == "\\":
            i = _escape(st, fmt, i)
        else:
            st.out.append(c)
            i += 1


def btrace_printf(fmt: bytes, args: list[bytes], int_args: list[bool] | None = None
                  ) -> tuple[str, list[str]]:
    """Run btrace's printf on stringified arguments. Returns (stdout text, warnings)."""
    latin = [a.decode("latin-1") for a in args]
    st = _State(latin, int_args or [False] * len(args))
    text = fmt.decode("latin-1")
    try:
        while True:
            before = st.pos
            _one_pass(st, text)
            # upstream loops forever on a format without conversions; btc prints it once
            if st.pos >= len(st.args) or st.pos == before:
                break
    except _Stop:
        pass
    return _to_text("".join(st.out)), st.warnings
