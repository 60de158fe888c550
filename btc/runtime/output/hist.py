"""Histogram rows and labels for both dialects (output-formats.md §3)."""
from __future__ import annotations

import numpy as np

_SUFFIXES = "KMGTPE"
BAR = 52


def btrace_size_label(value: int) -> str:
    """btrace: divide by the largest of E, P, T, G, M, K (1024-based) that fits."""
    for power in range(len(_SUFFIXES), 0, -1):
        unit = 1024 ** power
        if value >= unit:
            return f"{value // unit}{_SUFFIXES[power - 1]}"
    return str(value)


def btrace_hist_label(key: int) -> str:
    if key == 0:
        return "[0]"
    return f"[{btrace_size_label(key // 2)}, {btrace_size_label(key)})"


def btrace_lhist_label(key: int, step: int) -> str:
    return f"[{key - step}, {key})"


def btrace_rows(labels: list[str], counts: list[int]) -> str:
    """btrace rows: count ends in column 20, bar = 52*count//max (empty bars if max is 0)."""
    top = max(counts, default=0)
    out = []
    for label, count in zip(labels, counts):
        bar = "@" * (BAR * count // top) if top else ""
        out.append(f"{label}{count:>{max(20 - len(label), 0)}} |{bar:<{BAR}}|\n")
    return "".join(out)


def btrace_hist(buckets: np.ndarray, counts: np.ndarray, lhist: list | None) -> str:
    """Rows for the buckets that exist, ascending by their (upper) key."""
    keys = [int(b) for b in buckets]
    if lhist is None:
        labels = [btrace_hist_label(k) for k in keys]
    else:
        labels = [btrace_lhist_label(k, int(lhist[2])) for k in keys]
    return btrace_rows(labels, [int(c) for c in counts])


def _hist_bound(index: int, k: int) -> str:
    n = 1 << k
    interval = index & (n - 1)
    power = (index >> k) - 1
    decade = power // 10
    value = (1 << (power - 10 * decade)) * (n + interval)
    return f"{value}{_SUFFIXES[decade - 1] if decade else ''}"


def bpftrace_hist_label(index: int, k: int = 0) -> str:
    if index == 0:
        return "(..., 0)"
    if index <= (2 << k):
        return f"[{index - 1}]"
    return f"[{_hist_bound(index - 1, k)}, {_hist_bound(index, k)})"


def bpftrace_lhist_number(number: int, step: int) -> str:
    if step % 1024 != 0 or number == 0:
        return str(number)
    if number % (1024 * 1024) == 0:
        return f"{number // (1024 * 1024)}M"
    if number % 1024 == 0:
        return f"{number // 1024}K"
    return str(number)


def bpftrace_lhist_label(index: int, lo: int, hi: int, step: int) -> str:
    last = (hi - lo) // step + 1
    if index == 0:
        return f"(..., {bpftrace_lhist_number(lo, step)})"
    if index == last:
        return f"[{bpftrace_lhist_number(hi, step)}, ...)"
    return (f"[{bpftrace_lhist_number(lo + (index - 1) * step, step)}, "
            f"{bpftrace_lhist_number(lo + index * step, step)})")


def dense(buckets: np.ndarray, counts: np.ndarray) -> tuple[int, list[int], int]:
    """(first non-zero index, dense counts up to the last non-zero, max count)."""
    nz = [(int(b), int(c)) for b, c in zip(buckets, counts) if int(c) > 0]
    if not nz:
        return 0, [], 0
    first, last = nz[0][0], nz[-1][0]
    table = dict(nz)
    return first, [table.get(i, 0) for i in range(first, last + 1)], max(table.values())


def _bpftrace_bar(count: int, top: int) -> str:
    width = int(np.float32(count) / np.float32(top) * np.float32(BAR))
    return "@" * width


def bpftrace_rows(labels: list[str], counts: list[int], shown: list[int]) -> str:
    top = max(counts, default=0)
    return "".join(f"{label:<16}{s:>8} |{_bpftrace_bar(c, top):<{BAR}}|\n"
                   for label, c, s in zip(labels, counts, shown))


def bpftrace_hist(buckets, counts, k: int, div: int = 1) -> str:
    first, dcounts, _ = dense(buckets, counts)
    labels = [bpftrace_hist_label(first + i, k) for i in range(len(dcounts))]
    return bpftrace_rows(labels, dcounts, [c // div for c in dcounts])


def bpftrace_lhist(buckets, counts, lo: int, hi: int, step: int) -> str:
    first, dcounts, _ = dense(buckets, counts)
    labels = [bpftrace_lhist_label(first + i, lo, hi, step) for i in range(len(dcounts))]
    return bpftrace_rows(labels, dcounts, dcounts)


def _json_bound(index: int, k: int) -> int:
    n = 1 << k
    return (1 << ((index >> k) - 1)) * (n + (index & (n - 1)))


def bpftrace_hist_json(buckets, counts, k: int, div: int = 1) -> str:
    first, dcounts, _ = dense(buckets, counts)
    rows = []
    for i, c in enumerate(dcounts, first):
        if i == 0:
            head = '"max": -1, '
        elif i <= (2 << k):
            head = f'"min": {i - 1}, "max": {i - 1}, '
        else:
            head = f'"min": {_json_bound(i - 1, k)}, "max": {_json_bound(i, k) - 1}, '
        rows.append("{" + head + f'"count": {c // div}' + "}")
    return "[" + ", ".join(rows) + "]"


def bpftrace_lhist_json(buckets, counts, lo: int, hi: int, step: int) -> str:
    first, dcounts, _ = dense(buckets, counts)
    last = (hi - lo) // step + 1
    rows = []
    for i, c in enumerate(dcounts, first):
        if i == 0:
            head = f'"max": {lo - 1}, '
        elif i == last:
            head = f'"min": {hi}, '
        else:
            head = f'"min": {(i - 1) * step + lo}, "max": {i * step + lo - 1}, '
        rows.append("{" + head + f'"count": {c}' + "}")
    return "[" + ", ".join(rows) + "]"
