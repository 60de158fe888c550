"""Map key text and key sort columns (vectorized where it matters: int keys)."""
from __future__ import annotations

import numpy as np

from .decode import TypeDesc, column
from .symbolic import SymbolText, has_symbolic, resolve
from .values import bytes_text, value_text

_P10 = np.array([10 ** i for i in range(20)], dtype=np.uint64)


def key_texts(td: TypeDesc | None, keys: np.ndarray, sym: SymbolText | None = None) -> list[str]:
    """Text of every key: ints decimal, strings raw, tuple fields joined by ', ';
    stacks/ksym/usym through `sym`."""
    if td is None:
        return [""] * keys.shape[0]
    col = column(td, keys)
    if has_symbolic(td):
        col = col.tolist() if isinstance(col, np.ndarray) else col
        return [value_text(td, resolve(td, v, sym), top_level_key=True) for v in col]
    if isinstance(col, np.ndarray):
        return list(map(str, col.tolist()))
    if td["k"] == "str":
        return [bytes_text(b) for b in col]
    return [value_text(td, v, top_level_key=True) for v in col]


def _int_string_order_cols(col: np.ndarray) -> list[np.ndarray]:
    """Columns (least significant first) that order ints like strcmp on their decimal text."""
    signed = col.dtype.kind == "i"
    wide = col.astype(np.int64 if signed else np.uint64)
    neg = wide < 0 if signed else np.zeros(len(wide), bool)
    mag = np.where(neg, (-wide).view(np.uint64), wide.view(np.uint64)) if signed else wide
    digits = np.maximum(np.searchsorted(_P10, mag, side="right"), 1)
    if not neg.any() and digits.min() == digits.max():
        return [mag]  # one width, no sign: text order is numeric order (and packs for sorting)
    if (digits > 19).any():
        return []
    aligned = mag * _P10[19 - digits]
    cols = [digits, aligned]
    if neg.any():
        cols.append(~neg)
    return cols


def key_items(td: TypeDesc | None, keys: np.ndarray) -> list:
    """What goes between the brackets: ints stay ints (f-strings format them fastest)."""
    if td is not None and td["k"] in ("int", "stack"):
        return column(td, keys).tolist()
    return key_texts(td, keys)


def btrace_key_cols(td: TypeDesc | None, keys: np.ndarray,
                    texts: list[str] | None) -> list[np.ndarray]:
    """Sort columns for btrace's key order: strncmp of the key strings."""
    if td is None or keys.shape[0] == 0:
        return []
    if td["k"] == "int":
        cols = _int_string_order_cols(column(td, keys))
        if cols:
            return cols
    if texts is None:
        texts = key_texts(td, keys)
    enc = [t.encode("utf-8", "surrogateescape") for t in texts]
    return [np.array(enc, dtype=bytes)]


def bpftrace_key_cols(td: TypeDesc | None, keys: np.ndarray) -> list[np.ndarray]:
    """Sort columns for bpftrace's key order: ints unsigned, strings strncmp, tuples by field."""
    if td is None or keys.shape[0] == 0:
        return []
    kind = td["k"]
    if kind in ("int", "stack"):
        col = column(td, keys)
        return [col.view(col.dtype.newbyteorder("=").str.replace("i", "u"))]
    if kind == "str":
        return [np.array(column(td, keys), dtype=bytes)]
    if kind == "tuple":
        cols: list[np.ndarray] = []
        for f in reversed(td["fields"]):
            cols.extend(bpftrace_key_cols(f["t"], keys[:, f["off"]:]))
        return cols
    return []
