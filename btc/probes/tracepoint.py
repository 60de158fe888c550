"""tracepoint:CAT:NAME: static kernel tracepoints, attached through perf (one fd for all CPUs).

btrace reads argN as the N-th non-common field of the record ("tp_field"); syscall-entry
tracepoints read argN from the 8-byte slot at ctx+16+8*N ("tp_slot"). bpftrace names
fields through `args.NAME` (see ProbeSpec.args). `*` expands against tracefs.
"""
from __future__ import annotations

import fnmatch

from btc.probes import _tracefs
from btc.probes.base import (PROG_TRACEPOINT, ProbeRequest, ProbeSpec, Provider, hint_for,
                             plan)


def tracepoint_spec(category: str, name: str, dialect: str, display: str | None = None,
                    **extra) -> ProbeSpec:
    """The spec for one existing tracepoint (shared with the syscall provider)."""
    kind = "tp_slot" if category == "syscalls" and name.startswith("sys_") else "tp_field"
    return ProbeSpec(provider=extra.pop("provider", "tracepoint"),
                     display=display or f"tracepoint:{category}:{name}",
                     prog_type=PROG_TRACEPOINT, section=f"tracepoint/{category}/{name}",
                     plan=plan("tracepoint", category=category, name=name), dialect=dialect,
                     argn_kind=kind, category=category, name=name, **extra)


def match_events(cat_pat: str, name_pat: str) -> list[tuple[str, str]]:
    """Existing (category, name) pairs matching two shell globs, in available_events order."""
    if not _has_glob(cat_pat + name_pat):
        return [(cat_pat, name_pat)] if _tracefs.event_exists(cat_pat, name_pat) else []
    return [(c, n) for c, n in _tracefs.available_events()
            if fnmatch.fnmatchcase(c, cat_pat) and fnmatch.fnmatchcase(n, name_pat)]


def _has_glob(text: str) -> bool:
    return any(ch in text for ch in "*?[")


def _resolve(req: ProbeRequest) -> list[ProbeSpec]:
    parts = req.rest
    if req.dialect == "bpftrace" and parts == ("*",):
        parts = ("*", "*")
    if len(parts) != 2:
        if req.dialect == "btrace":
            raise req.not_found()
        raise req.error(f"tracepoint probe type requires 2 arguments, found {len(parts)}")
    cat, name = parts
    if req.dialect == "bpftrace" and (cat == "" or name == ""):
        raise req.error("tracepoint probe must have a target")
    found = match_events(cat, name)
    if not found:
        raise _not_found(req, cat, name)
    return [tracepoint_spec(c, n, req.dialect) for c, n in found]


def _not_found(req: ProbeRequest, cat: str, name: str):
    known = [f"{c}:{n}" for c, n in _tracefs.available_events()]
    hint = hint_for(f"{cat}:{name}", known)
    what = "tracepoints" if _has_glob(cat + name) else "tracepoint"
    return req.not_found(hint, f"{what} not found: {cat}:{name}")


def listing(dialect: str) -> list[str]:
    return sorted(f"tracepoint:{c}:{n}" for c, n in _tracefs.available_events())


TRACEPOINT = Provider("tracepoint", ("btrace", "bpftrace"), _resolve, aliases=("t",),
                      listing=listing)
