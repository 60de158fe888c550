"""C strtol/strtoul/strtod (base 0) on latin-1 text: (value, chars consumed, erange)."""
from __future__ import annotations

import re

LONG_MIN, LONG_MAX, ULONG_MAX = -(1 << 63), (1 << 63) - 1, (1 << 64) - 1
_SPACE = " \t\n\v\f\r"
_DEC_FLOAT = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?")
_HEX_FLOAT = re.compile(r"[+-]?0[xX](?:[0-9a-fA-F]+\.?[0-9a-fA-F]*|\.[0-9a-fA-F]+)(?:[pP][+-]?\d+)?")
_SPECIAL = re.compile(r"[+-]?(?:inf(?:inity)?|nan(?:\([0-9A-Za-z_]*\))?)", re.IGNORECASE)


def _skip_space(s: str) -> int:
    i = 0
    while i < len(s) and s[i] in _SPACE:
        i += 1
    return i


def _parse_int(s: str) -> tuple[int, int, bool]:
    """Magnitude with sign applied, end index (0 if nothing parsed), negative flag."""
    i = _skip_space(s)
    neg = False
    if i < len(s) and s[i] in "+-":
        neg = s[i] == "-"
        i += 1
    base = 10
    if s[i:i + 2].lower() == "0x" and i + 2 < len(s) and s[i + 2] in "0123456789abcdefABCDEF":
        base, i = 16, i + 2
    elif s[i:i + 1] == "0":
        base = 8
    valid = "0123456789abcdef"[:base]
    start = i
    while i < len(s) and s[i].lower() in valid:
        i += 1
    if i == start:
        return 0, 0, False
    return int(s[start:i], base), i, neg


def strtol(s: str) -> tuple[int, int, bool]:
    mag, end, neg = _parse_int(s)
    value = -mag if neg else mag
    if value > LONG_MAX:
        return LONG_MAX, end, True
    if value < LONG_MIN:
        return LONG_MIN, end, True
    return value, end, False


def strtoul(s: str) -> tuple[int, int, bool]:
    mag, end, neg = _parse_int(s)
    if mag > ULONG_MAX:
        return ULONG_MAX, end, True
    return ((-mag) & ULONG_MAX) if neg else mag, end, False


def strtod(s: str) -> tuple[float, int, bool]:
    i = _skip_space(s)
    for pattern in (_HEX_FLOAT, _DEC_FLOAT, _SPECIAL):
        m = pattern.match(s, i)
        if m:
            text = m.group(0)
            if pattern is _HEX_FLOAT:
                sign = -1.0 if text.startswith("-") else 1.0
                body = text.lstrip("+-")
                if "p" not in body.lower():
                    body += "p0"
                value = sign * float.fromhex(body)
            elif pattern is _SPECIAL:
                value = float(text.split("(")[0])
            else:
                try:
                    value = float(text)
                except OverflowError:
                    value = float("inf")
            erange = value in (float("inf"), float("-inf")) and pattern is not _SPECIAL
            return value, m.end(), erange
    return 0.0, 0, False
