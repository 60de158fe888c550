"""BEGIN and END: run once through BPF_PROG_TEST_RUN, never attached (linux-bpf.md §7)."""
from __future__ import annotations

from btc.probes.base import PROG_RAW_TRACEPOINT, ProbeRequest, ProbeSpec, Provider, plan


def _resolver(kind: str):
    def resolve(req: ProbeRequest) -> list[ProbeSpec]:
        if req.rest:
            if req.dialect == "btrace":
                raise req.not_found()
            raise req.error(f"{req.provider} probe type requires 0 arguments")
        return [ProbeSpec(provider=kind, display=req.provider, prog_type=PROG_RAW_TRACEPOINT,
                          section="raw_tp", plan=plan(kind), dialect=req.dialect)]
    return resolve


def _lister(word: str):
    return lambda dialect: [word]


BEGIN = Provider("begin", ("btrace", "bpftrace"), _resolver("begin"), aliases=("begin",),
                 spelled="BEGIN", listing=_lister("BEGIN"))
END = Provider("end", ("btrace", "bpftrace"), _resolver("end"), aliases=("end",),
               spelled="END", listing=_lister("END"))
