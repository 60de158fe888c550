"""Maps against the real kernel: every kind btc uses, element ops, batch reads into numpy."""
import struct

import numpy as np
import pytest
from kernel import require_bpf

from btc.diagnostics import BtcError
from btc.runtime import abi
from btc.runtime.cpus import parse_cpu_list, possible_cpu_count
from btc.runtime.maps import MapHandle, MapSpec
from btc.runtime.syscalls import SyscallError


@pytest.fixture
def make_map():
    require_bpf()
    made = []

    def make(map_type, key_size, value_size, max_entries, flags=0, name="t"):
        m = MapHandle.create(MapSpec(name, map_type, key_size, value_size, max_entries, flags))
        made.append(m)
        return m

    yield make
    for m in made:
        m.close()


def q(v: int) -> bytes:
    return struct.pack("<q", v)


def test_parse_cpu_list():
    assert parse_cpu_list("0-1,4,6-7\n") == [0, 1, 4, 6, 7]
    assert parse_cpu_list("0") == [0]


@pytest.mark.parametrize("map_type", [abi.MapType.HASH, abi.MapType.ARRAY, abi.MapType.PERCPU_HASH,
                                      abi.MapType.PERCPU_ARRAY, abi.MapType.LRU_HASH,
                                      abi.MapType.LRU_PERCPU_HASH])
def test_each_kind_update_lookup(make_map, map_type):
    m = make_map(map_type, 4, 12, 16, name=f"k{int(map_type)}")
    key = struct.pack("<I", 3)
    value = bytes(range(12))
    if m.percpu:
        assert m.elem_size == 16 * possible_cpu_count()
        value = b"".join(bytes(range(12)) + b"\0" * 4 for _ in range(m.ncpu))
    m.update(key, value)
    assert m.lookup(key) == value
    keys, vals = m.lookup_batch()
    assert keys.shape[1] == 4 and vals.shape[1:] == (m.ncpu, 16)
    row = [i for i in range(len(keys)) if bytes(keys[i]) == key][0]
    assert bytes(vals[row, 0, :12]) == bytes(range(12))


def test_stack_trace_and_ringbuf_create(make_map):
    make_map(abi.MapType.STACK_TRACE, 4, 8 * 127, 128, name="stacks")
    make_map(abi.MapType.RINGBUF, 0, 0, 4096 * 4, name="events")


def test_percpu_hash_batch_sums(make_map):
    ncpu = possible_cpu_count()
    m = make_map(abi.MapType.PERCPU_HASH, 8, 8, 1024, name="counts")
    for k in range(500):
        m.update(q(k), b"".join(q(k * 10 + c) for c in range(ncpu)))
    keys, vals = m.lookup_batch()
    assert keys.shape == (500, 8) and vals.shape == (500, ncpu, 8)
    k = keys.view(np.int64)[:, 0]
    totals = vals.view(np.int64)[:, :, 0].sum(axis=1)
    order = np.argsort(k)
    assert list(k[order]) == list(range(500))
    assert list(totals[order]) == [kk * 10 * ncpu + sum(range(ncpu)) for kk in range(500)]


def test_batch_small_chunks_and_delete(make_map):
    m = make_map(abi.MapType.HASH, 4, 4, 8, name="small")
    for k in range(8):
        m.update(struct.pack("<I", k), struct.pack("<I", k * k))
    keys, vals = m.lookup_batch(delete=True)
    assert sorted(int.from_bytes(bytes(r), "little") for r in keys) == list(range(8))
    assert vals.shape == (8, 1, 8)  # value width rounded up to 8
    assert m.keys() == []


def test_empty_hash_batch(make_map):
    m = make_map(abi.MapType.HASH, 8, 8, 16, name="empty")
    keys, vals = m.lookup_batch()
    assert keys.shape == (0, 8) and vals.shape == (0, 1, 8)


def test_delete_clear_and_array_zero(make_map):
    h = make_map(abi.MapType.HASH, 8, 8, 16)
    h.update(q(1), q(2))
    assert h.delete(q(1)) is True and h.delete(q(1)) is False
    for k in range(5):
        h.update(q(k), q(k))
    h.clear()
    assert h.keys() == []
    a = make_map(abi.MapType.ARRAY, 4, 8, 2)
    a.update(struct.pack("<I", 1), q(7))
    a.clear()
    assert a.lookup(struct.pack("<I", 1)) == q(0)


def test_freeze_makes_readonly(make_map):
    a = make_map(abi.MapType.ARRAY, 4, 8, 1, abi.MapFlags.RDONLY_PROG, name="btc.rodata")
    a.update(b"\0" * 4, q(5))
    a.freeze()
    with pytest.raises(SyscallError) as e:
        a.update(b"\0" * 4, q(6))
    assert "EPERM" in e.value.message and "update" in e.value.message


def test_errors_are_btcerrors(make_map):
    with pytest.raises(BtcError) as e:
        make_map(abi.MapType.HASH, 0, 8, 16, name="bad")
    assert "creating map bad (HASH) failed: EINVAL" in e.value.message
    m = make_map(abi.MapType.HASH, 8, 8, 1)
    m.update(q(1), q(1))
    with pytest.raises(BtcError, match="E2BIG"):
        m.update(q(2), q(2))
    with pytest.raises(BtcError, match="key is 4 bytes"):
        m.lookup(b"abcd")


def test_batch_many_chunks_and_iterate_fallback_agree(make_map):
    m = make_map(abi.MapType.HASH, 8, 16, 10000, name="big")
    for k in range(9000):
        m.update(q(k), q(k) + q(-k))
    keys, vals = m.lookup_batch()
    assert len(keys) == 9000  # more than one 4096-element batch call
    ik, iv = m._shape(*m._iterate(False))
    order, iorder = np.argsort(keys.view(np.int64)[:, 0]), np.argsort(ik.view(np.int64)[:, 0])
    assert (keys[order] == ik[iorder]).all() and (vals[order] == iv[iorder]).all()
    assert vals.view(np.int64)[order][:, 0, 1].tolist() == [-k for k in range(9000)]
