"""interval:UNIT:N: fire on one CPU only (perf SW CPU_CLOCK on the first online CPU)."""
from __future__ import annotations

from btc.probes._perf import resolve_timer, timer_listing
from btc.probes.base import Provider

INTERVAL = Provider("interval", ("btrace", "bpftrace"), lambda req: resolve_timer(req, "interval"),
                    aliases=("i",), listing=lambda d: timer_listing("interval", d))
