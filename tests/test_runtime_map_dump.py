"""map_dump (a BPF program walking a hash map) reads what BPF_MAP_LOOKUP_BATCH reads."""
import struct

import numpy as np
import pytest
from kernel import require_bpf

from btc.runtime import abi, map_dump
from btc.runtime.maps import DUMP_MIN_ENTRIES, MapHandle, MapSpec


@pytest.fixture
def make_map():
    require_bpf()
    made = []

    def make(map_type, key_size, value_size, max_entries, flags=0):
        m = MapHandle.create(MapSpec("t", map_type, key_size, value_size, max_entries, flags))
        made.append(m)
        return m

    yield make
    for m in made:
        m.close()


def _fill(m: MapHandle, n: int) -> None:
    for i in range(n):
        key = struct.pack("<q", i * 7919 - 50).ljust(m.key_size, b"k")[:m.key_size]
        # per-CPU slots are padded to 8 bytes; a program never sees (or sets) the padding
        value = b"".join(bytes((i + c + j) % 251 for j in range(m.value_size)).ljust(m.slot_size, b"\0")
                         for c in range(m.ncpu))
        m.update(key, value)


def _sorted_rows(keys: np.ndarray, values: np.ndarray):
    rows = sorted(zip(map(bytes, keys), map(bytes, values.reshape(len(values), -1))))
    return [k for k, _ in rows], [v for _, v in rows]


@pytest.mark.parametrize("map_type", [abi.MapType.HASH, abi.MapType.PERCPU_HASH])
@pytest.mark.parametrize("key_size,value_size", [(8, 8), (4, 12), (20, 16), (3, 1)])
def test_dump_matches_batch(make_map, map_type, key_size, value_size):
    m = make_map(map_type, key_size, value_size, 5000)
    _fill(m, 3000)
    dumped = map_dump.dump(m)
    assert dumped is not None
    keys, values = m._shape(*dumped)
    bkeys, bvalues = m._shape(*m._batch(False))
    assert keys.shape == (3000, key_size) and values.shape == bvalues.shape
    assert _sorted_rows(keys, values) == _sorted_rows(bkeys, bvalues)


def test_dump_of_an_empty_map(make_map):
    m = make_map(abi.MapType.PERCPU_HASH, 8, 8, 100)
    keys, values = map_dump.dump(m)
    assert keys.shape == (0, 8) and len(values) == 0


def test_dump_declines_what_it_cannot_walk(make_map):
    assert map_dump.dump(make_map(abi.MapType.ARRAY, 4, 8, 10)) is None
    assert not map_dump.usable(make_map(abi.MapType.HASH, 8, 1 << 16, 2))  # offsets > s16
    big = MapSpec("t", abi.MapType.HASH, 8, 8, 10_000_000, abi.MapFlags.NO_PREALLOC)
    assert not map_dump.usable(MapHandle(-1, big))  # 160 MB of arrays for a maybe-empty map


def test_big_maps_read_through_the_dump(make_map, monkeypatch):
    m = make_map(abi.MapType.PERCPU_HASH, 8, 8, DUMP_MIN_ENTRIES)
    _fill(m, 1000)
    calls = []
    real = map_dump.dump
    monkeypatch.setattr(map_dump, "dump", lambda h, prepared=None: calls.append(h) or real(h, prepared))
    keys, values = m.lookup_batch()
    assert calls == [m] and keys.shape == (1000, 8) and values.shape[:2] == (1000, m.ncpu)
    assert _sorted_rows(keys, values) == _sorted_rows(*m._shape(*m._batch(False)))
    m.lookup_batch(delete=True)  # read-and-delete keeps the batch command
    assert calls == [m] and m.keys() == []


def test_prepared_walk_is_used_up(make_map):
    """A run prepares the walk while its probes detach, then reads with it once."""
    m = make_map(abi.MapType.PERCPU_HASH, 8, 8, 2000)
    _fill(m, 300)
    prepared = map_dump.prepare(m)
    assert prepared is not None and prepared.owned
    keys, values = m.lookup_batch(prepared=prepared)
    assert prepared.owned == [] and keys.shape == (300, 8)
    assert _sorted_rows(keys, values) == _sorted_rows(*m._shape(*m._batch(False)))
