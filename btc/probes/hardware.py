"""hardware:EVENT[:COUNT]: CPU performance counters (bpftrace). Needs a CPU PMU, which VMs
often lack.

Event numbers: enum perf_hw_id in include/uapi/linux/perf_event.h; names, aliases and
default counts as in bpftrace's HW_PROBE_LIST.
"""
from __future__ import annotations

from pathlib import Path

from btc.probes.base import Provider
from btc.probes.software import PERF_TYPE_HARDWARE, PerfEvent, counter_listing, resolve_counter

# enum perf_hw_id, include/uapi/linux/perf_event.h
PERF_COUNT_HW_CPU_CYCLES = 0
PERF_COUNT_HW_INSTRUCTIONS = 1
PERF_COUNT_HW_CACHE_REFERENCES = 2
PERF_COUNT_HW_CACHE_MISSES = 3
PERF_COUNT_HW_BRANCH_INSTRUCTIONS = 4
PERF_COUNT_HW_BRANCH_MISSES = 5
PERF_COUNT_HW_BUS_CYCLES = 6
PERF_COUNT_HW_STALLED_CYCLES_FRONTEND = 7
PERF_COUNT_HW_STALLED_CYCLES_BACKEND = 8
PERF_COUNT_HW_REF_CPU_CYCLES = 9

HARDWARE_EVENTS: tuple[PerfEvent, ...] = (
    PerfEvent("backend-stalls", "", PERF_COUNT_HW_STALLED_CYCLES_BACKEND, 1000000),
    PerfEvent("branch-instructions", "branches", PERF_COUNT_HW_BRANCH_INSTRUCTIONS, 100000),
    PerfEvent("branch-misses", "", PERF_COUNT_HW_BRANCH_MISSES, 100000),
    PerfEvent("bus-cycles", "", PERF_COUNT_HW_BUS_CYCLES, 100000),
    PerfEvent("cache-misses", "", PERF_COUNT_HW_CACHE_MISSES, 1000000),
    PerfEvent("cache-references", "", PERF_COUNT_HW_CACHE_REFERENCES, 1000000),
    PerfEvent("cpu-cycles", "cycles", PERF_COUNT_HW_CPU_CYCLES, 1000000),
    PerfEvent("frontend-stalls", "", PERF_COUNT_HW_STALLED_CYCLES_FRONTEND, 1000000),
    PerfEvent("instructions", "", PERF_COUNT_HW_INSTRUCTIONS, 1000000),
    PerfEvent("ref-cycles", "", PERF_COUNT_HW_REF_CPU_CYCLES, 1000000),
)

_PMUS = Path("/sys/bus/event_source/devices")
_CPU_PMU_NAMES = ("cpu", "cpu_core", "cpu_atom")


def hardware_support() -> str | None:
    """A reason string when no CPU PMU is registered (perf_event_open would fail ENOENT)."""
    try:
        names = [p.name for p in _PMUS.iterdir()]
    except OSError:
        return "no perf event sources (/sys/bus/event_source/devices is missing)"
    if any(n in _CPU_PMU_NAMES or n.startswith("armv") for n in names):
        return None
    return "no hardware PMU on this machine (only: " + ", ".join(sorted(names)) + ")"


HARDWARE = Provider(
    "hardware", ("bpftrace",),
    lambda req: resolve_counter(req, "hardware", HARDWARE_EVENTS, PERF_TYPE_HARDWARE,
                                support=hardware_support),
    aliases=("h",), listing=lambda d: counter_listing("hardware", HARDWARE_EVENTS) if d == "bpftrace" else [],
    available=hardware_support)
