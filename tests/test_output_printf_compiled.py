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


def _ring_records(desc: dict, rows: list[list], ident: int = 3) -> tuple[bytes, int, int]:
    """Ring-buffer records as the kernel lays them out: u32 length, u32 page offset, then the
    event (u32 kind, u32 id, arguments), each padded to 8 bytes."""
    out = []
    for values in rows:
        event = struct.pack("<II", 1, ident) + _payload(desc, values)
        out.append(struct.pack("<II", len(event), 0) + event.ljust((len(event) + 7) // 8 * 8, b"\0"))
    return b"".join(out), len(out[0]), struct.unpack_from("<I", out[0])[0]


@pytest.mark.parametrize("dialect", ["bpftrace", "btrace"])
@pytest.mark.parametrize("fmt", ["%d %s\n", "pid %d comm %s %%\n", "%u|%s", "%x %s", "%i%s",
                                 "%ld %.3s\n"])
@pytest.mark.parametrize("kind", [("int", 4, False), ("int", 8, True), ("int", 2, True)])
def test_batch_matches_per_event(dialect, fmt, kind):
    from btc.runtime.output.printf_compiled import compile_printf_batch

    desc, _ = _desc(fmt, [kind, ("str", 16)])
    bits = kind[1] * 8
    ints = [0, 1, -1 if kind[2] else (1 << bits) - 1, (1 << (bits - 1)) - 1, 42]
    rows = [[v, s] for v in ints for s in (b"", b"bash", b"\xff\xfe\0x", b"a" * 16)]
    data, stride, length = _ring_records(desc, rows)
    fn = compile_printf(desc, dialect)
    want = [fn(memoryview(data), i * stride + 16)[0] for i in range(len(rows))]
    batch = compile_printf_batch(desc, dialect, stride)
    if batch is None:  # conversions with a per-value check (width, hex, ...) take the per-event path
        assert fmt not in ("%d %s\n", "pid %d comm %s %%\n")
        return
    got = batch(memoryview(data), length, 1 | 3 << 32)
    assert [t.decode("utf-8", "surrogateescape") for t in got] == want


def test_batch_stops_at_a_different_record():
    from btc.runtime.output.printf_compiled import compile_printf_batch

    desc, _ = _desc("%d %s\n", [("int", 4, True), ("str", 16)])
    a, stride, length = _ring_records(desc, [[1, b"x"], [2, b"y"]])
    other, _, _ = _ring_records(desc, [[3, b"z"]], ident=4)  # another printf id
    busy = bytearray(a[:stride])
    busy[3] |= 0x80  # BPF_RINGBUF_BUSY_BIT: reserved, not committed
    batch = compile_printf_batch(desc, "bpftrace", stride)
    assert batch(memoryview(a + other + a), length, 1 | 3 << 32) == [b"1 x\n", b"2 y\n"]
    assert batch(memoryview(a + bytes(busy)), length, 1 | 3 << 32) == [b"1 x\n", b"2 y\n"]
    assert compile_printf_batch(desc, "bpftrace", stride - 8) is None  # record too short
