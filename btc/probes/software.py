"""software:EVENT[:COUNT]: perf software counters (bpftrace). Fires every COUNT events.

Event numbers: enum perf_sw_ids in include/uapi/linux/perf_event.h; names, aliases and
default counts as in bpftrace's SW_PROBE_LIST.
"""
from __future__ import annotations

from dataclasses import dataclass

from btc.probes.base import (PROG_PERF_EVENT, ProbeRequest, ProbeSpec, Provider, hint_for,
                             parse_count, plan)

# enum perf_type_id, include/uapi/linux/perf_event.h
PERF_TYPE_HARDWARE = 0
PERF_TYPE_SOFTWARE = 1

# enum perf_sw_ids, include/uapi/linux/perf_event.h
PERF_COUNT_SW_CPU_CLOCK = 0
PERF_COUNT_SW_TASK_CLOCK = 1
PERF_COUNT_SW_PAGE_FAULTS = 2
PERF_COUNT_SW_CONTEXT_SWITCHES = 3
PERF_COUNT_SW_CPU_MIGRATIONS = 4
PERF_COUNT_SW_PAGE_FAULTS_MIN = 5
PERF_COUNT_SW_PAGE_FAULTS_MAJ = 6
PERF_COUNT_SW_ALIGNMENT_FAULTS = 7
PERF_COUNT_SW_EMULATION_FAULTS = 8
PERF_COUNT_SW_DUMMY = 9
PERF_COUNT_SW_BPF_OUTPUT = 10


@dataclass(frozen=True)
class PerfEvent:
    name: str
    alias: str
    config: int
    default_count: int


SOFTWARE_EVENTS: tuple[PerfEvent, ...] = (
    PerfEvent("alignment-faults", "", PERF_COUNT_SW_ALIGNMENT_FAULTS, 1),
    PerfEvent("bpf-output", "", PERF_COUNT_SW_BPF_OUTPUT, 1),
    PerfEvent("context-switches", "cs", PERF_COUNT_SW_CONTEXT_SWITCHES, 1000),
    PerfEvent("cpu-clock", "cpu", PERF_COUNT_SW_CPU_CLOCK, 1000000),
    PerfEvent("cpu-migrations", "", PERF_COUNT_SW_CPU_MIGRATIONS, 1),
    PerfEvent("dummy", "", PERF_COUNT_SW_DUMMY, 1),
    PerfEvent("emulation-faults", "", PERF_COUNT_SW_EMULATION_FAULTS, 1),
    PerfEvent("major-faults", "", PERF_COUNT_SW_PAGE_FAULTS_MAJ, 1),
    PerfEvent("minor-faults", "", PERF_COUNT_SW_PAGE_FAULTS_MIN, 100),
    PerfEvent("page-faults", "faults", PERF_COUNT_SW_PAGE_FAULTS, 100),
    PerfEvent("task-clock", "", PERF_COUNT_SW_TASK_CLOCK, 1),
)


def find_event(events: tuple[PerfEvent, ...], name: str) -> PerfEvent | None:
    for ev in events:
        if name == ev.name or (ev.alias and name == ev.alias):
            return ev
    return None


def resolve_counter(req: ProbeRequest, kind: str, events: tuple[PerfEvent, ...],
                    perf_type: int, support=None) -> list[ProbeSpec]:
    """Shared by software and hardware: EVENT[:COUNT] -> a perf_event plan on every CPU."""
    if req.dialect == "btrace":
        raise req.not_found()
    if len(req.rest) not in (1, 2):
        raise req.error(f"{kind} probe type requires 1 or 2 arguments")
    name = req.rest[0]
    if name == "":
        raise req.error(f"{kind} probe must have a {kind} event name")
    ev = find_event(events, name)
    if ev is None:
        names = [e.name for e in events] + [e.alias for e in events if e.alias]
        raise req.error(f"{name} is not a {kind} probe", hint_for(name, names))
    count = ev.default_count
    if len(req.rest) == 2:
        given = parse_count(req.rest[1])
        if given is None:
            raise req.error(f"{kind} probe can only have an integer count")
        if given < 0:
            raise req.error(f"{kind} count should be a positive integer")
        count = given or ev.default_count
    display = ":".join((kind,) + req.rest)
    perf = plan("perf_event", type=perf_type, config=ev.config, freq=False, value=count, cpus="all",
                event=f"{kind}:{ev.name}")
    return [ProbeSpec(provider=kind, display=display, prog_type=PROG_PERF_EVENT,
                      section="perf_event", plan=perf, dialect=req.dialect, name=ev.name,
                      value=count, support=support)]


def counter_listing(kind: str, events: tuple[PerfEvent, ...]) -> list[str]:
    return [f"{kind}:{ev.name}:" for ev in events]


SOFTWARE = Provider(
    "software", ("bpftrace",),
    lambda req: resolve_counter(req, "software", SOFTWARE_EVENTS, PERF_TYPE_SOFTWARE),
    aliases=("s",), listing=lambda d: counter_listing("software", SOFTWARE_EVENTS) if d == "bpftrace" else [])
