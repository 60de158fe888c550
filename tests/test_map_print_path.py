"""The 1,000,000-key print path (issue 6): stopping probes without closing perf events,
the per-CPU delta walk of map_dump, the packed (key, value) sort and piecewise map text."""
import io
import os
import struct

import numpy as np
import pytest
from kernel import count_into_array, require_bpf

from btc.runtime import abi, attach, map_dump
from btc.runtime.events import EventSink
from btc.runtime.maps import MapHandle, MapSpec
from btc.runtime.output import format_map
from btc.runtime.output.int_text import IntLines, int_lines
from btc.runtime.output.sort import packed_sort
from btc.runtime.output.text import format_map_parts, join_parts
from btc.runtime.progs import ProgSpec, load_program
from btc.runtime.syscalls import close

INT_TYPES = [np.int8, np.uint8, np.int16, np.uint16, np.int32, np.uint32, np.int64, np.uint64]


def test_stop_detaches_at_once_and_close_releases_the_rest():
    require_bpf()
    counter = MapHandle.create(MapSpec("counter", abi.MapType.ARRAY, 4, 8, 1))
    fd = load_program(ProgSpec("t", abi.ProgType.TRACEPOINT, count_into_array(counter.fd)))
    try:
        att = attach.attach_tracepoint(fd, "syscalls", "sys_enter_getpid")
        assert len(att.links) == 1 and len(att.fds) == 2
        for _ in range(100):
            os.getpid()
        att.stop()
        assert att.links == [] and len(att.fds) == 1  # the perf event stays open
        n = struct.unpack("<q", counter.lookup(b"\0" * 4))[0]
        assert n >= 100
        for _ in range(1000):
            os.getpid()
        assert struct.unpack("<q", counter.lookup(b"\0" * 4))[0] - n < 1000  # not ours
        att.close()
        assert att.fds == []
    finally:
        close(fd)
        counter.close()


def test_per_cpu_walk_loads_with_the_delta_path():
    """The fast program must pass the verifier here (a silent fallback would hide a
    regression: dump() retries with one lookup per CPU slot)."""
    require_bpf()
    m = MapHandle.create(MapSpec("t", abi.MapType.PERCPU_HASH, 8, 8, 1000,
                                 abi.MapFlags.NO_PREALLOC))
    arrays = [MapHandle.create(MapSpec("d", abi.MapType.ARRAY, 4, w, 2100, abi.MapFlags.MMAPABLE))
              for w in (8, m.elem_size)]
    owned: list = [*arrays]
    try:
        cpus = map_dump._possible_cpus()
        fd = map_dump._load(*map_dump._program(m, arrays[0].fd, arrays[1].fd, cpus), owned)
        assert fd >= 0
        owned.append(map_dump._Fd(fd))
        for i in range(500):  # every CPU's slot differs: the deltas must pick the right one
            m.update(struct.pack("<Q", i), b"".join(struct.pack("<Q", i * 10 + c)
                                                    for c in range(m.ncpu)))
        assert map_dump._run(fd) == 500
        keys = map_dump._read(arrays[0], 8, 500).copy().view("<u8").reshape(-1)
        vals = map_dump._read(arrays[1], m.elem_size, 500).copy().view("<u8")
        assert sorted(keys.tolist()) == list(range(500))
        assert (vals == keys[:, None] * 10 + np.arange(m.ncpu)).all()
    finally:
        for obj in reversed(owned):
            obj.close()
        m.close()


def test_packed_sort_is_lexsort_on_unique_rows():
    rng = np.random.default_rng(5)
    used = 0
    for _ in range(200):
        n = int(rng.integers(2, 2000))
        kdt, vdt = (INT_TYPES[int(i)] for i in rng.integers(0, len(INT_TYPES), 2))
        ki, vi = np.iinfo(kdt), np.iinfo(vdt)
        keys = np.unique(rng.integers(ki.min, ki.max, n, dtype=kdt, endpoint=True))
        span = int(rng.integers(0, 1 << 20))
        lo = int(rng.integers(vi.min, max(int(vi.min), int(vi.max) - span), dtype=vdt,
                              endpoint=True))
        values = rng.integers(lo, min(lo + span, int(vi.max)), len(keys), dtype=vdt, endpoint=True)
        got = packed_sort([keys, values])
        if len(keys) < 2:
            assert got is None
            continue
        if got is not None:
            used += 1
            order = np.lexsort([keys, values])
            assert got[0].dtype == kdt and got[1].dtype == vdt
            assert got[0].tolist() == keys[order].tolist()
            assert got[1].tolist() == values[order].tolist()
    assert used > 100
    full = np.array([np.iinfo(np.int64).min, np.iinfo(np.int64).max], np.int64)
    assert packed_sort([np.array([1, 2], np.uint64), full]) is None


