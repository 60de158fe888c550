"""Map printing in both dialects: worked examples E1-E5, sort orders, top/div, blank lines."""

import numpy as np

from btc.runtime.output import decode_map, format_map
from test_output_support import (I64, STR16, U64, arrays, desc, hist_rows, ikey, skey,
                                 words)


def _count_abc():
    d = desc("@m", "count", key=STR16, key_size=16)
    k, v = arrays([(skey("a"), [words(1), words(1)]), (skey("b"), [words(1), words(0)]),
                   (skey("c"), [words(0), words(2)])], 16, 8)
    return d, k, v


def test_e1_btrace_value_descending_ties_by_key():
    d, k, v = _count_abc()
    assert format_map(d, k, v, "btrace") == "@m[a]: 2\n@m[c]: 2\n@m[b]: 1\n"


def test_e2_bpftrace_ascending_and_scalar():
    d, k, v = _count_abc()
    assert format_map(d, k, v, "bpftrace") == "@m[b]: 1\n@m[a]: 2\n@m[c]: 2\n"
    dn = desc("@n", "none", key=None, key_size=4)
    kn, vn = arrays([(b"\0" * 4, [words(5)])], 4, 8)
    assert format_map(dn, kn, vn, "bpftrace") == "@n: 5\n"
    assert format_map(dn, kn, vn, "btrace") == "5\n"


def test_btrace_unkeyed_aggregation_is_named_but_plain_scalar_is_not():
    dc = desc("@c", "count", key=None, key_size=4)
    kc, vc = arrays([(b"\0" * 4, [words(4), words(7)])], 4, 8)
    assert format_map(dc, kc, vc, "btrace") == "@c: 11\n"
    dn = desc("@n", "none", key=None, key_size=4)
    kn, vn = arrays([(b"\0" * 4, [words(5)])], 4, 8)
    assert format_map(dn, kn, vn, "btrace") == "5\n"


def test_e3_hist_both_dialects():
    d = desc("@h", "hist")
    k, v = arrays(hist_rows({1: 1, 2: 1, 4: 2, 11: 1}), 8, 8)
    bar26, bar52, empty = "@" * 26 + " " * 26, "@" * 52, " " * 52
    rows = [("[0]", 1, bar26), ("[1]", 1, bar26), ("[2, 4)", 0, empty), ("[4, 8)", 2, bar52)]
    rows += [(f"[{lo}, {hi})", 0, empty) for lo, hi in
             [(8, 16), (16, 32), (32, 64), (64, 128), (128, 256), (256, 512)]]
    rows += [("[512, 1K)", 1, bar26)]
    want = "@h:\n" + "".join(f"{a:<16}{b:>8} |{c}|\n" for a, b, c in rows) + "\n"
    assert format_map(d, k, v, "bpftrace") == want
    k, v = arrays(hist_rows({0: 1, 1: 1, 8: 2, 1024: 1}), 8, 8)
    assert format_map(d, k, v, "btrace") == (
        "@h:\n"
        "[0]                1 |@@@@@@@@@@@@@@@@@@@@@@@@@@                          |\n"
        "[0, 1)             1 |@@@@@@@@@@@@@@@@@@@@@@@@@@                          |\n"
        "[4, 8)             2 |@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@|\n"
        "[512, 1K)          1 |@@@@@@@@@@@@@@@@@@@@@@@@@@                          |\n")


def test_e4_lhist_both_dialects():
    d = desc("@l", "lhist", lhist=[10, 30, 10])
    k, v = arrays(hist_rows({0: 1, 1: 2, 3: 2}), 8, 8)
    assert format_map(d, k, v, "bpftrace") == (
        "@l:\n"
        "(..., 10)              1 |@@@@@@@@@@@@@@@@@@@@@@@@@@                          |\n"
        "[10, 20)               2 |@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@|\n"
        "[20, 30)               0 |                                                    |\n"
        "[30, ...)              2 |@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@|\n"
        "\n")
    k, v = arrays(hist_rows({20: 2, 40: 1}), 8, 8)
    assert format_map(d, k, v, "btrace") == (
        "@l:\n"
        "[10, 20)           2 |@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@|\n"
        "[30, 40)           1 |@@@@@@@@@@@@@@@@@@@@@@@@@@                          |\n")


