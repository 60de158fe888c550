"""`btc bench` output: a text table for people, `-f json` for machines."""
from __future__ import annotations

import json

from btc.runtime.abi import ProgType
from btc.runtime.bench.measure import ProbeResult, VariantResult
from btc.runtime.bench.stats import Summary

ROW_LABELS = {"empty": "empty program", "filter": "filter false", "program": "program"}
ROW_HELP = {
    "empty": "PROBE { }: the attach type's floor",
    "filter": "the filter evaluated and failing, body skipped (vs empty = the filter alone)",
    "program": "filter forced true, body runs on every event",
}


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
        "probe": r.probe, "attach_type": attach_type(r), "attach": r.attach,
        "filter": r.filter_text, "driver": r.driver, "baseline_ns": _sj(r.baseline),
        "notes": r.notes,
        "rows": [{"row": v.name, "label": ROW_LABELS[v.name], "meaning": ROW_HELP[v.name],
                  "e2e_delta_ns": _sj(v.e2e_delta), "e2e_vs_empty_ns": _sj(v.vs_empty),
                  "stats_run_time_ns": _sj(v.stats_ns), "stats_minus_empty_ns": _sj(v.inside),
                  "events_per_run": v.events_per_run, "insns": v.sizes,
                  "ringbuf_delivered": v.delivered, "ringbuf_lost": v.lost}
                 for v in r.variants],
    }


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
        "; ns per event, median [quartiles] over rounds",
    ]
    if machine.get("bpf_stats_sysctl") == "1":
        lines.append("warning: kernel.bpf_stats_enabled=1: end-to-end figures include the "
                     "statistics overhead")
    for r in results:
        lines += [""] + _probe_text(r)
    return "\n".join(lines) + "\n"


def _probe_text(r: ProbeResult) -> list[str]:
    out = [f"probe {r.probe}",
           f"  attach type: {attach_type(r)}",
           f"  driver: {r.driver}; without the program: {_num(r.baseline)} ns/event"]
    if r.filter_text is not None:
        out.append(f"  filter: /{r.filter_text}/")
    header = (f"  {'row':<14} {'end-to-end +ns':>20} {'vs empty':>18} {'in program (stats)':>20}"
              f" {'minus empty':>18} {'insns xlated/verified':>22} {'jited B':>8}")
    out.append(header)
    for v in r.variants:
        out.append(_row_text(v))
    for note in r.notes:
        out.append(f"  note: {note}")
    return out


def _row_text(v: VariantResult) -> str:
    s = v.sizes
    insns = f"{s['xlated_insns']}/{s['verified_insns']}"
    return (f"  {ROW_LABELS[v.name]:<14} {_num(v.e2e_delta, True):>20} "
            f"{_num(v.vs_empty, True) if v.name != 'empty' else '':>18} "
            f"{_num(v.stats_ns):>20} {_num(v.inside, True) if v.name != 'empty' else '':>18} "
            f"{insns:>22} {s['jited_bytes']:>8}")
