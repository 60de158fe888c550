"""Text-mode map printing for both dialects (output-formats.md §2, §3)."""
from __future__ import annotations

from typing import Callable

import numpy as np

from . import hist as H
from .decode import MapData, column, decode_map, trunc_div
from .int_text import IntLines
from .keys import bpftrace_key_cols, btrace_key_cols, key_items, key_texts
from .sort import map_order, packed_sort
from .symbolic import as_symbol_text, has_symbolic, resolve, symbol_text
from .values import value_text

_HISTS = ("hist", "lhist")


StackText = Callable[[int, str], str]  # (stack id, "kernel"|"user") -> formatted stack
# `stack_text=` arguments below accept a StackText or a SymbolText (stacks, ksym, usym)


def _values(desc: dict, md: MapData, div: int,
            stack_text: StackText | None = None) -> list | np.ndarray:
    """Entry values: ints as an int array (formatted later), anything else as text."""
    if md.value is not None:
        v = md.value
        if div != 1:
            v = trunc_div(v, np.full(len(v), div, dtype=v.dtype))
        return v
    vtd = desc.get("value")
    objects = [] if md.objects is None else list(md.objects)
    if has_symbolic(vtd):
        sym = as_symbol_text(stack_text)
        return [value_text(vtd, resolve(vtd, o, sym)) for o in objects]
    return [value_text(vtd, o) for o in objects]


def _stats_texts(md: MapData, avgs) -> list[str]:
    return [f"count {c}, average {a}, total {t}"
            for c, a, t in zip(md.count.tolist(), _as_list(avgs), md.total.tolist())]


def _as_list(xs) -> list:
    return xs.tolist() if isinstance(xs, np.ndarray) else xs


def _sorted(desc: dict, md: MapData, dialect: str, top: int,
            stack_text: StackText | None = None) -> tuple[MapData, list]:
    """Entries in print order, with what goes between each entry's brackets."""
    key_td = desc.get("key")
    pairs = _sorted_int_pairs(desc, md, dialect, top)
    if pairs is not None:  # key rows kept as bytes too: MapData's length is theirs
        keys, value = pairs
        return MapData(keys.view(np.uint8).reshape(len(keys), -1), value=value), keys
    fast = key_td is None or key_td["k"] in ("int", "stack")
    texts = None if fast else key_texts(key_td, md.keys, as_symbol_text(stack_text))
    order = map_order(desc, md, dialect, texts, top)
    md = md.take(order)
    if texts is None:
        if key_td is not None and key_td["k"] == "int":
            return md, column(key_td, md.keys)  # an int array: formatted in bulk by _lines
        items = key_items(key_td, md.keys)
        if key_td is not None and key_td["k"] == "stack" and stack_text is not None:
            sym = as_symbol_text(stack_text)
            items = [symbol_text(key_td, i, sym) for i in items]
        return md, items
    return md, [texts[i] for i in order.tolist()]


Parts = list  # of str, and IntLines (bytes-like pieces of text built when iterated)


def join_parts(parts: Parts) -> str:
    return "".join(p if isinstance(p, str) else p.text() for p in parts)


def _sorted_int_pairs(desc: dict, md: MapData, dialect: str,
                      top: int) -> tuple[np.ndarray, np.ndarray] | None:
    """The dialect's order of a map of int keys and plain int values (counts, sums, min,
    max): the (key, value) columns sorted together, or None for any other map."""
    key_td = desc.get("key")
    if (key_td is None or key_td["k"] != "int" or md.value is None or md.objects is not None
            or md.count is not None or md.hist is not None):
        return None
    keys = column(key_td, md.keys)
    if dialect == "btrace":  # value descending, then key text: numeric for one width, no sign
        cols = btrace_key_cols(key_td, md.keys, None)
        got = packed_sort([cols[0], ~md.value]) if len(cols) == 1 else None
        if got is None:
            return None
        ukeys, uvalues = got[0].astype(keys.dtype), ~got[1]
        if 0 < top < len(ukeys):  # top_n: btrace keeps the first N
            ukeys, uvalues = ukeys[:top], uvalues[:top]
        return ukeys, uvalues
    cols = bpftrace_key_cols(key_td, md.keys)  # the keys as unsigned, as bpftrace compares
    value = md.value.view(np.uint64) if desc.get("agg") in ("min", "max") else md.value
    got = packed_sort([*cols, value])
    if got is None:
        return None
    ukeys, uvalues = got
    if 0 < top < len(ukeys):  # top_n: bpftrace keeps the last N of its ascending order
        ukeys, uvalues = ukeys[-top:], uvalues[-top:]
    return ukeys.view(keys.dtype), uvalues.view(md.value.dtype)