def test_e5_stats_and_avg_bpftrace():
    ds = desc("@s", "stats", key_size=4, value_size=16)
    k, v = arrays([(b"\0" * 4, [words(10, 1), words(20, 1)])], 4, 16)
    assert format_map(ds, k, v, "bpftrace") == "@s: count 2, average 15, total 30\n\n"
    da = desc("@a", "avg", key_size=4, value_size=16)
    k, v = arrays([(b"\0" * 4, [words(10, 1), words(21, 1)])], 4, 16)
    assert format_map(da, k, v, "bpftrace") == "@a: 15\n\n"


def test_avg_truncates_toward_zero_for_signed():
    da = desc("@a", "avg", key=I64, value_size=16)
    k, v = arrays([(ikey(1), [words(-7, 2)]), (ikey(2), [words(7, 2)])], 8, 16)
    assert format_map(da, k, v, "bpftrace") == "@a[1]: -3\n@a[2]: 3\n\n"


def test_bpftrace_empty_maps():
    d = desc("@m", "count", key=I64)
    k, v = arrays([], 8, 8)
    assert format_map(d, k, v, "bpftrace") == "\n"
    assert format_map(d, k, v, "btrace") == ""
    assert format_map(desc("@s", "stats", key=I64, value_size=16), k,
                      np.zeros((0, 1, 16), np.uint8), "bpftrace") == "\n\n"
    assert format_map(desc("@h", "hist"), k, v, "bpftrace") == "\n"


def test_bpftrace_keyed_hist_blank_line_after_each_key_sorted_by_total():
    d = desc("@h", "hist", key=I64, key_size=16)
    rows = hist_rows({2: 3}, ikey(7)) + hist_rows({1: 1}, ikey(5))
    k, v = arrays(rows, 16, 8)
    bar = "@" * 52
    assert format_map(d, k, v, "bpftrace") == (
        f"@h[5]:\n{'[0]':<16}{1:>8} |{bar}|\n\n@h[7]:\n{'[1]':<16}{3:>8} |{bar}|\n\n")


def test_hist_all_zero_counts():
    d = desc("@h", "hist")
    k, v = arrays(hist_rows({4: 0, 8: 0}), 8, 8)
    assert format_map(d, k, v, "btrace") == (
        "@h:\n[2, 4)             0 |" + " " * 52 + "|\n[4, 8)             0 |" + " " * 52 + "|\n")
    assert format_map(d, k, v, "bpftrace") == "@h:\n\n"


def test_unnamed_map_and_multi_key():
    tup = {"k": "tuple", "size": 24, "fields": [{"off": 0, "t": I64}, {"off": 8, "t": STR16}]}
    d = desc("@", "count", key=tup, key_size=24)
    k, v = arrays([(ikey(3) + skey("abc"), [words(1)]), (ikey(42) + skey("sshd"), [words(7)])],
                  24, 8)
    assert format_map(d, k, v, "btrace") == "@[42, sshd]: 7\n@[3, abc]: 1\n"
    assert format_map(d, k, v, "bpftrace") == "@[3, abc]: 1\n@[42, sshd]: 7\n"


def test_btrace_ties_use_key_string_order():
    d = desc("@m", "count", key=I64)
    keys = [10, 9, -1, 100, 2, -20]
    k, v = arrays([(ikey(x), [words(1)]) for x in keys], 8, 8)
    got = format_map(d, k, v, "btrace").splitlines()
    assert got == [f"@m[{x}]: 1" for x in sorted(keys, key=str)]


def test_bpftrace_ties_and_key_order():
    d = desc("@m", "none", key=I64, value=STR16, value_size=16)
    k, v = arrays([(ikey(x), [skey(s)]) for x, s in [(3, "z"), (1, "y"), (2, "x")]], 8, 16)
    # non-integer values sort by key
    assert format_map(d, k, v, "bpftrace") == "@m[1]: y\n@m[2]: x\n@m[3]: z\n"
    # btrace: string values descending
    assert format_map(d, k, v, "btrace") == "@m[3]: z\n@m[1]: y\n@m[2]: x\n"


def test_string_key_cut_at_nul():
    d = desc("@m", "count", key=STR16, key_size=16)
    k, v = arrays([(b"ab\0garbage\0\0\0\0\0\0", [words(4)])], 16, 8)
    assert format_map(d, k, v, "bpftrace") == "@m[ab]: 4\n"


