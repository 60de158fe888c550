"""Text of non-map values: print(v), map keys and map values (ints, strings, tuples)."""
from __future__ import annotations

from .decode import ArrayValue, TypeDesc, value_from_bytes
from .symbolic import SymbolText, resolve


def bytes_text(raw: bytes) -> str:
    """Kernel bytes as text; invalid UTF-8 survives as surrogate escapes (write with
    errors='surrogateescape' to get the original bytes back)."""
    return raw.decode("utf-8", "surrogateescape")


def value_text(td: TypeDesc | None, value, top_level_key: bool = False) -> str:
    """Text of one decoded value, identical in both dialects: ints decimal, strings raw,
    tuples `(1, x)` (nested too). A top-level map key tuple has no parentheses."""
    if isinstance(value, bytes):
        if td is not None and td.get("k") == "buf":  # buf(): printed as bpftrace's %r
            from .printf_bpftrace import buffer_text

            return buffer_text(value)
        return bytes_text(value)
    if isinstance(value, ArrayValue):
        elem = td.get("elem") if td is not None else None
        return "[" + ",".join(value_text(elem, v) for v in value) + "]"
    if isinstance(value, tuple):
        fields = td["fields"] if td is not None and td.get("k") == "tuple" else [None] * len(value)
        inner = ", ".join(value_text(f["t"] if f else None, v) for f, v in zip(fields, value))
        return inner if top_level_key else f"({inner})"
    if value is None:
        return ""
    return str(value)


def format_value(td: TypeDesc, payload: bytes, dialect: str = "btrace",
                 sym: SymbolText | None = None) -> str:
    """print(expr) of a non-map value: its text and a newline (same in both dialects).
    `sym` turns stack/ksym/usym values into text."""
    if td is None or td["k"] == "none":
        return "\n"
    return value_text(td, resolve(td, value_from_bytes(td, payload), sym)) + "\n"
