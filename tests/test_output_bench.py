"""Speed: a 1,000,000-key count map must decode + sort + format well under 2 s."""
import time

import numpy as np
import pytest

from btc.runtime.output import format_map
from test_output_support import I64, desc

N = 1_000_000


def _big_count_map(ncpu: int = 2):
    rng = np.random.default_rng(7)
    keys = (rng.permutation(N).astype(np.int64) * 13 - 5000).view(np.uint8).reshape(N, 8)
    counts = rng.integers(0, 4, size=(N, ncpu)).astype(np.int64)
    values = counts.view(np.uint8).reshape(N, ncpu, 8)
    return keys, values, counts.sum(axis=1)


@pytest.mark.slow
@pytest.mark.parametrize("dialect", ["btrace", "bpftrace"])
def test_million_key_count_map_speed(dialect):
    keys, values, totals = _big_count_map()
    d = desc("@m", "count", key=I64)
    start = time.perf_counter()
    text = format_map(d, keys, values, dialect)
    elapsed = time.perf_counter() - start
    print(f"\n{dialect}: 1M-key count map decode+sort+format: {elapsed:.3f} s")
    lines = text.splitlines()
    assert len(lines) == N
    got = [int(line.rsplit(": ", 1)[1]) for line in lines[:1000]]
    step = -1 if dialect == "btrace" else 1
    assert got == sorted(got)[::step]
    assert elapsed < 2.0
