"""bpftrace -f json records: E9, separators, escaping, every record type."""
import numpy as np

from btc.runtime.output import (json_attached_probes, json_escape, json_lost_events, json_map,
                                json_message, json_value)
from test_output_support import (I64, STR16, arrays, desc, hist_rows, ikey, skey, words)


def test_e9_sequence():
    dc = desc("@c", "count", key=STR16, key_size=16)
    kc, vc = arrays([(skey("a"), [words(1)])], 16, 8)
    dh = desc("@h", "hist")
    kh, vh = arrays(hist_rows({4: 1}), 8, 8)
    text = (json_attached_probes(1) + json_message("printf", "hi 7\n") + "\n\n"
            + json_map(dc, kc, vc) + json_map(dh, kh, vh))
    assert text == (
        '{"type": "attached_probes", "data": {"probes": 1}}\n'
        '{"type": "printf", "data": "hi 7\\n"}\n'
        "\n\n"
        '{"type": "map", "data": {"@c": {"a": 1}}}\n'
        '{"type": "hist", "data": {"@h": [{"min": 4, "max": 7, "count": 1}]}}\n')


def test_escaping():
    assert json_escape('a"b\\c\nd\re\tf\x01g\x1fh') == 'a\\"b\\\\c\\nd\\re\\tf\\u0001g\\u001fh'
    assert json_message("time", '12:00:01\n') == '{"type": "time", "data": "12:00:01\\n"}\n'


def test_scalar_and_keyed_maps_in_text_order():
    dn = desc("@x", "none", key=None, key_size=4)
    k, v = arrays([(b"\0" * 4, [words(5)])], 4, 8)
    assert json_map(dn, k, v) == '{"type": "map", "data": {"@x": 5}}\n'
    dm = desc("@m", "count", key=STR16, key_size=16)
    k, v = arrays([(skey("b"), [words(2)]), (skey("a"), [words(1)])], 16, 8)
    assert json_map(dm, k, v) == '{"type": "map", "data": {"@m": {"a": 1, "b": 2}}}\n'
    assert json_map(dm, *arrays([], 16, 8)) == ""


def test_tuple_key_and_value_and_string_values():
    tup = {"k": "tuple", "size": 24, "fields": [{"off": 0, "t": STR16}, {"off": 16, "t": I64}]}
    d = desc("@t", "count", key=tup, key_size=24)
    k, v = arrays([(skey("bash") + ikey(2), [words(3)])], 24, 8)
    assert json_map(d, k, v) == '{"type": "map", "data": {"@t": {"bash,2": 3}}}\n'
    tv = {"k": "tuple", "size": 24, "fields": [{"off": 0, "t": I64}, {"off": 8, "t": STR16}]}
    ds = desc("@v", "none", key=None, key_size=4, value=tv, value_size=24)
    k, v = arrays([(b"\0" * 4, [ikey(1) + skey('a"')])], 4, 24)
    assert json_map(ds, k, v) == '{"type": "map", "data": {"@v": [1,"a\\""]}}\n'


def test_stats_avg_records():
    ds = desc("@s", "stats", key=None, key_size=4, value_size=16)
    k, v = arrays([(b"\0" * 4, [words(10, 1), words(20, 1)])], 4, 16)
    assert json_map(ds, k, v) == (
        '{"type": "stats", "data": {"@s": {"count": 2, "average": 15, "total": 30}}}\n')
    da = desc("@a", "avg", key=I64, value_size=16)
    k, v = arrays([(ikey(1), [words(10, 1), words(21, 1)])], 8, 16)
    assert json_map(da, k, v) == '{"type": "stats", "data": {"@a": {"1": 15}}}\n'


def test_keyed_hist_and_lhist_edges():
    d = desc("@h", "hist", key=STR16, key_size=24)
    k, v = arrays(hist_rows({0: 2}, skey("k1")) + hist_rows({1: 1, 2: 1}, skey("k2")), 24, 8)
    assert json_map(d, k, v) == (
        '{"type": "hist", "data": {"@h": {"k1": [{"max": -1, "count": 2}], '
        '"k2": [{"min": 0, "max": 0, "count": 1}, {"min": 1, "max": 1, "count": 1}]}}}\n')
    dl = desc("@l", "lhist", lhist=[10, 30, 10])
    k, v = arrays(hist_rows({0: 1, 3: 4}), 8, 8)
    assert json_map(dl, k, v) == (
        '{"type": "hist", "data": {"@l": [{"max": 9, "count": 1}, '
        '{"min": 10, "max": 19, "count": 0}, {"min": 20, "max": 29, "count": 0}, '
        '{"min": 30, "count": 4}]}}\n')


def test_value_and_counters():
    assert json_value(I64, ikey(-3)) == '{"type": "value", "data": -3}\n'
    assert json_value(STR16, skey("x\ty")) == '{"type": "value", "data": "x\\ty"}\n'
    tv = {"k": "tuple", "size": 24, "fields": [{"off": 0, "t": I64}, {"off": 8, "t": STR16}]}
    assert json_value(tv, ikey(1) + skey("a")) == '{"type": "value", "data": [1,"a"]}\n'
    assert json_lost_events(12) == '{"type": "lost_events", "data": {"events": 12}}\n'
    assert json_attached_probes(3) == '{"type": "attached_probes", "data": {"probes": 3}}\n'


def test_empty_hist_map_has_no_record():
    assert json_map(desc("@h", "hist"), np.zeros((0, 8), np.uint8),
                    np.zeros((0, 2, 8), np.uint8)) == ""
