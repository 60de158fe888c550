"""fentry:FUNC / fexit:FUNC (bpftrace; old names kfunc/kretfunc): BTF-typed TRACING programs.

Resolution checks the function in vmlinux BTF and records its BTF id; whether the kernel
really lets a TRACING program attach is a trial the runtime makes (EPERM on some VMs).
"""
from __future__ import annotations

import fnmatch

from btc.probes import _btf
from btc.probes.base import (PROG_TRACING, ArgInfo, ProbeRequest, ProbeSpec, Provider,
                             RetvalInfo, hint_for, plan)


def fentry_support() -> str | None:
    if _btf.btf_index() is None:
        return "fentry/fexit need kernel BTF (/sys/kernel/btf/vmlinux is missing)"
    return None


def _resolve(req: ProbeRequest, exit_: bool) -> list[ProbeSpec]:
    kind = "fexit" if exit_ else "fentry"
    if req.dialect == "btrace":
        raise req.not_found()
    if len(req.rest) not in (1, 2):
        raise req.error(f"{req.provider} probe type requires 1 argument")
    func = req.rest[-1]
    if func == "":
        raise req.error("fentry/fexit should specify a function")
    reason = fentry_support()
    if reason:
        raise req.error("fentry/fexit not available for your kernel version.", reason)
    funcs = _btf.btf_index().funcs
    names = sorted(n for n in funcs if fnmatch.fnmatchcase(n, func)) if "*" in func else \
        ([func] if func in funcs else [])
    if not names:
        raise req.error(f"function not found in kernel BTF: {func}", hint_for(func, list(funcs)))
    return [_spec(req, kind, n, *funcs[n]) for n in names]


def _spec(req: ProbeRequest, kind: str, func: str, btf_id: int, nparams: int) -> ProbeSpec:
    exit_ = kind == "fexit"
    # TRACING programs get the arguments as a u64 array; fexit appends the return value
    args = tuple(ArgInfo(f"arg{i}", 8 * i, 8, False, "u64") for i in range(nparams))
    return ProbeSpec(provider=kind, display=f"{kind}:{func}", prog_type=PROG_TRACING,
                     section=f"{kind}/{func}",
                     plan=plan("fentry", function=func, retprobe=exit_, btf_id=btf_id),
                     dialect=req.dialect, argn_kind="btf", is_return=exit_, name=func,
                     retval=RetvalInfo(offset=8 * nparams, via="btf") if exit_ else None,
                     static_args=args, support=fentry_support)


FENTRY = Provider("fentry", ("bpftrace",), lambda req: _resolve(req, False),
                  aliases=("f", "kfunc"), available=fentry_support)
FEXIT = Provider("fexit", ("bpftrace",), lambda req: _resolve(req, True),
                 aliases=("fr", "kretfunc"), available=fentry_support)
