"""Measure one probe: load its variants, then two phases of interleaved rounds.

Phase 1 (end to end, statistics off): each round times the driver with nothing attached and
with each variant attached, in a rotating order, so that drift and noise hit every variant
alike; per-event deltas are paired within a round (variant minus nothing) before the median.
Phase 2 (BPF_ENABLE_STATS on, scoped to one fd): each round reads run_cnt/run_time_ns around
a driver run per variant; the empty variant's figure from the same round is subtracted.
Statistics cost time per event themselves, which is why the phases are separate.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field

from btc.diagnostics import BtcError
from btc.runtime import kernel_objects
from btc.runtime.attach import attach_program
from btc.runtime.bench.consume import Consumer
from btc.runtime.bench.drivers import Driver, time_ns
from btc.runtime.bench.stats import Summary, bpf_stats, read_run_stats, summarize
from btc.runtime.bench.variants import VARIANTS, ProbeBench
from btc.runtime.elf_loader import LoadedObject, load_object
from btc.runtime.meta_read import read_meta, rodata_image
from btc.runtime.ringbuf import RingBuffer

NONE = "none"


@dataclass
class BenchOptions:
    rounds: int = 11
    iterations: int = 200_000
    warmup: bool = True


@dataclass
class VariantResult:
    name: str
    sizes: dict
    e2e_delta: Summary | None = None  # ns/event over the unattached driver
    vs_empty: Summary | None = None  # e2e delta minus the empty program's, paired per round
    stats_ns: Summary | None = None  # run_time_ns / run_cnt
    inside: Summary | None = None  # stats_ns minus the empty program's, paired per round
    events_per_run: float = 0.0  # median run_cnt delta per driver run
    delivered: int = 0  # ring-buffer records read, over every attached run
    lost: int = 0  # records the program could not write (ring buffer full)


@dataclass
class ProbeResult:
    probe: str
    attach: dict
    prog_type: int
    filter_text: str | None
    driver: str
    baseline: Summary | None = None  # ns per driver event with nothing attached
    variants: list[VariantResult] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


class _Loaded:
    def __init__(self, name: str, loaded: LoadedObject, func: str):
        self.name, self.loaded = name, loaded
        self.prog = loaded.progs[func]
        events = loaded.maps.get("events")
        self.ring = RingBuffer.for_map(events) if events is not None else None
        self.lost_map = loaded.maps.get("lost")
        self.delivered = 0

    def lost(self) -> int:
        raw = self.lost_map.lookup(b"\0\0\0\0") if self.lost_map is not None else None
        return int.from_bytes(raw[:8], "little") if raw else 0

    def run_attached(self, driver: Driver, n: int) -> int:
        """Attach, run the driver (reading the ring buffer meanwhile), detach; returns the
        driver's wall-clock ns."""
        elapsed = 0
        with attach_program(self.prog):
            if self.ring is None:
                elapsed = time_ns(driver, n)
            else:
                with Consumer(self.ring, _pinned_cpu()) as c:
                    elapsed = time_ns(driver, n)
                self.delivered += c.delivered
        return elapsed

    def close(self) -> None:
        if self.ring is not None:
            self.ring.close()
        self.loaded.close()


def _pinned_cpu() -> int | None:
    try:
        mask = os.sched_getaffinity(0)
    except OSError:
        return None
    return next(iter(mask)) if len(mask) == 1 else None


