"""profile:UNIT:N: sample on every CPU (perf SW CPU_CLOCK, one event per CPU)."""
from __future__ import annotations

from btc.probes._perf import resolve_timer, timer_listing
from btc.probes.base import Provider

PROFILE = Provider("profile", ("btrace", "bpftrace"), lambda req: resolve_timer(req, "profile"),
                   aliases=("p",), listing=lambda d: timer_listing("profile", d))
