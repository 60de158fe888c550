"""Summary statistics of repeated rounds, and fd-scoped kernel BPF run-time statistics."""
from __future__ import annotations

import os
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from typing import Iterator, Sequence

from btc.runtime import kernel_objects, syscalls


@dataclass(frozen=True)
class Summary:
    """Median and spread of per-round values: q1/q3 are the quartiles, lo/hi the extremes."""

    median: float
    q1: float
    q3: float
    lo: float
    hi: float
    n: int

    def to_json(self) -> dict:
        return {k: round(v, 2) if isinstance(v, float) else v for k, v in asdict(self).items()}


def quantile(sorted_values: Sequence[float], q: float) -> float:
    """Linear interpolation between closest ranks (numpy's default method)."""
    if not sorted_values:
        raise ValueError("no values")
    pos = (len(sorted_values) - 1) * q
    lo = int(pos)
    hi = min(lo + 1, len(sorted_values) - 1)
    return sorted_values[lo] + (sorted_values[hi] - sorted_values[lo]) * (pos - lo)


def summarize(values: Sequence[float]) -> Summary:
    v = sorted(float(x) for x in values)
    return Summary(quantile(v, 0.5), quantile(v, 0.25), quantile(v, 0.75), v[0], v[-1], len(v))


@contextmanager
def bpf_stats() -> Iterator[int]:
    """BPF_ENABLE_STATS for the duration of the block only: the kernel keeps run-time
    statistics on while the returned fd is open, and this closes it on every path."""
    fd = kernel_objects.enable_stats()
    try:
        yield fd
    finally:
        syscalls.close(fd)


def stats_fds_open() -> int:
    """How many BPF-stats fds this process holds (anon inode `bpf-stats`); 0 after bench."""
    n = 0
    for name in os.listdir("/proc/self/fd"):
        try:
            if os.readlink(f"/proc/self/fd/{name}") == "anon_inode:bpf-stats":
                n += 1
        except OSError:
            pass
    return n


@dataclass(frozen=True)
class RunStats:
    run_cnt: int
    run_time_ns: int


def read_run_stats(prog_fd: int) -> RunStats:
    info = kernel_objects.prog_info(prog_fd)
    return RunStats(int(info.run_cnt), int(info.run_time_ns))