def measure_probe(pb: ProbeBench, dialect: str, driver: Driver, opts: BenchOptions) -> ProbeResult:
    res = ProbeResult(pb.probe, pb.attach, pb.prog_type, pb.filter_text, driver.description)
    loaded = _load_variants(pb, dialect)
    try:
        for lv in loaded:
            res.variants.append(VariantResult(lv.name, _sizes(lv)))
        if opts.warmup:
            _warm_up(loaded, driver, max(1, opts.iterations // 10))
        cnt = _stats_phase(loaded, driver, opts, res)
        _e2e_phase(loaded, driver, opts, res, cnt)
        _note_lost(loaded, res)
    finally:
        for lv in loaded:
            lv.close()
    return res


def _note_lost(loaded: list[_Loaded], res: ProbeResult) -> None:
    for lv, vr in zip(loaded, res.variants):
        vr.delivered, vr.lost = lv.delivered, lv.lost()
        if vr.lost:
            share = vr.lost / max(1, vr.lost + vr.delivered)
            res.notes.append(f"{vr.name}: {vr.lost} events ({share:.0%}) were dropped because "
                             "the ring buffer was full; the row mixes written and dropped events")


def _load_variants(pb: ProbeBench, dialect: str) -> list[_Loaded]:
    out: list[_Loaded] = []
    try:
        for name in VARIANTS:
            v = pb.variants.get(name)
            if v is None:
                continue
            meta = read_meta(v.obj)
            patch = rodata_image(meta, v.params, dialect)
            out.append(_Loaded(name, load_object(v.obj, patch, only={v.func}), v.func))
    except BaseException:
        for lv in out:
            lv.close()
        raise
    return out


def _sizes(lv: _Loaded) -> dict:
    info = kernel_objects.prog_info(lv.prog.fd)
    return {"object_insns": lv.prog.insn_cnt, "xlated_insns": int(info.xlated_prog_len) // 8,
            "jited_bytes": int(info.jited_prog_len), "verified_insns": int(info.verified_insns)}


def _warm_up(loaded: list[_Loaded], driver: Driver, n: int) -> None:
    driver.run(n)
    for lv in loaded:
        lv.run_attached(driver, n)


def _rotation(names: list[str], r: int) -> list[str]:
    k = r % len(names)
    order = names[k:] + names[:k]
    return order if r % 2 == 0 else order[::-1]


def _stats_phase(loaded: list[_Loaded], driver: Driver, opts: BenchOptions,
                 res: ProbeResult) -> float:
    """Fills stats_ns/inside/events_per_run; returns the median events per driver run."""
    per_event: dict[str, list[float]] = {lv.name: [] for lv in loaded}
    counts: dict[str, list[int]] = {lv.name: [] for lv in loaded}
    with bpf_stats():
        for r in range(opts.rounds):
            for name in _rotation([lv.name for lv in loaded], r):
                lv = next(x for x in loaded if x.name == name)
                before = read_run_stats(lv.prog.fd)
                lv.run_attached(driver, opts.iterations)
                after = read_run_stats(lv.prog.fd)
                dc = after.run_cnt - before.run_cnt
                counts[name].append(dc)
                if dc > 0:
                    per_event[name].append((after.run_time_ns - before.run_time_ns) / dc)
    empty = per_event.get("empty", [])
    for vr in res.variants:
        vals = per_event[vr.name]
        vr.events_per_run = summarize(counts[vr.name]).median
        if vals:
            vr.stats_ns = summarize(vals)
        if vals and empty and len(vals) == len(empty):
            vr.inside = summarize([a - b for a, b in zip(vals, empty)])
    events = min(vr.events_per_run for vr in res.variants)
    if events <= 0:
        raise BtcError(f"the driver ({driver.description}) did not fire {res.probe}",
                       hint="pass a command that fires it with --driver CMD")
    if driver.fixed and events < 0.9 * opts.iterations:
        res.notes.append(f"the probe fired {events:.0f} times per {opts.iterations} driver "
                         "iterations; per-event figures use the fired count")
    return events


def _e2e_phase(loaded: list[_Loaded], driver: Driver, opts: BenchOptions, res: ProbeResult,
               events: float) -> None:
    """Per-event ns: driver time over the events the stats phase counted per run (for a
    syscall driver that is the iteration count, or the count the probe really fired)."""
    fired_all = driver.fixed and events >= 0.9 * opts.iterations
    per_run = float(opts.iterations) if fired_all else events
    times: dict[str, list[float]] = {NONE: []}
    times.update({lv.name: [] for lv in loaded})
    for r in range(opts.rounds):
        for name in _rotation(list(times), r):
            if name == NONE:
                times[name].append(time_ns(driver, opts.iterations) / per_run)
                continue
            lv = next(x for x in loaded if x.name == name)
            times[name].append(lv.run_attached(driver, opts.iterations) / per_run)
    base = times[NONE]
    res.baseline = summarize(base)
    deltas = {n: [a - b for a, b in zip(times[n], base)] for n in times if n != NONE}
    for vr in res.variants:
        vr.e2e_delta = summarize(deltas[vr.name])
        if "empty" in deltas and vr.name != "empty":
            vr.vs_empty = summarize([a - b for a, b in zip(deltas[vr.name], deltas["empty"])])
