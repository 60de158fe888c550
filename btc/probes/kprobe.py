"""kprobe: kernel function entry (btrace kprobe:FUNC:entry|return, bpftrace kprobe:FUNC[+OFF]).
The btrace form with `return` yields a kretprobe spec."""
from __future__ import annotations

from btc.probes._xprobe import expand_functions, kprobe_listing, kprobe_spec, kprobe_support, parse_kprobe
from btc.probes.base import ProbeRequest, ProbeSpec, Provider


def _resolve(req: ProbeRequest) -> list[ProbeSpec]:
    func, off, ret = parse_kprobe(req, retprobe=False)
    return [kprobe_spec(req, f, off, ret) for f in expand_functions(req, func)]


def _listing(dialect: str) -> list[str]:
    out = kprobe_listing(dialect, retprobe=False)
    return out + kprobe_listing(dialect, retprobe=True) if dialect == "btrace" else out


KPROBE = Provider("kprobe", ("btrace", "bpftrace"), _resolve, aliases=("k",),
                  listing=_listing, available=kprobe_support)
