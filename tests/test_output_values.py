"""print() of non-map values (E6) and time() formatting."""
import os
import time

import pytest

from btc.runtime.output import format_time, format_value
from test_output_support import I64, ikey, skey

TUP = {"k": "tuple", "size": 24, "fields": [{"off": 0, "t": I64}, {"off": 8, "t": {"k": "str", "size": 16}}]}


@pytest.mark.parametrize("dialect", ["btrace", "bpftrace"])
def test_e6_print_values(dialect):
    out = (format_value(TUP, ikey(1) + skey("x"), dialect)
           + format_value({"k": "str", "size": 16}, skey("x"), dialect)
           + format_value(I64, ikey(42), dialect))
    assert out == "(1, x)\nx\n42\n"


def test_nested_tuple_and_small_ints():
    nested = {"k": "tuple", "size": 32, "fields": [{"off": 0, "t": I64}, {"off": 8, "t": TUP}]}
    assert format_value(nested, ikey(1) + ikey(2) + skey("y"), "bpftrace") == "(1, (2, y))\n"
    u8 = {"k": "int", "size": 1, "signed": False}
    s16 = {"k": "int", "size": 2, "signed": True}
    assert format_value(u8, b"\xff", "btrace") == "255\n"
    assert format_value(s16, b"\xfe\xff", "btrace") == "-2\n"
    assert format_value({"k": "none"}, b"", "btrace") == "\n"


@pytest.fixture
def utc():
    old = os.environ.get("TZ")
    os.environ["TZ"] = "UTC"
    time.tzset()
    yield
    if old is None:
        del os.environ["TZ"]
    else:
        os.environ["TZ"] = old
    time.tzset()


def test_time_btrace_uses_event_time(utc):
    ns = (12 * 3600 + 1) * 10**9
    assert format_time("%H:%M:%S", "btrace", event_ns=ns) == ("12:00:01", [])


def test_time_bpftrace_default_format(utc):
    assert format_time(None, "bpftrace", now=3600 * 13 + 61) == ("13:01:01\n", [])
    assert format_time("%Y", "bpftrace", now=0) == ("1970", [])


def test_time_64_byte_cap(utc):
    assert format_time("x" * 63, "btrace", event_ns=0) == ("x" * 63, [])
    assert format_time("x" * 64, "btrace", event_ns=0) == ("", [])
    assert format_time("%Y" * 16, "bpftrace", now=0) == ("", ["ERROR: strftime returned 0"])


def test_stack_map_entry_both_dialects():
    from btc.runtime.output import Frame, attach_banner, format_map, format_stack, lost_events_text
    from test_output_support import arrays, desc, words
    frames = [Frame(0xffff0001, "f", 0x1f), Frame(0xffff0002, "g", 0x22)]
    d = desc("@", "count", key={"k": "stack", "kind": "kernel"})
    k, v = arrays([(ikey(3), [words(42)])], 8, 8)
    text = {dia: format_map(d, k, v, dia, stack_text=lambda i, kind, dia=dia:
                            format_stack(frames, kind, dia)) for dia in ("btrace", "bpftrace")}
    assert text["btrace"] == "@[\nf+0x1f\ng+0x22\nkernel\n]: 42\n"
    assert text["bpftrace"] == "@[\n        f+31\n        g+34\n]: 42\n"
    assert format_stack([Frame(0x10), Frame(0x20, "h", 0)], "user", "btrace") == "\n0x10\nh\nuserland\n"
    assert format_stack([], "kernel", "btrace") == "\nuserland\n"
    assert format_stack([Frame(0xab)], "user", "bpftrace") == "\n        0xab\n"
    assert lost_events_text(3) == "Lost 3 events\n"
    assert attach_banner(1) == "Attaching 1 probe...\n"
    assert attach_banner(2) == "Attaching 2 probes...\n"


def test_stack_values_in_btrace_map():
    from btc.runtime.output import format_map
    from test_output_support import arrays, desc, words
    d = desc("@s", "none", key=I64, value={"k": "stack", "kind": "user"})
    k, v = arrays([(ikey(1), [words(9)]), (ikey(2), [words(8)])], 8, 8)
    got = format_map(d, k, v, "btrace", stack_text=lambda i, kind: f"<{kind} {i}>")
    assert got == "@s[1]: <user 9>\n@s[2]: <user 8>\n"
