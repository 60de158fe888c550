"""CPU lists from sysfs: possible CPUs size per-CPU map values, online CPUs get perf events."""
from __future__ import annotations

import functools
import os

from btc.diagnostics import BtcError

_SYS_CPU = "/sys/devices/system/cpu"  # a str: pathlib costs ~6 ms of start-up


def parse_cpu_list(text: str) -> list[int]:
    """'0-1,4,6-7' -> [0, 1, 4, 6, 7]."""
    cpus: list[int] = []
    for part in text.strip().split(","):
        if not part:
            continue
        lo, _, hi = part.partition("-")
        cpus.extend(range(int(lo), int(hi or lo) + 1))
    return cpus


def _read_list(name: str) -> list[int]:
    try:
        with open(os.path.join(_SYS_CPU, name), encoding="ascii") as f:
            return parse_cpu_list(f.read())
    except (OSError, ValueError) as e:
        raise BtcError(f"cannot read {os.path.join(_SYS_CPU, name)}: {e}") from None


@functools.cache
def possible_cpu_count() -> int:
    """The per-CPU map stride count: the kernel sizes per-CPU values by possible CPUs."""
    return len(_read_list("possible"))


def online_cpus() -> list[int]:
    return _read_list("online")
