"""kretprobe:FUNC (bpftrace): kernel function return; `retval` is the return register."""
from __future__ import annotations

from btc.probes._xprobe import expand_functions, kprobe_listing, kprobe_spec, kprobe_support, parse_kprobe
from btc.probes.base import ProbeRequest, ProbeSpec, Provider


def _resolve(req: ProbeRequest) -> list[ProbeSpec]:
    if req.dialect == "btrace":
        raise req.not_found()
    func, off, ret = parse_kprobe(req, retprobe=True)
    return [kprobe_spec(req, f, off, ret) for f in expand_functions(req, func)]


KRETPROBE = Provider("kretprobe", ("bpftrace",), _resolve, aliases=("kr",),
                     listing=lambda d: kprobe_listing(d, retprobe=True) if d == "bpftrace" else [],
                     available=kprobe_support)
