"""profile and interval: a perf SW CPU_CLOCK event driving a PERF_EVENT program.

profile fires on every CPU, interval on one. btrace and bpftrace validate units and
numbers differently, and print different `probe` names (bt-language.md §3).
"""
from __future__ import annotations

from btc.probes.base import PROG_PERF_EVENT, ProbeRequest, ProbeSpec, parse_count, parse_int, plan
from btc.probes.software import PERF_COUNT_SW_CPU_CLOCK, PERF_TYPE_SOFTWARE

UNITS = ("hz", "s", "ms", "us")
_NS_PER_UNIT = {"s": 1_000_000_000, "ms": 1_000_000, "us": 1_000}
BTRACE_MAX_HZ = 1_000_000
# what btrace's `probe` prints: the kernel's own (fixed-rate) probe names
_BTRACE_DISPLAY = {"profile": "profile:hz:97", "interval": "interval:hz:1"}


def resolve_timer(req: ProbeRequest, kind: str) -> list[ProbeSpec]:
    unit, value = (_check_btrace if req.dialect == "btrace" else _check_bpftrace)(req, kind)
    display = _BTRACE_DISPLAY[kind] if req.dialect == "btrace" else f"{kind}:{unit}:{value}"
    freq = unit == "hz"
    perf = plan("perf_event", type=PERF_TYPE_SOFTWARE, config=PERF_COUNT_SW_CPU_CLOCK, freq=freq,
                value=value if freq else value * _NS_PER_UNIT[unit],
                cpus="all" if kind == "profile" else "one")
    return [ProbeSpec(provider=kind, display=display, prog_type=PROG_PERF_EVENT,
                      section="perf_event", plan=perf, dialect=req.dialect,
                      unit=unit, value=value)]


def _check_btrace(req: ProbeRequest, kind: str) -> tuple[str, int]:
    if len(req.rest) != 2:
        raise req.not_found()
    unit, number = req.rest
    if unit not in UNITS:
        raise req.error(f"Invalid unit: {unit}")
    value = parse_int(number)
    if value is None:
        raise req.not_found()
    if value < 1:
        raise req.error(f"Number is invalid: {number}")
    if unit == "hz" and value > BTRACE_MAX_HZ:
        raise req.error(f"Number is too large: {number}")
    return unit, value


def _check_bpftrace(req: ProbeRequest, kind: str) -> tuple[str, int]:
    if len(req.rest) != 2:
        raise req.error(f"{kind} probe type requires 2 arguments")
    unit, number = req.rest
    if unit == "":
        raise req.error(f"{kind} probe must have unit of time")
    if unit not in UNITS:
        raise req.error(f"{unit} is not an accepted unit of time")
    value = parse_count(number)
    if value is None:
        if number.lstrip("-").isdigit() or number == "":
            value = -1
        else:
            raise req.error(f"{kind} probe must have an integer frequency")
    if value <= 0:
        raise req.error(f"{kind} frequency should be a positive integer")
    return unit, value


def timer_listing(kind: str, dialect: str) -> list[str]:
    return [_BTRACE_DISPLAY[kind]] if dialect == "btrace" else [f"{kind}:{u}:N" for u in UNITS]
