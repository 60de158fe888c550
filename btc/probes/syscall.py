"""syscall:NAME:entry|return (btrace): the Linux syscalls:sys_enter_NAME / sys_exit_NAME
tracepoints. `retval` is the tracepoint's `ret` (s64 at ctx+16, -errno on failure).

Their raw-tracepoint form (sys_enter/sys_exit plus a syscall-number check, linux-bpf.md §6,
§10) is in syscall_raw.py; `--syscall-attach` chooses it (btc/ir/syscall_attach.py).
"""
from __future__ import annotations

import fnmatch

from btc.probes.base import ProbeRequest, ProbeSpec, Provider, RetvalInfo, hint_for
from btc.probes.syscalls import syscall_number, syscall_tracepoints, tracepoint_name
from btc.probes.tracepoint import tracepoint_spec

_WHEN = {"entry": "sys_enter_", "return": "sys_exit_"}
_SYS_RET = RetvalInfo(offset=16, size=8, signed=True, via="ctx")


def _resolve(req: ProbeRequest) -> list[ProbeSpec]:
    if len(req.rest) != 2:
        raise req.not_found(_hint(req))
    if req.rest[1] not in _WHEN:
        raise req.not_found("syscall probes end in ':entry' or ':return'")
    name, when = req.rest
    if any(ch in name for ch in "*?["):
        names = [n for n in syscall_tracepoints() if fnmatch.fnmatchcase(n, name)]
        if not names:
            raise req.not_found(_hint(req))
        return [_spec(n, n, when, req.dialect) for n in names]
    tp = tracepoint_name(name)
    if tp is None:
        raise req.not_found(_hint(req))
    return [_spec(name, tp, when, req.dialect)]


def _spec(user_name: str, tp_name: str, when: str, dialect: str) -> ProbeSpec:
    ret = when == "return"
    return tracepoint_spec(
        "syscalls", _WHEN[when] + tp_name, dialect, display=f"syscall:{user_name}:{when}",
        provider="syscall", syscall=user_name, is_return=ret, retval=_SYS_RET if ret else None,
        syscall_nr=syscall_number(tp_name))


def _hint(req: ProbeRequest) -> str | None:
    name = req.rest[0] if req.rest else ""
    when = req.rest[1] if len(req.rest) == 2 and req.rest[1] in _WHEN else "entry"
    return hint_for(f"syscall:{name}:{when}",
                    [f"syscall:{n}:{when}" for n in syscall_tracepoints()])


SYSCALL = Provider("syscall", ("btrace",), _resolve,
                   listing=lambda d: [f"syscall:{n}:{w}" for n in syscall_tracepoints()
                                      for w in ("entry", "return")])