def test_top_n_per_dialect():
    d = desc("@m", "count", key=I64)
    k, v = arrays([(ikey(i), [words(i * 10)]) for i in range(1, 6)], 8, 8)
    assert format_map(d, k, v, "btrace", top=2) == "@m[5]: 50\n@m[4]: 40\n"
    assert format_map(d, k, v, "bpftrace", top=2) == "@m[4]: 40\n@m[5]: 50\n"


def test_div_bpftrace():
    d = desc("@m", "sum", key=I64)
    k, v = arrays([(ikey(1), [words(-7)]), (ikey(2), [words(25)])], 8, 8)
    assert format_map(d, k, v, "bpftrace", div=10) == "@m[1]: 0\n@m[2]: 2\n"
    ds = desc("@s", "stats", key=None, key_size=4, value_size=16)
    k, v = arrays([(b"\0" * 4, [words(300, 3)])], 4, 16)
    assert format_map(ds, k, v, "bpftrace", div=10) == "@s: count 3, average 10, total 300\n\n"
    dh = desc("@h", "hist")
    k, v = arrays(hist_rows({1: 20, 2: 40}), 8, 8)
    assert format_map(dh, k, v, "bpftrace", div=10) == (
        f"@h:\n{'[0]':<16}{2:>8} |{'@' * 26:<52}|\n{'[1]':<16}{4:>8} |{'@' * 52}|\n\n")


def test_min_max_percpu_isset():
    dmin = desc("@m", "min", key=I64, value_size=16)
    # CPU 0 never set (isset 0, value 0) -> ignored by bpftrace, counted by btrace.
    k, v = arrays([(ikey(1), [words(0, 0), words(5, 1), words(7, 1)])], 8, 16)
    assert format_map(dmin, k, v, "bpftrace") == "@m[1]: 5\n"
    assert format_map(dmin, k, v, "btrace") == "@m[1]: 0\n"
    dmax = desc("@m", "max", key=I64, value_size=16)
    k, v = arrays([(ikey(1), [words(-9, 1), words(0, 0), words(-3, 1)])], 8, 16)
    assert format_map(dmax, k, v, "bpftrace") == "@m[1]: -3\n"


def test_bpftrace_min_sorted_unsigned():
    d = desc("@m", "min", key=I64, value_size=16)
    k, v = arrays([(ikey(1), [words(-1, 1)]), (ikey(2), [words(5, 1)])], 8, 16)
    assert format_map(d, k, v, "bpftrace") == "@m[2]: 5\n@m[1]: -1\n"


def test_unsigned_sum_and_keys():
    d = desc("@m", "sum", key=U64, value=U64)
    k, v = arrays([(ikey(2**64 - 1, signed=False), [words(-1)])], 8, 8)
    assert format_map(d, k, v, "bpftrace") == \
        "@m[18446744073709551615]: 18446744073709551615\n"


def test_tuple_value_and_nested():
    inner = {"k": "tuple", "size": 24, "fields": [{"off": 0, "t": I64}, {"off": 8, "t": STR16}]}
    tup = {"k": "tuple", "size": 32, "fields": [{"off": 0, "t": I64}, {"off": 8, "t": inner}]}
    d = desc("@t", "none", key=None, key_size=4, value=tup, value_size=32)
    k, v = arrays([(b"\0" * 4, [ikey(1) + ikey(2) + skey("y")])], 4, 32)
    assert format_map(d, k, v, "bpftrace") == "@t: (1, (2, y))\n"
    assert format_map(d, k, v, "btrace") == "(1, (2, y))\n"


def test_decode_map_hist_groups_by_user_key():
    d = desc("@h", "hist", key=I64, key_size=16)
    k, v = arrays(hist_rows({3: 1, 1: 2}, ikey(9)) + hist_rows({2: 5}, ikey(4)), 16, 8)
    md = decode_map(d, k, v, "bpftrace")
    got = {int(np.frombuffer(md.keys[i].tobytes(), "<i8")[0]):
           (b.tolist(), c.tolist()) for i, (b, c) in enumerate(md.hist)}
    assert got == {9: ([1, 3], [2, 1]), 4: ([2], [5])}
    assert sorted(md.value.tolist()) == [3, 5]


def test_bpftrace_stack_like_value_has_no_delimiter():
    d = desc("@m", "none", key=I64, value={"k": "stack", "kind": "kernel"})
    k, v = arrays([(ikey(1), [words(5)]), (ikey(2), [words(6)])], 8, 8)
    assert format_map(d, k, v, "bpftrace") == "@m[1]: 5@m[2]: 6\n"
