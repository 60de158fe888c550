"""usdt:PATH:[NS:]PROBE (bpftrace): not supported yet (needs ELF notes and argument specs)."""
from __future__ import annotations

from btc.probes.base import ProbeRequest, ProbeSpec, Provider


def _resolve(req: ProbeRequest) -> list[ProbeSpec]:
    if req.dialect == "btrace":
        raise req.not_found()
    raise req.error("usdt probes are not supported by btc yet",
                    "use uprobe:PATH:FUNC on the function around the USDT site")


USDT = Provider("usdt", ("bpftrace",), _resolve, aliases=("U",),
                available=lambda: "usdt probes are not supported by btc yet")
