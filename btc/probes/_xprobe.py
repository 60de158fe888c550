"""What kprobe and kretprobe share (ply's xprobe.c): spec parsing, the availability check,
and register-based argN/retval."""
from __future__ import annotations

import fnmatch
from pathlib import Path

from btc.probes import _arch, _tracefs
from btc.probes.base import (PROG_KPROBE, ArgInfo, ProbeRequest, ProbeSpec, RetvalInfo,
                             parse_int, plan)

_KPROBE_PMU = Path("/sys/bus/event_source/devices/kprobe/type")


def kprobe_support() -> str | None:
    """None when the kernel has kprobes (PMU or legacy tracefs interface), else why not."""
    if _KPROBE_PMU.exists():
        return None
    root = _tracefs._existing_root()
    if root is not None and (root / "kprobe_events").exists():
        return None
    return "kprobes are not available on this kernel (no kprobe PMU, no tracefs kprobe_events)"


def reg_args(machine: str | None = None) -> tuple[ArgInfo, ...]:
    """argN of a function entry: the calling convention's argument registers in pt_regs."""
    return tuple(ArgInfo(f"arg{i}", off, 8, False, f"pt_regs.{reg}")
                 for i, (reg, off) in enumerate(_arch.reg_layout(machine).args))


def reg_retval(machine: str | None = None) -> RetvalInfo:
    return RetvalInfo(offset=_arch.reg_layout(machine).ret[1], size=8, signed=True, via="ctx")


def split_offset(req: ProbeRequest, target: str, allow_offset: bool) -> tuple[str, int]:
    """FUNC or FUNC+OFF (bpftrace): returns (FUNC, OFF)."""
    if "+" not in target:
        return target, 0
    if not allow_offset:
        raise req.error("Offset not allowed")
    func, _, off_text = target.partition("+")
    if "+" in off_text:
        raise req.error("Cannot take more than one offset")
    off = parse_int(off_text)
    if off is None:
        raise req.error(f"Found trailing non-numeric characters: {off_text}")
    return func, off


def parse_kprobe(req: ProbeRequest, retprobe: bool) -> tuple[str, int, bool]:
    """(function, offset, retprobe) for either dialect.

    btrace: kprobe:FUNC:entry|return. bpftrace: kprobe:FUNC, kprobe:FUNC+OFF,
    kprobe:MODULE:FUNC (the module only narrows the search, which the kernel does anyway).
    """
    if req.dialect == "btrace":
        if len(req.rest) != 2 or req.rest[1] not in ("entry", "return"):
            raise req.not_found()
        return req.rest[0], 0, req.rest[1] == "return"
    kind = req.provider if req.provider in ("kprobe", "kretprobe") else \
        ("kretprobe" if retprobe else "kprobe")
    if len(req.rest) not in (1, 2):
        raise req.error(f"{kind} probe type requires 1 argument")
    func, off = split_offset(req, req.rest[-1], allow_offset=not retprobe)
    if func == "":
        raise req.error("kprobes should be attached to a function")
    return func, off, retprobe


def expand_functions(req: ProbeRequest, func: str) -> list[str]:
    """`func` itself, or every traceable kernel function matching its wildcard."""
    if "*" not in func:
        return [func]
    text = _tracefs.read_file("available_filter_functions")
    if text is None:
        raise req.error(f"cannot expand '{func}': tracefs available_filter_functions is not "
                        "readable on this kernel")
    names = sorted({ln.split()[0] for ln in text.splitlines() if ln.strip()})
    found = [n for n in names if fnmatch.fnmatchcase(n, func)]
    if not found:
        raise req.error(f"No kernel functions match '{func}'")
    return found


def kprobe_spec(req: ProbeRequest, func: str, off: int, retprobe: bool) -> ProbeSpec:
    kind = "kretprobe" if retprobe else "kprobe"
    if req.dialect == "btrace":
        display = f"kprobe:{func}:{'return' if retprobe else 'entry'}"
    else:
        display = f"{kind}:{func}" + (f"+{off}" if off else "")
    return ProbeSpec(provider=kind, display=display, prog_type=PROG_KPROBE,
                     section=f"{'kretprobe' if retprobe else 'kprobe'}/{func}",
                     plan=plan("kprobe", function=func, offset=off, retprobe=retprobe),
                     dialect=req.dialect, argn_kind="none" if retprobe else "regs",
                     is_return=retprobe, name=func, offset=off,
                     retval=reg_retval() if retprobe else None,
                     static_args=() if retprobe else reg_args(), support=kprobe_support)


def kprobe_listing(dialect: str, retprobe: bool) -> list[str]:
    """Traceable functions (tracefs available_filter_functions), when readable."""
    if kprobe_support() is not None:
        return []
    text = _tracefs.read_file("available_filter_functions") or ""
    funcs = sorted({line.split()[0] for line in text.splitlines() if line.strip()})
    if dialect == "btrace":
        return [f"kprobe:{f}:{'return' if retprobe else 'entry'}" for f in funcs]
    return [f"{'kretprobe' if retprobe else 'kprobe'}:{f}" for f in funcs]
