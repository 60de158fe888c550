"""syscall:NAME:entry|return (btrace): the Linux syscalls:sys_enter_NAME / sys_exit_NAME
tracepoints. `retval` is the tracepoint's `ret` (s64 at ctx+16, -errno on failure).

`raw_syscall_variant` gives the cheaper form the back end may prefer: raw tracepoint
sys_enter/sys_exit plus a syscall-number check (linux-bpf.md §6, §10).
"""
from __future__ import annotations

import dataclasses
import fnmatch

from btc.probes import _arch
from btc.probes.base import (PROG_RAW_TRACEPOINT, ArgInfo, ProbeRequest, ProbeSpec, Provider,
                             RetvalInfo, hint_for, plan)
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


def raw_syscall_variant(spec: ProbeSpec, machine: str | None = None) -> ProbeSpec:
    """The same probe as raw_tracepoint sys_enter/sys_exit + a check of `syscall_nr`.

    Entry: ctx[0] = struct pt_regs * of the syscall, ctx[1] = its number; argN is read with
    probe_read_kernel from the pt_regs offsets in `static_args` ("raw_syscall").
    Return: ctx[1] = return value; the number comes from pt_regs (see `_arch.RegLayout`).
    """
    if spec.provider != "syscall" or spec.syscall_nr is None:
        raise ValueError("only syscall probes with a known number have a raw variant")
    regs = _arch.reg_layout(machine)
    tp = "sys_exit" if spec.is_return else "sys_enter"
    args = () if spec.is_return else tuple(
        ArgInfo(f"arg{i}", off, 8, False, f"pt_regs.{reg}")
        for i, (reg, off) in enumerate(regs.syscall_args))
    return dataclasses.replace(
        spec, prog_type=PROG_RAW_TRACEPOINT, section=f"raw_tp/{tp}",
        plan=plan("raw_tracepoint", name=tp, syscall_nr=spec.syscall_nr),
        argn_kind="raw_syscall", static_args=args,
        retval=RetvalInfo(offset=8, size=8, signed=True, via="raw") if spec.is_return else None)


SYSCALL = Provider("syscall", ("btrace",), _resolve,
                   listing=lambda d: [f"syscall:{n}:{w}" for n in syscall_tracepoints()
                                      for w in ("entry", "return")])
