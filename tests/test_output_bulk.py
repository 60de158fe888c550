"""Bulk map printing in numpy: decimal text of int columns (int_text) and the packed sort."""
import numpy as np
import pytest

from btc.runtime.output.int_text import int_field, int_lines, join_rows
from btc.runtime.output.sort import packed_order

INT_TYPES = [np.int8, np.uint8, np.int16, np.uint16, np.int32, np.uint32, np.int64, np.uint64]
LANDMARKS = [0, 1, 9, 10, 99, 100, 9999, 10000, 10**8 - 1, 10**8, 10**16 - 1, 10**16,
             -1, -9, -10, -10000, -(10**8)]


def _ref(prefix, keys, middle, values, suffix):
    return "".join(f"{prefix}{k}{middle}{v}{suffix}" for k, v in zip(keys.tolist(), values.tolist()))


@pytest.mark.parametrize("dt", INT_TYPES)
def test_int_lines_match_python_formatting(dt):
    info = np.iinfo(dt)
    rng = np.random.default_rng(int(info.bits) + int(info.min < 0))
    edge = [x for x in LANDMARKS + [info.min, info.max, info.min + 1, info.max - 1]
            if info.min <= x <= info.max]
    keys = rng.integers(info.min, info.max, 500, dtype=dt, endpoint=True)
    values = rng.integers(info.min, info.max, 500, dtype=dt, endpoint=True)
    keys[:len(edge)] = edge
    values[-len(edge):] = edge
    assert int_lines("@x[", keys, "]: ", values, "\n") == _ref("@x[", keys, "]: ", values, "\n")


@pytest.mark.parametrize("digits", range(1, 21))
def test_every_width_alone_and_mixed(digits):
    """Rows of one width take the no-compaction path; mixed widths the compaction."""
    lo, hi = 10 ** (digits - 1), min(10 ** digits - 1, 2 ** 64 - 1)
    same = np.array([lo, hi, lo], np.uint64)
    assert int_lines("", same, "=", same, ";") == _ref("", same, "=", same, ";")
    mixed = np.array([lo, 7, hi], np.uint64)
    assert int_lines("%s[", mixed, "]% ", same, "\n") == _ref("%s[", mixed, "]% ", same, "\n")


def test_non_ascii_text_and_empty_columns():
    keys = np.array([5, -12], np.int64)
    assert int_lines("@é[", keys, "]→ ", keys, "\udcff\n") == "@é[5]→ 5\udcff\n@é[-12]→ -12\udcff\n"
    empty = np.array([], np.int64)
    assert int_lines("@m[", empty, "]: ", empty, "\n") == ""
    assert join_rows([b"x", int_field(np.array([3, 40], np.uint8))]).tobytes() == b"x3x40"


def test_packed_order_is_lexsort():
    rng = np.random.default_rng(11)
    used = 0
    for _ in range(200):
        n = int(rng.integers(2, 2000))
        cols = []
        for _ in range(int(rng.integers(1, 4))):
            dt = INT_TYPES[int(rng.integers(0, len(INT_TYPES)))]
            info = np.iinfo(dt)
            span = int(rng.integers(0, min(1 << 18, int(info.max) - int(info.min))))
            lo = int(rng.integers(int(info.min), int(info.max) - span, dtype=dt, endpoint=True))
            cols.append(rng.integers(lo, lo + span, n, dtype=dt, endpoint=True))
        got = packed_order(cols)
        if got is not None:
            used += 1
            assert got.tolist() == np.lexsort(cols).tolist()
    assert used > 150


def test_packed_order_refuses_what_does_not_fit():
    full = np.array([np.iinfo(np.int64).min, 0, np.iinfo(np.int64).max], np.int64)
    assert packed_order([full]) is None
    assert packed_order([np.array([1.5, 0.5])]) is None
    assert packed_order([np.array([3], np.uint64)]) is None  # nothing to sort
    signed = np.array([-3, -1, 0, 2, -3, 1], np.int8)
    assert packed_order([signed]).tolist() == [0, 4, 1, 2, 5, 3]  # stable among equal keys


@pytest.mark.parametrize("dialect", ["btrace", "bpftrace"])
@pytest.mark.parametrize("low,high", [(10**12, 10**13 - 1), (0, 10**6), (-500, 500)])
def test_big_count_map_order_and_text(dialect, low, high):
    """btrace: value descending, ties by key text; bpftrace: value, ties by unsigned key."""
    from btc.runtime.output import format_map

    rng = np.random.default_rng(low & 0xFFFF)
    keys = np.unique(rng.integers(low, high, 3000, dtype=np.int64, endpoint=True))
    counts = rng.integers(0, 4, (len(keys), 2)).astype(np.int64)
    desc = {"name": "@m", "sym": "m", "agg": "count", "key_size": 8,
            "key": {"k": "int", "size": 8, "signed": True},
            "value": {"k": "int", "size": 8, "signed": False}}
    text = format_map(desc, keys.view(np.uint8).reshape(-1, 8),
                      counts.view(np.uint8).reshape(-1, 2, 8), dialect)
    rows = list(zip(keys.tolist(), counts.sum(axis=1).tolist()))
    if dialect == "btrace":
        rows.sort(key=lambda kv: (-kv[1], str(kv[0])))
    else:
        rows.sort(key=lambda kv: (kv[1], kv[0] & (2**64 - 1)))
    assert text == "".join(f"@m[{k}]: {v}\n" for k, v in rows)
