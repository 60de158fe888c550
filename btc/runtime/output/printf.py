"""printf events: decode the argument struct, then run the dialect's printf."""
from __future__ import annotations

from .decode import value_from_bytes
from .printf_bpftrace import bpftrace_printf
from .printf_btrace import btrace_printf
from .symbolic import SymbolText, resolve
from .values import value_text


def decode_args(args_td: dict | None, payload: bytes) -> list:
    if not args_td or not args_td.get("fields"):
        return []
    return list(value_from_bytes(args_td, payload))


def _btrace_string(td: dict, value) -> bytes:
    """btrace's ba2str: longs as %ld (unsigned as %lu), strings raw, tuples (a, b)."""
    if isinstance(value, bytes):
        return value
    return value_text(td, value).encode("utf-8", "surrogateescape")


def format_printf(desc: dict, payload: bytes, dialect: str = "btrace",
                  truncated: frozenset[int] = frozenset(),
                  sym: SymbolText | None = None) -> tuple[str, list[str]]:
    """One printf event: `desc` is its PrintfDesc, `payload` the bytes after the 8-byte
    event header. Returns (stdout text, warnings for stderr). `sym` turns stack/ksym/usym
    arguments into text."""
    args_td = desc.get("args")
    values = decode_args(args_td, payload)
    if values:
        values = [resolve(f["t"], v, sym) for f, v in zip(args_td["fields"], values)]
    if dialect == "btrace":
        fields = args_td["fields"] if values else []
        strings = [_btrace_string(f["t"], v) for f, v in zip(fields, values)]
        is_int = [f["t"]["k"] == "int" for f in fields]
        fmt = desc["fmt"].encode("utf-8", "surrogateescape")
        return btrace_printf(fmt, strings, is_int)
    return bpftrace_printf(desc["fmt"], values, truncated), []
