"""bpftrace `-f json` records (output-formats.md §8). Every function returns whole lines."""
from __future__ import annotations

import numpy as np

from . import hist as H
from .decode import MapData, column, decode_map, trunc_div, value_from_bytes
from .keys import key_texts
from .sort import map_order
from .symbolic import SymbolText, resolve
from .values import value_text

_ESC = {'"': '\\"', "\\": "\\\\", "\n": "\\n", "\r": "\\r", "\t": "\\t"}


def json_escape(text: str) -> str:
    out = []
    for ch in text:
        if ch in _ESC:
            out.append(_ESC[ch])
        elif ord(ch) < 0x20:
            out.append("\\u%04x" % ord(ch))
        else:
            out.append(ch)
    return "".join(out)


def _quote(text: str) -> str:
    return '"' + json_escape(text) + '"'


def json_value_text(td: dict | None, value) -> str:
    """A decoded value as JSON: numbers bare, strings quoted, tuples `[1,"a"]`."""
    if isinstance(value, bytes):
        return _quote(value.decode("utf-8", "surrogateescape"))
    if isinstance(value, tuple):
        fields = td["fields"] if td and td.get("k") == "tuple" else [None] * len(value)
        return "[" + ",".join(json_value_text(f["t"] if f else None, v)
                              for f, v in zip(fields, value)) + "]"
    return "" if value is None else str(value)


def json_message(kind: str, text: str) -> str:
    """printf / time / join / cat / syscall records."""
    return f'{{"type": "{kind}", "data": {_quote(text)}}}\n'


def json_value(td: dict, payload: bytes, sym: SymbolText | None = None) -> str:
    value = resolve(td, value_from_bytes(td, payload), sym)
    return f'{{"type": "value", "data": {json_value_text(td, value)}}}\n'


def json_counter(kind: str, field: str, value: int) -> str:
    return f'{{"type": "{kind}", "data": {{"{field}": {value}}}}}\n'


def json_lost_events(n: int) -> str:
    return json_counter("lost_events", "events", n)


def json_attached_probes(n: int) -> str:
    return json_counter("attached_probes", "probes", n)


def _entry_values(desc: dict, md: MapData, agg: str, div: int,
                  sym: SymbolText | None = None) -> list[str]:
    if agg == "hist":
        k = int(desc.get("hist_bits") or 0)
        return [H.bpftrace_hist_json(b, c, k, div) for b, c in md.hist]
    if agg == "lhist":
        lo, hi, step = (int(x) for x in desc["lhist"])
        return [H.bpftrace_lhist_json(b, c, lo, hi, step) for b, c in md.hist]
    if md.value is not None:
        v = md.value
        if div != 1:
            v = trunc_div(v, np.full(len(v), div, dtype=v.dtype))
        vals = list(map(str, v.tolist()))
        if agg == "stats":
            return [f'{{"count": {c}, "average": {a}, "total": {t}}}'
                    for c, a, t in zip(md.count.tolist(), vals, md.total.tolist())]
        return vals
    vtd = desc.get("value")
    return [json_value_text(vtd, resolve(vtd, o, sym)) for o in md.objects or []]


def json_map(desc: dict, keys: np.ndarray, values: np.ndarray, top: int = 0, div: int = 1,
             sym: SymbolText | None = None) -> str:
    """One map record (type map, hist or stats); an empty map gives "". `sym` turns
    stack/ksym/usym keys and values into text."""
    md = decode_map(desc, keys, values, "bpftrace")
    if len(md) == 0:
        return ""
    agg = desc.get("agg", "none")
    texts = key_texts(desc.get("key"), md.keys, sym)
    order = map_order(desc, md, "bpftrace", texts, 0 if agg == "stats" else top)
    md = md.take(order)
    vals = _entry_values(desc, md, agg, div, sym)
    kind = "hist" if agg in ("hist", "lhist") else "stats" if agg in ("avg", "stats") else "map"
    name = _quote(desc["name"])
    if desc.get("key") is None:
        body = ", ".join(vals)
    else:
        ktexts = _json_key_texts(desc["key"], md.keys, sym)
        body = "{" + ", ".join(f"{_quote(k)}: {v}" for k, v in zip(ktexts, vals)) + "}"
    return f'{{"type": "{kind}", "data": {{{name}: {body}}}}}\n'


def _json_key_texts(td: dict, keys: np.ndarray, sym: SymbolText | None = None) -> list[str]:
    """Key fields joined by "," (no space) inside one string."""
    texts = key_texts(td, keys, sym)
    if td["k"] != "tuple":
        return texts
    return [",".join(value_text(f["t"], x) for f, x in zip(td["fields"], resolve(td, row, sym)))
            for row in column(td, keys)]
