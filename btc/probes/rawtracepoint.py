"""rawtracepoint:NAME (bpftrace): BPF_RAW_TRACEPOINT_OPEN; argN is the raw u64 ctx[N].

Names and argument counts come from vmlinux BTF (`btf_trace_NAME` typedefs); without BTF
any tracefs event name is accepted and six u64 arguments are assumed.
"""
from __future__ import annotations

import fnmatch

from btc.probes import _btf, _tracefs
from btc.probes.base import (PROG_RAW_TRACEPOINT, ArgInfo, ProbeRequest, ProbeSpec, Provider,
                             hint_for, plan)

_UNKNOWN_ARGC = 6


def raw_tracepoint_names() -> list[str]:
    """Sorted names; from BTF when the kernel has it, else from tracefs events."""
    names = _btf.raw_tracepoint_names()
    if names:
        return list(names)
    return sorted({n for c, n in _tracefs.available_events() if c != "syscalls"}
                  | {"sys_enter", "sys_exit"})


def raw_tracepoints() -> dict[str, int | None]:
    """name -> argument count (None when unknown), sorted by name. Walks all of BTF."""
    index = _btf.btf_index()
    if index is not None and index.raw_tracepoints:
        return dict(sorted(index.raw_tracepoints.items()))
    return {n: None for n in raw_tracepoint_names()}


def _resolve(req: ProbeRequest) -> list[ProbeSpec]:
    if req.dialect == "btrace":
        raise req.not_found()
    if len(req.rest) not in (1, 2):
        raise req.error("rawtracepoint probe type requires 1 argument")
    name = req.rest[-1]  # rawtracepoint:MODULE:NAME (modern bpftrace) ignores the module
    if name == "":
        raise req.error("rawtracepoint should be attached to a function")
    known = raw_tracepoints()
    names = [n for n in known if fnmatch.fnmatchcase(n, name)] if "*" in name else \
        ([name] if name in known else [])
    if not names:
        raise req.error(f"rawtracepoint not found: {name}", hint_for(name, list(known)))
    return [_spec(n, known[n], req.dialect) for n in names]


def _spec(name: str, argc: int | None, dialect: str) -> ProbeSpec:
    count = _UNKNOWN_ARGC if argc is None else argc
    args = tuple(ArgInfo(f"arg{i}", 8 * i, 8, False, "u64") for i in range(count))
    return ProbeSpec(provider="rawtracepoint", display=f"rawtracepoint:{name}",
                     prog_type=PROG_RAW_TRACEPOINT, section=f"raw_tp/{name}",
                     plan=plan("raw_tracepoint", name=name), dialect=dialect, argn_kind="raw",
                     name=name, static_args=args)


RAWTRACEPOINT = Provider("rawtracepoint", ("bpftrace",), _resolve, aliases=("rt",),
                         listing=lambda d: [f"rawtracepoint:{n}" for n in raw_tracepoint_names()]
                         if d == "bpftrace" else [])