@pytest.mark.parametrize("agg", ["count", "sum", "min", "max", "none"])
@pytest.mark.parametrize("top", [0, 5, 10**6])
def test_int_pairs_fast_path_prints_as_before(agg, top):
    """bpftrace order through packed_sort == the generic order (lexsort of value, key)."""
    rng = np.random.default_rng(len(agg) + top)
    keys = np.unique(rng.integers(-(10**6), 10**6, 3000, dtype=np.int64))
    vals = rng.integers(-50, 50, (len(keys), 2)).astype(np.int64)
    slots = np.zeros((len(keys), 2, 16), np.uint8)
    words = slots.view("<i8")
    words[:, :, 0] = vals
    words[:, :, 1] = 1  # min/max: every slot set
    signed = agg in ("min", "max", "none")
    desc = {"name": "@m", "sym": "m", "agg": agg, "key_size": 8,
            "key": {"k": "int", "size": 8, "signed": True},
            "value": {"k": "int", "size": 8, "signed": signed}}
    kraw = keys.view(np.uint8).reshape(-1, 8)
    text = format_map(desc, kraw, slots if agg != "none" else slots[:, :1, :8], "bpftrace", top)
    if agg in ("count", "sum"):
        v = (vals.sum(axis=1)).astype(np.uint64).tolist()
    elif agg == "none":
        v = vals[:, 0].tolist()
    else:
        v = (vals.min(axis=1) if agg == "min" else vals.max(axis=1)).tolist()
    unsigned_sort = agg in ("min", "max", "count", "sum")
    rows = sorted(zip(keys.tolist(), v),
                  key=lambda kv: (kv[1] & (2**64 - 1) if unsigned_sort else kv[1],
                                  kv[0] & (2**64 - 1)))
    if 0 < top < len(rows):
        rows = rows[-top:]
    assert text == "".join(f"@m[{k}]: {x}\n" for k, x in rows)


@pytest.mark.parametrize("agg", ["count", "max", "none"])
@pytest.mark.parametrize("top", [0, 5])
def test_btrace_int_pairs_fast_path_prints_as_before(agg, top):
    """btrace: value descending, ties by key text (numeric order for keys of one width)."""
    rng = np.random.default_rng(len(agg) * 7 + top)
    keys = np.unique(rng.integers(10**9, 10**10 - 1, 3000, dtype=np.int64))
    vals = rng.integers(-5, 5, (len(keys), 2)).astype(np.int64)
    slots = np.zeros((len(keys), 2, 16), np.uint8)
    slots.view("<i8")[:, :, 0] = vals
    slots.view("<i8")[:, :, 1] = 1
    desc = {"name": "@m", "sym": "m", "agg": agg, "key_size": 8,
            "key": {"k": "int", "size": 8, "signed": True},
            "value": {"k": "int", "size": 8, "signed": agg != "count"}}
    raw = slots if agg != "none" else slots[:, :1, :8]
    text = format_map(desc, keys.view(np.uint8).reshape(-1, 8), raw, "btrace", top)
    v = {"count": (vals.sum(axis=1)).astype(np.uint64).tolist(), "max": vals.max(axis=1).tolist(),
         "none": vals[:, 0].tolist()}[agg]
    rows = sorted(zip(keys.tolist(), v), key=lambda kv: (-kv[1], str(kv[0])))
    if top:
        rows = rows[:top]
    assert text == "".join(f"@m[{k}]: {x}\n" for k, x in rows)


def test_int_lines_in_pieces_are_the_whole_text(monkeypatch):
    from btc.runtime.output import int_text

    monkeypatch.setattr(int_text, "CHUNK_ROWS", 7)
    keys = np.array([1, -22, 333, 10**15, 5, 0, -7, 8, 9, 10, 11, 12, 13, 14, 15], np.int64)
    vals = keys[::-1].copy()
    pieces = [bytes(p) for p in IntLines("@a[", keys, "]: ", vals, "\n")]
    assert len(pieces) == 3
    assert b"".join(pieces).decode() == int_lines("@a[", keys, "]: ", vals, "\n") == "".join(
        f"@a[{k}]: {v}\n" for k, v in zip(keys.tolist(), vals.tolist()))


@pytest.mark.parametrize("dialect", ["btrace", "bpftrace"])
def test_sink_writes_map_pieces_in_order(dialect, monkeypatch):
    from btc.runtime.output import int_text

    monkeypatch.setattr(int_text, "CHUNK_ROWS", 64)
    keys = np.arange(1000, dtype=np.int64) * 37
    counts = np.stack([keys % 5, keys % 3], axis=1).astype(np.int64)
    desc = {"name": "@m", "sym": "m", "agg": "count", "key_size": 8,
            "key": {"k": "int", "size": 8, "signed": True},
            "value": {"k": "int", "size": 8, "signed": False}}
    kraw, vraw = keys.view(np.uint8).reshape(-1, 8), counts.view(np.uint8).reshape(-1, 2, 8)
    want = format_map(desc, kraw, vraw, dialect)
    assert join_parts(format_map_parts(desc, kraw, vraw, dialect)) == want
    raw = io.BytesIO()
    out = io.TextIOWrapper(raw, encoding="utf-8", errors="surrogateescape")
    sink = EventSink({"maps": [], "events": {}}, dialect, out)
    sink.write("before\n")
    sink.write_parts(format_map_parts(desc, kraw, vraw, dialect))
    sink.write("after\n")
    sink.flush()
    assert raw.getvalue().decode() == "before\n" + want + "after\n"
    text_only = io.StringIO()  # no binary buffer underneath: the pieces go as text
    sink = EventSink({"maps": [], "events": {}}, dialect, text_only)
    sink.write_parts(format_map_parts(desc, kraw, vraw, dialect))
    assert text_only.getvalue() == want
