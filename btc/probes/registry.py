"""The ordered table of providers and `resolve`, the one entry point the analyser calls.

Order matters twice: it is the order of `btc list`, and of hint candidates. Aliases are
bpftrace's (PROBE_LIST); btrace knows only full names and needs exactly three parts.
"""
from __future__ import annotations

import importlib

from btc.diagnostics import DIALECTS, BtcError, Span
from btc.probes.base import ProbeRequest, ProbeSpec, Provider, hint_for, split_spec

# (module, attribute, name, word, aliases, dialects) of every provider, in order. The names
# are spelled out here so that resolving `BEGIN` imports the special provider alone, not all
# sixteen modules (compiler start-up); tests/test_startup.py checks them against the objects.
_TABLE: tuple[tuple[str, str, str, str, tuple[str, ...], tuple[str, ...]], ...] = (
    ("special", "BEGIN", "begin", "BEGIN", ("begin",), ("btrace", "bpftrace")),
    ("special", "END", "end", "END", ("end",), ("btrace", "bpftrace")),
    ("profile", "PROFILE", "profile", "profile", ("p",), ("btrace", "bpftrace")),
    ("interval", "INTERVAL", "interval", "interval", ("i",), ("btrace", "bpftrace")),
    ("syscall", "SYSCALL", "syscall", "syscall", (), ("btrace",)),
    ("tracepoint", "TRACEPOINT", "tracepoint", "tracepoint", ("t",), ("btrace", "bpftrace")),
    ("rawtracepoint", "RAWTRACEPOINT", "rawtracepoint", "rawtracepoint", ("rt",), ("bpftrace",)),
    ("kprobe", "KPROBE", "kprobe", "kprobe", ("k",), ("btrace", "bpftrace")),
    ("kretprobe", "KRETPROBE", "kretprobe", "kretprobe", ("kr",), ("bpftrace",)),
    ("uprobe", "UPROBE", "uprobe", "uprobe", ("u",), ("bpftrace",)),
    ("uprobe", "URETPROBE", "uretprobe", "uretprobe", ("ur",), ("bpftrace",)),
    ("fentry", "FENTRY", "fentry", "fentry", ("f", "kfunc"), ("bpftrace",)),
    ("fentry", "FEXIT", "fexit", "fexit", ("fr", "kretfunc"), ("bpftrace",)),
    ("usdt", "USDT", "usdt", "usdt", ("U",), ("bpftrace",)),
    ("software", "SOFTWARE", "software", "software", ("s",), ("bpftrace",)),
    ("hardware", "HARDWARE", "hardware", "hardware", ("h",), ("bpftrace",)),
)


def _load(entry: tuple) -> Provider:
    return getattr(importlib.import_module(f"btc.probes.{entry[0]}"), entry[1])


def __getattr__(name: str):
    # PROVIDERS: every provider object (imports every provider module; listing needs them)
    if name == "PROVIDERS":
        providers = tuple(_load(e) for e in _TABLE)
        globals()["PROVIDERS"] = providers
        return providers
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def _entries(dialect: str) -> dict[str, tuple]:
    """Every word that names a provider in `dialect` (full names, then aliases) -> its entry."""
    names: dict[str, tuple] = {}
    for e in _TABLE:
        if dialect in e[5]:
            names[e[3]] = e
    if dialect == "bpftrace":
        for e in _TABLE:
            if dialect in e[5]:
                for alias in e[4]:
                    names.setdefault(alias, e)
    return names


# bpftrace accepts these words, but btc has no provider for them
_UNSUPPORTED_BPFTRACE = ("watchpoint", "asyncwatchpoint", "iter", "self", "w", "aw", "it")


def provider_names(dialect: str) -> dict[str, Provider]:
    """Every word that names a provider in `dialect` (full names, then aliases)."""
    return {word: _load(e) for word, e in _entries(dialect).items()}


def find_provider(name: str) -> Provider | None:
    """The provider whose canonical name is `name`."""
    for e in _TABLE:
        if e[2] == name:
            return _load(e)
    return None


def resolve_all(text: str, span: Span | None = None, dialect: str = "btrace") -> list[ProbeSpec]:
    """Every attach point `text` names (wildcards expanded), or BtcError at `span`."""
    if dialect not in DIALECTS:
        raise BtcError(f"unknown dialect '{dialect}'", span)
    req = ProbeRequest(text.strip(), split_spec(text.strip()), span, dialect)
    names = _entries(dialect)
    entry = names.get(req.provider)
    if entry is None:
        raise _unknown_provider(req, names)
    provider = _load(entry)
    if dialect == "btrace" and provider.word not in ("BEGIN", "END") and len(req.parts) != 3:
        raise req.not_found()
    return provider.resolve(req)


def resolve(text: str, span: Span | None = None, dialect: str = "btrace") -> ProbeSpec | list[ProbeSpec]:
    """One ProbeSpec; a list when `text` holds a wildcard that expanded."""
    specs = resolve_all(text, span, dialect)
    if len(specs) == 1 and not any(ch in text for ch in "*?["):
        return specs[0]
    return specs


def _unknown_provider(req: ProbeRequest, names: dict[str, tuple]) -> BtcError:
    hint = hint_for(req.provider, [n for n in names if len(n) > 2])
    if req.dialect == "btrace":
        return req.not_found(hint)
    if req.provider == "syscall" and len(req.rest) == 2:
        when = "exit" if req.rest[1] == "return" else "enter"
        hint = f"use tracepoint:syscalls:sys_{when}_{req.rest[0]}"
    if req.provider in _UNSUPPORTED_BPFTRACE:
        return req.error(f"probe type not supported: {req.provider}")
    return req.error(f"Invalid probe type: {req.provider}", hint)
