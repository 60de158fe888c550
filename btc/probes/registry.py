"""The ordered table of providers and `resolve`, the one entry point the analyser calls.

Order matters twice: it is the order of `btc list`, and of hint candidates. Aliases are
bpftrace's (PROBE_LIST); btrace knows only full names and needs exactly three parts.
"""
from __future__ import annotations

from btc.diagnostics import DIALECTS, BtcError, Span
from btc.probes.base import ProbeRequest, ProbeSpec, Provider, hint_for, split_spec
from btc.probes.fentry import FENTRY, FEXIT
from btc.probes.hardware import HARDWARE
from btc.probes.interval import INTERVAL
from btc.probes.kprobe import KPROBE
from btc.probes.kretprobe import KRETPROBE
from btc.probes.profile import PROFILE
from btc.probes.rawtracepoint import RAWTRACEPOINT
from btc.probes.software import SOFTWARE
from btc.probes.special import BEGIN, END
from btc.probes.syscall import SYSCALL
from btc.probes.tracepoint import TRACEPOINT
from btc.probes.uprobe import UPROBE, URETPROBE
from btc.probes.usdt import USDT

PROVIDERS: tuple[Provider, ...] = (
    BEGIN, END, PROFILE, INTERVAL, SYSCALL, TRACEPOINT, RAWTRACEPOINT, KPROBE, KRETPROBE,
    UPROBE, URETPROBE, FENTRY, FEXIT, USDT, SOFTWARE, HARDWARE,
)

# bpftrace accepts these words, but btc has no provider for them
_UNSUPPORTED_BPFTRACE = ("watchpoint", "asyncwatchpoint", "iter", "self", "w", "aw", "it")


def provider_names(dialect: str) -> dict[str, Provider]:
    """Every word that names a provider in `dialect` (full names, then aliases)."""
    names: dict[str, Provider] = {}
    for p in PROVIDERS:
        if dialect in p.dialects:
            names[p.word] = p
    if dialect == "bpftrace":
        for p in PROVIDERS:
            if dialect in p.dialects:
                for alias in p.aliases:
                    names.setdefault(alias, p)
    return names


def find_provider(name: str) -> Provider | None:
    """The provider whose canonical name is `name`."""
    for p in PROVIDERS:
        if p.name == name:
            return p
    return None


def resolve_all(text: str, span: Span | None = None, dialect: str = "btrace") -> list[ProbeSpec]:
    """Every attach point `text` names (wildcards expanded), or BtcError at `span`."""
    if dialect not in DIALECTS:
        raise BtcError(f"unknown dialect '{dialect}'", span)
    req = ProbeRequest(text.strip(), split_spec(text.strip()), span, dialect)
    names = provider_names(dialect)
    provider = names.get(req.provider)
    if provider is None:
        raise _unknown_provider(req, names)
    if dialect == "btrace" and provider.word not in ("BEGIN", "END") and len(req.parts) != 3:
        raise req.not_found()
    return provider.resolve(req)


def resolve(text: str, span: Span | None = None, dialect: str = "btrace") -> ProbeSpec | list[ProbeSpec]:
    """One ProbeSpec; a list when `text` holds a wildcard that expanded."""
    specs = resolve_all(text, span, dialect)
    if len(specs) == 1 and not any(ch in text for ch in "*?["):
        return specs[0]
    return specs


def _unknown_provider(req: ProbeRequest, names: dict[str, Provider]) -> BtcError:
    hint = hint_for(req.provider, [n for n in names if len(n) > 2])
    if req.dialect == "btrace":
        return req.not_found(hint)
    if req.provider == "syscall" and len(req.rest) == 2:
        when = "exit" if req.rest[1] == "return" else "enter"
        hint = f"use tracepoint:syscalls:sys_{when}_{req.rest[0]}"
    if req.provider in _UNSUPPORTED_BPFTRACE:
        return req.error(f"probe type not supported: {req.provider}")
    return req.error(f"Invalid probe type: {req.provider}", hint)
