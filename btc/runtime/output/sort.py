"""Entry order inside one map, per dialect (output-formats.md §2.2), and top-N."""
from __future__ import annotations

import numpy as np

from .decode import MapData
from .keys import bpftrace_key_cols, btrace_key_cols


def _rank(objs: list) -> np.ndarray:
    """Dense rank of byte strings (for string values)."""
    arr = np.array(objs, dtype=bytes)
    _, inv = np.unique(arr, return_inverse=True)
    return inv.reshape(-1).astype(np.int64)


def btrace_order(desc: dict, md: MapData, texts: list[str] | None) -> np.ndarray:
    """Value descending, ties by key string ascending."""
    cols = btrace_key_cols(desc.get("key"), md.keys, texts)
    if md.value is not None:
        v = md.value
        cols.append(~v if v.dtype.kind == "i" else ~v.astype(np.uint64))
    elif md.objects and isinstance(md.objects[0], bytes):
        cols.append(-_rank(md.objects))
    if not cols:
        return np.arange(len(md))
    return np.lexsort(cols)


def bpftrace_order(desc: dict, md: MapData) -> np.ndarray:
    """Ascending by value (unsigned for min/max, total count for hists); else by key."""
    cols = bpftrace_key_cols(desc.get("key"), md.keys)
    if md.value is not None:
        v = md.value
        if desc.get("agg") in ("min", "max"):
            v = v.view(np.uint64)
        cols.append(v)
    if not cols:
        return np.arange(len(md))
    if len(cols) == 2 and cols[0].dtype.kind in "iu" and len(md) > 1:
        return _by_value_then_key(cols[1], cols[0])
    return np.lexsort(cols)


def _by_value_then_key(value: np.ndarray, key: np.ndarray) -> np.ndarray:
    """lexsort((key, value)) for unique int keys, faster: the keys of a map are unique, so an
    unstable sort by key, then a stable one by value (linear when the values are already in
    order, e.g. all equal) gives the same order."""
    order = np.argsort(key)
    v = value[order]
    if (v[1:] >= v[:-1]).all():
        return order
    return order[np.argsort(v, kind="stable")]


def top_n(order: np.ndarray, top: int, dialect: str) -> np.ndarray:
    """btrace keeps the first N of its descending order, bpftrace the last N of ascending."""
    if top <= 0 or top >= len(order):
        return order
    return order[:top] if dialect == "btrace" else order[len(order) - top:]


def map_order(desc: dict, md: MapData, dialect: str, texts: list[str] | None = None,
              top: int = 0) -> np.ndarray:
    """Indices of the entries to print, in print order (`texts`: key strings if known)."""
    if dialect == "btrace":
        order = btrace_order(desc, md, texts)
    else:
        order = bpftrace_order(desc, md)
    return top_n(order, top, dialect)
