"""`btc bench` output: a text table for people, `-f json` for machines."""
from __future__ import annotations

import json

from btc.runtime.abi import ProgType
from btc.runtime.bench.drivers import syscall_mode
from btc.runtime.bench.measure import ProbeResult, VariantResult
from btc.runtime.bench.stats import Summary

ROW_LABELS = {"empty": "empty program", "filter": "filter false", "program": "program",
              "untraced": "untraced call"}
ROW_HELP = {
    "empty": "PROBE { }: the attach type's floor",
    "filter": "the filter evaluated and failing, body skipped (vs empty = the filter alone)",
    "program": "filter forced true, body runs on every event",
    "untraced": "ns the attached program adds to each call of a syscall it does not trace "
                "(the attach mode's price to the rest of the system)",
}
_MODES = {
    "tracepoint": "perf tracepoint of this syscall (every syscall takes the tracing slow path)",
    "raw": "raw tracepoint + syscall number check (the program runs on every syscall)",
    "all-tracepoint": "perf tracepoint raw_syscalls (every syscall traced)",
    "all-raw": "raw tracepoint, every syscall (no number check)",
}


def attach_mode(r: ProbeResult) -> str | None:
    """"tracepoint", "raw", "all-tracepoint", "all-raw" for syscall probes, else None."""
    return syscall_mode(r.attach)


def _mode_text(r: ProbeResult) -> str:
    mode = attach_mode(r)
    if mode is None:
        return ""
    nr = r.attach.get("syscall_nr")
    return f"; syscall attach: {_MODES[mode]}" + (f", nr {nr}" if mode == "raw" else "")


def attach_type(r: ProbeResult) -> str:
    try:
        ptype = ProgType(r.prog_type).name
    except ValueError:
        ptype = str(r.prog_type)
    plan = r.attach
    where = "/".join(str(plan[k]) for k in ("category", "name") if plan.get(k))
    return f"{plan.get('kind', '?')} {where} (BPF_PROG_TYPE_{ptype})".replace("  ", " ")


def to_json(machine: dict, settings: dict, results: list[ProbeResult]) -> str:
    doc = {"machine": machine, "settings": settings,
           "probes": [_probe_json(r) for r in results]}
    return json.dumps(doc, indent=2)


def _sj(s: Summary | None) -> dict | None:
    return s.to_json() if s is not None else None


def _probe_json(r: ProbeResult) -> dict:
    return {
        "probe": r.probe, "attach_type": attach_type(r), "attach_mode": attach_mode(r),
        "attach": r.attach, "filter": r.filter_text, "driver": r.driver,
        "baseline_ns": _sj(r.baseline), "notes": r.notes,
        "rows": [_row_json(v) for v in r.variants] + _untraced_json(r),
    }


def _row_json(v: VariantResult) -> dict:
    return {"row": v.name, "label": ROW_LABELS[v.name], "meaning": ROW_HELP[v.name],
            "e2e_delta_ns": _sj(v.e2e_delta), "e2e_vs_empty_ns": _sj(v.vs_empty),
            "stats_run_time_ns": _sj(v.stats_ns), "stats_minus_empty_ns": _sj(v.inside),
            "events_per_run": v.events_per_run, "insns": v.sizes,
            "ringbuf_delivered": v.delivered, "ringbuf_lost": v.lost}


def _untraced_json(r: ProbeResult) -> list[dict]:
    """The untraced row: per call of its own driver; events_per_run = how often the program
    ran per driver run (0 on a perf tracepoint, every call for a raw program)."""
    if r.untraced is None:
        return []
    row = _row_json(r.untraced)
    row.update(driver=r.untraced_driver, baseline_ns=_sj(r.untraced_baseline))
    return [row]


def _num(s: Summary | None, sign: bool = False) -> str:
    if s is None:
        return "-"
    fmt = "{:+.1f}" if sign else "{:.1f}"
    return f"{fmt.format(s.median)} [{s.q1:.0f}..{s.q3:.0f}]"


def to_text(machine: dict, settings: dict, results: list[ProbeResult]) -> str:
    virt = "virtual machine" if machine["virtualized"] else "bare metal or unknown"
    lines = [
        f"kernel {machine['kernel']} {machine['arch']}, {machine['cpus_online']} CPUs online "
        f"({machine['cpus_possible']} possible), {machine['cpu_model']}, {virt}, "
        f"JIT {machine['jit']}, load average {' '.join(machine['loadavg'])}",
        f"{settings['rounds']} interleaved rounds of {settings['iterations']} driver iterations"
        f"{', pinned to CPU ' + str(settings['pinned_cpu']) if settings.get('pinned_cpu') is not None else ''}"
        "; ns per event, median [quartiles] over rounds"
        f"{'; --syscall-attach ' + settings['syscall_attach'] if settings.get('syscall_attach') else ''}",
    ]
    if machine.get("bpf_stats_sysctl") == "1":
        lines.append("warning: kernel.bpf_stats_enabled=1: end-to-end figures include the "
                     "statistics overhead")
    for r in results:
        lines += [""] + _probe_text(r, settings['iterations'])
    return "\n".join(lines) + "\n"


def _probe_text(r: ProbeResult, iterations: int) -> list[str]:
    out = [f"probe {r.probe}",
           f"  attach type: {attach_type(r)}{_mode_text(r)}",
           f"  driver: {r.driver}; without the program: {_num(r.baseline)} ns/event"]
    if r.untraced is not None:
        out.append(f"  untraced call: {r.untraced_driver}; without the program: "
                   f"{_num(r.untraced_baseline)} ns/call; the program ran "
                   f"{r.untraced.events_per_run:.0f} times per {iterations} calls")
    if r.filter_text is not None:
        out.append(f"  filter: /{r.filter_text}/")
    header = (f"  {'row':<14} {'end-to-end +ns':>20} {'vs empty':>18} {'in program (stats)':>20}"
              f" {'minus empty':>18} {'insns xlated/verified':>22} {'jited B':>8}")
    out.append(header)
    for v in r.variants:
        out.append(_row_text(v))
    if r.untraced is not None:
        out.append(_row_text(r.untraced))
    for note in r.notes:
        out.append(f"  note: {note}")
    return out


_NO_DIFF = ("empty", "untraced")  # rows with no "minus empty" figures


def _row_text(v: VariantResult) -> str:
    s = v.sizes
    insns = f"{s['xlated_insns']}/{s['verified_insns']}"
    return (f"  {ROW_LABELS[v.name]:<14} {_num(v.e2e_delta, True):>20} "
            f"{_num(v.vs_empty, True) if v.name not in _NO_DIFF else '':>18} "
            f"{_num(v.stats_ns):>20} {_num(v.inside, True) if v.name not in _NO_DIFF else '':>18} "
            f"{insns:>22} {s['jited_bytes']:>8}")