def _lines(desc: dict, items, values, end: str) -> Parts:
    """One line per entry; `items` and `values` are lists or int arrays."""
    name = desc["name"]
    if (len(values) > 64 and isinstance(items, np.ndarray)
            and isinstance(values, np.ndarray)):
        return [IntLines(f"{name}[", items, "]: ", values, end)]
    items, values = _as_list(items), _as_list(values)
    if desc.get("key") is None:
        return [f"{name}: {v}{end}" for v in values]
    if len(items) > 64 and type(items[0]) is int and type(values[0]) is int:
        return [_int_lines(name, items, values, end)]
    return [f"{name}[{k}]: {v}{end}" for k, v in zip(items, values)]


def _int_lines(name: str, items: list, values: list, end: str) -> str:
    """Many int keys and values: one `%` over a repeated template formats them in C (about
    twice as fast as an f-string per line on a 1,000,000-key map). Both lists come from
    ndarray.tolist(), so their first elements tell their types."""
    flat: list = [None] * (2 * len(items))
    flat[::2], flat[1::2] = items, values
    line = name.replace("%", "%%") + "[%d]: %d" + end.replace("%", "%%")
    return (line * len(items)) % tuple(flat)


def _headers(desc: dict, items: list) -> list[str]:
    if desc.get("key") is None:
        return [f"{desc['name']}:\n"] * len(items)
    return [f"{desc['name']}[{k}]:\n" for k in _as_list(items)]


def render_map(desc: dict, md: MapData, dialect: str, top: int = 0, div: int = 1,
               stack_text: StackText | None = None) -> str:
    """The text of one decoded map exactly as the dialect prints it (print(@m) or at exit).
    `stack_text` turns stack ids (keys or values of TypeDesc "stack") into text."""
    return join_parts(render_parts(desc, md, dialect, top, div, stack_text))


def render_parts(desc: dict, md: MapData, dialect: str, top: int = 0, div: int = 1,
                 stack_text: StackText | None = None) -> Parts:
    """render_map's text in parts, for writing piece by piece."""
    agg = desc.get("agg", "none")
    if dialect == "bpftrace" and agg == "stats":
        top = 0  # upstream v0.23 applies top to avg but not to stats
    md, items = _sorted(desc, md, dialect, top, stack_text)
    values = [] if agg in _HISTS else _values(desc, md, 1 if dialect == "btrace" else div,
                                              stack_text)
    if dialect == "btrace":
        out = _btrace(desc, md, items, values, agg)
    else:
        out = _bpftrace(desc, md, items, values, agg, div)
    return [out] if isinstance(out, str) else out


def _btrace(desc: dict, md: MapData, items: list, values: list, agg: str) -> str | Parts:
    if agg in _HISTS:
        lh = desc.get("lhist") if agg == "lhist" else None
        return "".join(h + H.btrace_hist(b, c, lh)
                       for h, (b, c) in zip(_headers(desc, items), md.hist))
    if agg == "stats" and md.count is not None:
        values = _stats_texts(md, values)
    if desc.get("key") is None and agg == "none":  # print(@x) of a plain global: the value
        return "".join(f"{v}\n" for v in _as_list(values))
    return _lines(desc, items, values, "\n")


def _bpftrace(desc: dict, md: MapData, items: list, values: list, agg: str,
              div: int) -> str | Parts:
    if agg in _HISTS:
        parts = [h + _bpftrace_hist_rows(desc, agg, b, c, div)
                 for h, (b, c) in zip(_headers(desc, items), md.hist)]
        return "\n".join(parts) + "\n"
    if agg == "stats":
        values = _stats_texts(md, values)
    tail = "\n\n" if agg in ("avg", "stats") else "\n"
    if (desc.get("value") or {}).get("k") == "stack":  # upstream adds no delimiter here
        return [*_lines(desc, items, values, ""), tail]
    if len(values) == 0:
        return tail
    return [*_lines(desc, items, values, "\n"), tail[1:]]


def _bpftrace_hist_rows(desc: dict, agg: str, buckets, counts, div: int) -> str:
    if agg == "hist":
        return H.bpftrace_hist(buckets, counts, int(desc.get("hist_bits") or 0), div)
    lo, hi, step = (int(x) for x in desc["lhist"])
    return H.bpftrace_lhist(buckets, counts, lo, hi, step)


def format_map(desc: dict, keys: np.ndarray, values: np.ndarray, dialect: str = "btrace",
               top: int = 0, div: int = 1, stack_text: StackText | None = None) -> str:
    """Decode the raw BPF_MAP_LOOKUP_BATCH arrays of one map and print it."""
    return join_parts(format_map_parts(desc, keys, values, dialect, top, div, stack_text))


def format_map_parts(desc: dict, keys: np.ndarray, values: np.ndarray, dialect: str = "btrace",
                     top: int = 0, div: int = 1, stack_text: StackText | None = None) -> Parts:
    """format_map's text in parts (str, and IntLines for big int maps: see int_text)."""
    md = decode_map(desc, keys, values, dialect)
    if dialect == "btrace" and len(md) == 0:
        return []
    return render_parts(desc, md, dialect, top, div, stack_text)
