"""Decimal text of many integers at once, and `prefix{int}middle{int}suffix` lines from
columns of them, built in numpy (no Python int per value).

Why: a 1,000,000-key map printed through ndarray.tolist() and `%` spends ~0.3 s creating
and formatting 2,000,000 Python ints; digit blocks gathered from a 10,000-entry table into a
fixed-width byte matrix (one boolean compaction when widths differ) take ~0.1 s.
"""
from __future__ import annotations

import numpy as np

_P10 = np.array([10 ** i for i in range(20)], dtype=np.uint64)
# "0000".."9999" as little-endian u32 words: one gather yields four digit bytes
_QUADS = np.frombuffer(b"".join(b"%04d" % i for i in range(10000)), np.uint32)
_E8 = np.uint64(10 ** 8)


class Field:
    """Right-aligned decimal digits: `text` (n, width) u8 and each row's used `length`."""

    def __init__(self, text: np.ndarray, length: np.ndarray):
        self.text, self.length = text, length


def _split8(x: np.ndarray, idx: np.ndarray, col: int) -> None:
    """Values below 10**8 -> their two 4-digit halves in idx[:, col], idx[:, col + 1]."""
    x = x.astype(np.uint32)
    hi = x // np.uint32(10000)
    idx[:, col] = hi
    idx[:, col + 1] = x - hi * np.uint32(10000)


def _digits(mag: np.ndarray, ndig: int) -> np.ndarray:
    """u64 magnitudes -> (n, 4, 8, 16 or 20) u8 zero-padded digits covering `ndig` digits:
    4-digit groups first, then one gather from the table (faster than a gather per group)."""
    idx = np.empty((len(mag), 1 if ndig <= 4 else 2 if ndig <= 8 else 4 if ndig <= 16 else 5),
                   np.uint32)
    if ndig <= 4:
        idx[:, 0] = mag
    elif ndig <= 8:
        _split8(mag, idx, 0)
    else:
        upper = mag // _E8
        _split8(mag - upper * _E8, idx, idx.shape[1] - 2)
        if ndig <= 16:
            _split8(upper, idx, 0)
        else:
            top = upper // _E8
            _split8(upper - top * _E8, idx, 1)
            idx[:, 0] = top
    return _QUADS[idx].view(np.uint8)


def int_field(col: np.ndarray) -> Field:
    """Decimal text of every element of an integer column (C's %d / %u)."""
    neg = None
    if col.dtype.kind == "i":
        wide = col.astype(np.int64)
        if (wide < 0).any():
            neg = wide < 0
            mag = np.where(neg, -wide, wide).view(np.uint64)  # -INT64_MIN wraps to 2**63
        else:
            mag = wide.view(np.uint64)
    else:
        mag = col.astype(np.uint64, copy=False)
    low, high = (int(mag.min()), int(mag.max())) if len(mag) else (0, 0)
    ndig = len(str(high))
    if len(str(low)) == ndig:  # one width (common: counts, timestamps): no per-row lengths
        length = np.full(len(mag), ndig, np.intp)
    else:
        length = np.maximum(np.searchsorted(_P10, mag, side="right"), 1)
    text = _digits(mag, ndig)
    if neg is not None:
        length = length + neg
        if int(length.max()) > text.shape[1]:
            text = np.concatenate([np.full((len(text), 4), 48, np.uint8), text], axis=1)
        rows = np.flatnonzero(neg)
        text[rows, text.shape[1] - length[rows]] = ord("-")
    return Field(text, length)


def join_rows(parts: list) -> np.ndarray:
    """Row i of the result is the concatenation of parts: bytes constants, or Field i's text,
    as one C-contiguous u8 array. Every row is laid out at full width, then unused leading
    digits (if any row has some) are dropped with one boolean compaction."""
    fields = [p for p in parts if isinstance(p, Field)]
    n = len(fields[0].length)
    if n == 0:
        return np.zeros(0, np.uint8)
    texts = [np.frombuffer(p, np.uint8) if isinstance(p, bytes)
             else p.text[:, p.text.shape[1] - int(p.length.max()):] for p in parts]
    widths = [t.shape[-1] for t in texts]
    out = np.empty((n, sum(widths)), np.uint8)
    ragged: list = []  # (column, width, lengths) of fields whose rows differ in length
    pos = 0
    for p, t, w in zip(parts, texts, widths):
        out[:, pos:pos + w] = t
        if isinstance(p, Field) and int(p.length.min()) < w:
            ragged.append((pos, w, p.length))
        pos += w
    if not ragged:
        return out
    keep = np.ones(out.shape, bool)
    for pos, w, length in ragged:
        keep[:, pos:pos + w] = np.arange(w) >= (w - length)[:, None]
    return out[keep]


CHUNK_ROWS = 1 << 16  # rows per piece of IntLines: ~1.5 MB of text for 20-digit keys


class IntLines:
    """`prefix{key}middle{value}suffix` for every row (the texts may hold any characters),
    built a piece of CHUNK_ROWS rows at a time when iterated (bytes-like pieces). Why: a
    1,000,000-line map is ~22 MB; written piece by piece, the reader of a pipe consumes the
    first pieces while the next ones are formatted, instead of waiting for the whole text."""

    def __init__(self, prefix: str, keys: np.ndarray, middle: str, values: np.ndarray,
                 suffix: str):
        self.enc = [s.encode("utf-8", "surrogateescape") for s in (prefix, middle, suffix)]
        self.keys, self.values = keys, values

    def __iter__(self):
        pre, mid, suf = self.enc
        for lo in range(0, len(self.keys), CHUNK_ROWS):
            rows = slice(lo, lo + CHUNK_ROWS)
            raw = join_rows([pre, int_field(self.keys[rows]), mid, int_field(self.values[rows]),
                             suf])
            yield memoryview(raw).cast("B")

    def text(self) -> str:
        return str(b"".join(self), "utf-8", "surrogateescape")


def int_lines(prefix: str, keys: np.ndarray, middle: str, values: np.ndarray,
              suffix: str) -> str:
    """`prefix{key}middle{value}suffix` for every row, as one text."""
    return IntLines(prefix, keys, middle, values, suffix).text()
