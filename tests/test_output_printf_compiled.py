"""The per-event printf formatter (printf_compiled) prints exactly what format_printf does."""
from __future__ import annotations

import struct

import pytest
from hypothesis import given, settings, strategies as st

from btc.runtime.output.printf import format_printf
from btc.runtime.output.printf_compiled import compile_printf


def _desc(fmt: str, kinds: list[tuple]) -> tuple[dict, str]:
    fields, off, codes = [], 0, "<"
    for kind in kinds:
        if kind[0] == "int":
            size, signed = kind[1], kind[2]
            off = (off + size - 1) // size * size
            fields.append({"off": off, "t": {"k": "int", "signed": signed, "size": size}})
            off += size
        else:
            fields.append({"off": off, "t": {"k": "str", "size": kind[1]}})
            off += kind[1]
    return {"fmt": fmt, "args": {"k": "tuple", "fields": fields, "size": (off + 7) // 8 * 8}}, codes


def _payload(desc: dict, values: list) -> bytes:
    if desc["args"] is None:
        return b""
    buf = bytearray(desc["args"]["size"])
    for f, v in zip(desc["args"]["fields"], values):
        t = f["t"]
        if t["k"] == "int":
            buf[f["off"]:f["off"] + t["size"]] = v.to_bytes(t["size"], "little", signed=t["signed"])
        else:
            buf[f["off"]:f["off"] + t["size"]] = v[:t["size"]].ljust(t["size"], b"\0")
    return bytes(buf)


def _same(desc: dict, values: list, dialect: str) -> None:
    payload = _payload(desc, values)
    want = format_printf(desc, payload, dialect)
    record = memoryview(b"\1\0\0\0\0\0\0\0" + payload)
    assert compile_printf(desc, dialect)(record, 8) == want


INTS = [("int", s, sg) for s in (1, 2, 4, 8) for sg in (False, True)]


@pytest.mark.parametrize("dialect", ["bpftrace", "btrace"])
@pytest.mark.parametrize("fmt", ["%d %s\n", "pid %d comm %s %%\n", "%u|%s", "%5d %-8s!",
                                 "%x %s", "%i%s", "a\\tb %d %s\n", "%ld %.3s\n"])
@pytest.mark.parametrize("kind", INTS)
@settings(max_examples=15, deadline=None)
@given(data=st.data())
def test_compiled_matches_general(dialect, fmt, kind, data):
    desc, _ = _desc(fmt, [kind, ("str", 16)])
    bits = kind[1] * 8
    lo, hi = (-(1 << (bits - 1)), (1 << (bits - 1)) - 1) if kind[2] else (0, (1 << bits) - 1)
    v = data.draw(st.integers(lo, hi))
    s = data.draw(st.binary(max_size=20))
    _same(desc, [v, s], dialect)


@pytest.mark.parametrize("dialect", ["bpftrace", "btrace"])
@pytest.mark.parametrize("fmt", ["no args\n", "%d\n", "%d %s %d\n", "%s é\n"])
def test_compiled_argument_counts(dialect, fmt):
    desc, _ = _desc(fmt, [("int", 4, True), ("str", 8)])
    _same(desc, [-7, b"\xff\xfeab"], dialect)
    desc, _ = _desc(fmt, [])
    desc["args"] = None
    _same(desc, [], dialect)


def test_compiled_is_used_for_common_formats():
    desc, _ = _desc("%d %s\n", [("int", 4, False), ("str", 16)])
    fn = compile_printf(desc, "bpftrace")
    assert fn.__name__ == "fn"  # the planned path, not the general fallback
    payload = memoryview(b"\0" * 8 + struct.pack("<I", 3_000_000_000) + b"cat".ljust(16, b"\0") + b"\0" * 4)
    assert fn(payload, 8) == ("-1294967296 cat\n", [])
