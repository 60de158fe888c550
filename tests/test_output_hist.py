"""Histogram label and row rules of both dialects (output-formats.md §3)."""
import numpy as np
import pytest

from btc.runtime.output import hist as H


@pytest.mark.parametrize("key, label", [
    (0, "[0]"), (1, "[0, 1)"), (2, "[1, 2)"), (4, "[2, 4)"), (1024, "[512, 1K)"),
    (2048, "[1K, 2K)"), (2**20, "[512K, 1M)"), (2**21, "[1M, 2M)"), (2**30, "[512M, 1G)"),
    (2**40, "[512G, 1T)"), (2**50, "[512T, 1P)"), (2**60, "[512P, 1E)"), (2**63, "[4E, 8E)"),
])
def test_btrace_hist_labels(key, label):
    assert H.btrace_hist_label(key) == label


def test_btrace_lhist_label():
    assert H.btrace_lhist_label(20, 10) == "[10, 20)"
    assert H.btrace_lhist_label(10, 10) == "[0, 10)"


@pytest.mark.parametrize("index, k, label", [
    (0, 0, "(..., 0)"), (1, 0, "[0]"), (2, 0, "[1]"), (3, 0, "[2, 4)"), (4, 0, "[4, 8)"),
    (11, 0, "[512, 1K)"), (12, 0, "[1K, 2K)"), (22, 0, "[1M, 2M)"), (32, 0, "[1G, 2G)"),
    (65, 0, "[8E, 16E)"),
    (4, 1, "[3]"), (5, 1, "[4, 6)"), (6, 1, "[6, 8)"), (7, 1, "[8, 12)"),
    (8, 2, "[7]"), (9, 2, "[8, 10)"), (12, 2, "[14, 16)"),
    (37, 2, "[1024, 1280)"), (44, 2, "[3584, 4K)"), (45, 2, "[4K, 5K)"),
])
def test_bpftrace_hist_labels(index, k, label):
    assert H.bpftrace_hist_label(index, k) == label


@pytest.mark.parametrize("index, lo, hi, step, label", [
    (0, 10, 30, 10, "(..., 10)"), (1, 10, 30, 10, "[10, 20)"), (3, 10, 30, 10, "[30, ...)"),
    (0, 0, 4096, 1024, "(..., 0)"), (1, 0, 4096, 1024, "[0, 1K)"), (2, 0, 4096, 1024, "[1K, 2K)"),
    (5, 0, 4096, 1024, "[4K, ...)"),
    (1, 0, 2 * 1048576, 1048576, "[0, 1M)"), (2, 0, 2 * 1048576, 1048576, "[1M, 2M)"),
    (1, 512, 4096, 1000, "[512, 1512)"),
    (1, 1024, 8192, 1000, "[1024, 2024)"),   # step % 1024 != 0: plain numbers
    (1, 1536, 9728, 2048, "[1536, 3584)"),   # step % 1024 == 0 but not multiples of 1024
])
def test_bpftrace_lhist_labels(index, lo, hi, step, label):
    assert H.bpftrace_lhist_label(index, lo, hi, step) == label


def test_bpftrace_bar_uses_float32():
    # 52 * 1/3 = 17.33 -> 17; float32 rounding matters for e.g. 7/7*52 = 52 exactly
    rows = H.bpftrace_rows(["a", "b", "c"], [1, 3, 7], [1, 3, 7])
    bars = [r.split("|")[1].rstrip() for r in rows.splitlines()]
    assert [len(b) for b in bars] == [int(np.float32(1) / np.float32(7) * np.float32(52)),
                                      int(np.float32(3) / np.float32(7) * np.float32(52)), 52]
    assert [len(b) for b in bars] == [7, 22, 52]


def test_btrace_row_columns():
    row = H.btrace_rows(["[1K, 2K)"], [123456])
    assert row == "[1K, 2K)      123456 |" + "@" * 52 + "|\n"
    assert row.index("6 |") + 1 == 20
    long_label = H.btrace_rows(["[512P, 1E)"], [12345678901234])
    assert long_label.startswith("[512P, 1E)12345678901234 |")


def test_bpftrace_dense_rows_fill_gaps_only_inside():
    text = H.bpftrace_hist(np.array([0, 3, 5], np.uint64), np.array([0, 2, 1], np.uint64), 0)
    labels = [line[:16].rstrip() for line in text.splitlines()]
    assert labels == ["[2, 4)", "[4, 8)", "[8, 16)"]


def test_bpftrace_negative_bucket():
    text = H.bpftrace_hist(np.array([0, 1], np.uint64), np.array([4, 2], np.uint64), 0)
    assert text.splitlines()[0] == f"{'(..., 0)':<16}{4:>8} |{'@' * 52}|"


def test_json_hist_rows():
    b = np.array([0, 1, 3, 11], np.uint64)
    c = np.array([1, 2, 0, 1], np.uint64)
    assert H.bpftrace_hist_json(b, c, 0) == (
        '[{"max": -1, "count": 1}, {"min": 0, "max": 0, "count": 2}, '
        '{"min": 1, "max": 1, "count": 0}, {"min": 2, "max": 3, "count": 0}, '
        '{"min": 4, "max": 7, "count": 0}, {"min": 8, "max": 15, "count": 0}, '
        '{"min": 16, "max": 31, "count": 0}, {"min": 32, "max": 63, "count": 0}, '
        '{"min": 64, "max": 127, "count": 0}, {"min": 128, "max": 255, "count": 0}, '
        '{"min": 256, "max": 511, "count": 0}, {"min": 512, "max": 1023, "count": 1}]')


def test_json_lhist_rows():
    b = np.array([0, 1, 3], np.uint64)
    c = np.array([1, 2, 2], np.uint64)
    assert H.bpftrace_lhist_json(b, c, 10, 30, 10) == (
        '[{"max": 9, "count": 1}, {"min": 10, "max": 19, "count": 2}, '
        '{"min": 20, "max": 29, "count": 0}, {"min": 30, "count": 2}]')
