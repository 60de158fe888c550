"""Measure one probe: load its variants, then two phases of interleaved rounds.

Phase 1 (end to end, statistics off): each round times the driver with nothing attached and
with each variant attached, in a rotating order, so that drift and noise hit every variant
alike; per-event deltas are paired within a round (variant minus nothing) before the median.
Phase 2 (BPF_ENABLE_STATS on, scoped to one fd): each round reads run_cnt/run_time_ns around
a driver run per variant; the empty variant's figure from the same round is subtracted.
Statistics cost time per event themselves, which is why the phases are separate.

The "untraced" row (syscall probes): the program variant attached while a loop of another
syscall runs, timed in the same rotation against that loop unattached; per call, since the
probe does not trace it. It is the system-wide price of the attach mode: a perf syscall
tracepoint sends every syscall through the slow path, a raw sys_enter program runs (and
rejects the number) on every syscall. Phase 2 counts how often the program ran meanwhile.
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
UNTRACED = "untraced"  # the program variant, driven by a syscall it does not trace
NONE_UNTRACED = "none-untraced"


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
    untraced_driver: str | None = None
    untraced_baseline: Summary | None = None  # ns per call of that driver, unattached
    untraced: VariantResult | None = None  # e2e_delta per call; events_per_run = program runs


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


def measure_probe(pb: ProbeBench, dialect: str, driver: Driver, opts: BenchOptions,
                  untraced: Driver | None = None) -> ProbeResult:
    """`untraced`: a loop of a syscall the probe does not trace, for the untraced row."""
    res = ProbeResult(pb.probe, pb.attach, pb.prog_type, pb.filter_text, driver.description)
    loaded = _load_variants(pb, dialect)
    try:
        for lv in loaded:
            res.variants.append(VariantResult(lv.name, _sizes(lv)))
        if untraced is not None:
            res.untraced_driver = untraced.description
            program = next(v for v in res.variants if v.name == "program")
            res.untraced = VariantResult(UNTRACED, program.sizes)
        if opts.warmup:
            _warm_up(loaded, driver, max(1, opts.iterations // 10))
        cnt = _stats_phase(loaded, driver, opts, res, untraced)
        _e2e_phase(loaded, driver, opts, res, cnt, untraced)
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


def _slots(loaded: list[_Loaded], driver: Driver, untraced: Driver | None,
           with_none: bool) -> dict[str, tuple[_Loaded | None, Driver]]:
    """What each name of a round runs: (program attached or None, driver)."""
    slots: dict[str, tuple[_Loaded | None, Driver]] = {NONE: (None, driver)} if with_none else {}
    slots.update({lv.name: (lv, driver) for lv in loaded})
    if untraced is not None:
        if with_none:
            slots[NONE_UNTRACED] = (None, untraced)
        slots[UNTRACED] = (next(lv for lv in loaded if lv.name == "program"), untraced)
    return slots


def _stats_phase(loaded: list[_Loaded], driver: Driver, opts: BenchOptions,
                 res: ProbeResult, untraced: Driver | None = None) -> float:
    """Fills stats_ns/inside/events_per_run; returns the median events per driver run."""
    slots = _slots(loaded, driver, untraced, with_none=False)
    per_event: dict[str, list[float]] = {name: [] for name in slots}
    counts: dict[str, list[int]] = {name: [] for name in slots}
    with bpf_stats():
        for r in range(opts.rounds):
            for name in _rotation(list(slots), r):
                lv, drv = slots[name]
                before = read_run_stats(lv.prog.fd)
                lv.run_attached(drv, opts.iterations)
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
    if res.untraced is not None:
        res.untraced.events_per_run = summarize(counts[UNTRACED]).median
        # a perf tracepoint's program runs here only for other processes' calls of its
        # syscall: those rounds say nothing about the untraced calls
        if per_event[UNTRACED] and res.untraced.events_per_run > 0:
            res.untraced.stats_ns = summarize(per_event[UNTRACED])
    events = min(vr.events_per_run for vr in res.variants)
    if events <= 0:
        raise BtcError(f"the driver ({driver.description}) did not fire {res.probe}",
                       hint="pass a command that fires it with --driver CMD")
    if driver.fixed and events < 0.9 * opts.iterations:
        res.notes.append(f"the probe fired {events:.0f} times per {opts.iterations} driver "
                         "iterations; per-event figures use the fired count")
    return events


def _e2e_phase(loaded: list[_Loaded], driver: Driver, opts: BenchOptions, res: ProbeResult,
               events: float, untraced: Driver | None = None) -> None:
    """Per-event ns: driver time over the events the stats phase counted per run (for a
    syscall driver that is the iteration count, or the count the probe really fired).
    The untraced row is per call of its own driver."""
    fired_all = driver.fixed and events >= 0.9 * opts.iterations
    per_run = float(opts.iterations) if fired_all else events
    slots = _slots(loaded, driver, untraced, with_none=True)
    times: dict[str, list[float]] = {name: [] for name in slots}
    for r in range(opts.rounds):
        for name in _rotation(list(slots), r):
            lv, drv = slots[name]
            div = per_run if drv is driver else float(opts.iterations)
            elapsed = time_ns(drv, opts.iterations) if lv is None \
                else lv.run_attached(drv, opts.iterations)
            times[name].append(elapsed / div)
    base = times[NONE]
    res.baseline = summarize(base)
    deltas = {n: [a - b for a, b in zip(times[n], base)] for n in times
              if n not in (NONE, NONE_UNTRACED, UNTRACED)}
    for vr in res.variants:
        vr.e2e_delta = summarize(deltas[vr.name])
        if "empty" in deltas and vr.name != "empty":
            vr.vs_empty = summarize([a - b for a, b in zip(deltas[vr.name], deltas["empty"])])
    if res.untraced is not None:
        ubase = times[NONE_UNTRACED]
        res.untraced_baseline = summarize(ubase)
        res.untraced.e2e_delta = summarize([a - b for a, b in zip(times[UNTRACED], ubase)])
