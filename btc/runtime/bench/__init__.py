"""`btc bench`: what each probe of a program costs per event (issue 6).

Public entry point: `run_bench(probes, dialect, opts, syscall_nr, fmt, out) -> int`, where
`probes` comes from `variants.build(...)` (the command line passes the compiler in, since the
runtime never imports it). The method is described in measure.py and variants.py.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, TextIO

from btc.diagnostics import BtcError
from btc.runtime.bench import drivers, report
from btc.runtime.bench.machine import machine_info
from btc.runtime.bench.measure import BenchOptions, ProbeResult, measure_probe
from btc.runtime.bench.variants import ProbeBench, build
from btc.runtime.privileges import check_bpf_available, raise_memlock_limit

__all__ = ["BenchOptions", "BenchSettings", "ProbeBench", "build", "run_bench"]


@dataclass
class BenchSettings:
    opts: BenchOptions
    driver_cmd: str | None = None
    pin: bool = True
    ctypes_driver: bool = False  # force the slow Python loop (to compare drivers)
    syscall_attach: str = "auto"  # what the variants were compiled with (shown in the report)
    untraced: bool = True  # measure syscall probes' cost to a syscall they do not trace


def run_bench(probes: list[ProbeBench], dialect: str, settings: BenchSettings,
              syscall_nr: Callable[[str], int | None], fmt: str, out: TextIO) -> int:
    if not probes:
        raise BtcError("nothing to measure: the program has no per-event probe "
                       "(BEGIN and END run once)")
    check_bpf_available()
    raise_memlock_limit()
    machine = machine_info()
    cpu, old_mask = drivers.pin_cpu() if settings.pin else (None, None)
    results: list[ProbeResult] = []
    try:
        for pb in probes:
            driver = _driver_for(pb, settings, syscall_nr)
            other = _untraced_driver(pb, settings, syscall_nr)
            try:
                results.append(measure_probe(pb, dialect, driver, settings.opts, other))
            finally:
                driver.close()
                if other is not None:
                    other.close()
    finally:
        drivers.unpin_cpu(old_mask)
    info = {"rounds": settings.opts.rounds, "iterations": settings.opts.iterations,
            "pinned_cpu": cpu, "dialect": dialect, "syscall_attach": settings.syscall_attach}
    text = report.to_json(machine, info, results) + "\n" if fmt == "json" \
        else report.to_text(machine, info, results)
    out.write(text)
    out.flush()
    return 0


def _untraced_driver(pb: ProbeBench, settings: BenchSettings,
                     syscall_nr: Callable[[str], int | None]) -> drivers.Driver | None:
    if not settings.untraced:
        return None
    name = drivers.untraced_syscall_for(pb.attach, syscall_nr)
    return drivers.named_driver(name, syscall_nr, settings.ctypes_driver)


def _driver_for(pb: ProbeBench, settings: BenchSettings,
                syscall_nr: Callable[[str], int | None]) -> drivers.Driver:
    if settings.driver_cmd:
        return drivers.command_driver(settings.driver_cmd)
    d = drivers.builtin_driver(pb.attach, syscall_nr, settings.ctypes_driver)
    if d is None:
        raise BtcError(f"no built-in driver fires {pb.probe}",
                       hint="built-in drivers cover syscall tracepoints and raw_syscalls; "
                            "pass --driver CMD, a command that fires the probe")
    return d
