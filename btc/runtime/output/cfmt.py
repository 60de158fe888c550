"""C printf(3) conversions on Python values, shared by both printf dialects.

Text is handled as latin-1 `str` (one char per byte) so widths count bytes like C does.
"""
from __future__ import annotations

import math

from btc.records import Record  # a dataclass costs start-up time (dataclasses imports inspect)


class Spec(Record):
    """One parsed conversion: flags, width/precision (None = absent), conversion char."""

    flags: str
    width: int | None
    prec: int | None
    conv: str


def _pad(body: str, spec: Spec, zero_ok: bool, prefix: str = "") -> str:
    width = spec.width or 0
    if spec.width is not None and spec.width < 0:  # '*' gave a negative width: left-justify
        width, left = -spec.width, True
    else:
        left = "-" in spec.flags
    fill = width - len(prefix) - len(body)
    if fill <= 0:
        return prefix + body
    if left:
        return prefix + body + " " * fill
    if zero_ok and "0" in spec.flags:
        return prefix + "0" * fill + body
    return " " * fill + prefix + body


def format_int(value: int, spec: Spec) -> str:
    """d i o u x X (value already reduced to the argument's C type)."""
    conv = spec.conv
    neg = value < 0
    mag = -value if neg else value
    digits = {"o": "%o", "x": "%x", "X": "%X"}.get(conv, "%d") % mag
    prec = spec.prec if spec.prec is not None and spec.prec >= 0 else None
    if prec is not None:
        digits = "" if (prec == 0 and mag == 0) else digits.rjust(prec, "0")
    prefix = ""
    if conv in "di":
        prefix = "-" if neg else "+" if "+" in spec.flags else " " if " " in spec.flags else ""
    elif "#" in spec.flags:
        if conv == "o" and not digits.startswith("0"):
            digits = "0" + digits
        elif conv in "xX" and mag != 0:
            prefix = "0" + conv
    return _pad(digits, spec, prec is None, prefix)


def format_pointer(value: int, spec: Spec) -> str:
    """glibc %p: (nil) for 0, else 0x + lowercase hex."""
    if value == 0:
        return _pad("(nil)", spec, False)
    return _pad("%x" % value, spec, spec.prec is None, "0x")


def format_char(value: int, spec: Spec) -> str:
    return _pad(chr(value & 0xFF), spec, False)


def format_str(text: str, spec: Spec) -> str:
    if spec.prec is not None and spec.prec >= 0:
        text = text[:spec.prec]
    return _pad(text, spec, False)


def _hexfloat(value: float, spec: Spec) -> str:
    upper = spec.conv == "A"
    if math.isinf(value) or math.isnan(value):
        body = ("inf" if math.isinf(value) else "nan")
        negative = math.copysign(1, value) < 0 and not math.isnan(value)
        sign = "-" if negative else "+" if "+" in spec.flags else " " if " " in spec.flags else ""
        text = sign + body
        return _pad(text.upper() if upper else text, spec, False)
    sign = "-" if math.copysign(1, value) < 0 else "+" if "+" in spec.flags else \
        " " if " " in spec.flags else ""
    mant, exp = math.frexp(abs(value))
    if mant == 0:
        lead, frac_bits, exp2 = 0, 0, 0
    else:
        bits = int(mant * (1 << 53))  # 53 significant bits, leading 1 at bit 52
        lead, frac_bits, exp2 = 1, bits & ((1 << 52) - 1), exp - 1
    hexd = "%013x" % frac_bits
    if spec.prec is None:
        hexd = hexd.rstrip("0")
    else:
        total = (lead << 52) | frac_bits
        drop = 4 * (13 - spec.prec)
        if drop > 0:
            half = 1 << (drop - 1)
            rem = total & ((1 << drop) - 1)
            total >>= drop
            if rem > half or (rem == half and total & 1):
                total += 1
            lead, frac = total >> (4 * spec.prec), total & ((1 << (4 * spec.prec)) - 1)
            hexd = ("%0*x" % (spec.prec, frac)) if spec.prec else ""
        else:
            hexd = hexd.ljust(spec.prec, "0")
    point = "." if hexd or "#" in spec.flags else ""
    body = f"{lead}{point}{hexd}p{'+' if exp2 >= 0 else '-'}{abs(exp2)}"
    if upper:
        body = body.upper()
    return _pad(body, spec, True, sign + ("0X" if upper else "0x"))


def format_float(value: float, spec: Spec) -> str:
    if spec.conv in "aA":
        return _hexfloat(value, spec)
    # C pads inf/nan with spaces even with the 0 flag (Python would use zeros)
    zero = "0" if math.isfinite(value) else ""
    flags = "".join(f for f in "-+ #" if f in spec.flags) + (zero if "0" in spec.flags else "")
    width = spec.width
    if width is not None and width < 0:
        flags, width = flags + "-", -width
    text = "%" + flags + (str(width) if width else "")
    if spec.prec is not None and spec.prec >= 0:
        text += "." + str(spec.prec)
    return (text + spec.conv) % value
