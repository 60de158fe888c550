"""Builtin variables: what the kernel gives each event (types follow bpftrace; btrace
arithmetic is 64-bit signed whatever the source width, settled in btc.ir.typecheck)."""
from __future__ import annotations

import re

from btc.ir.builtins.base import BOTH, BPFTRACE, VarDesc
from btc.ir.types import UINT32, UINT64, StackType, StrType, UserNameType

COMM = StrType(16)

VARIABLES: tuple[VarDesc, ...] = (
    VarDesc("pid", BOTH, UINT32),
    VarDesc("tid", BOTH, UINT32),
    VarDesc("cpu", BOTH, UINT32),
    VarDesc("comm", BOTH, COMM),
    VarDesc("nsecs", BOTH, UINT64),
    VarDesc("kstack", BOTH, StackType("kernel")),
    VarDesc("ustack", BOTH, StackType("user")),
    VarDesc("probe", BOTH, None),  # a string constant: the probe's display text
    VarDesc("argN", BOTH, None, probes="events"),
    VarDesc("retval", BOTH, None, probes="return"),
    VarDesc("args", BPFTRACE, None, probes="events"),
    VarDesc("uid", BPFTRACE, UINT64),
    VarDesc("gid", BPFTRACE, UINT64),
    VarDesc("elapsed", BPFTRACE, UINT64),
    VarDesc("cgroup", BPFTRACE, UINT64),
    VarDesc("rand", BPFTRACE, UINT32),
    VarDesc("curtask", BPFTRACE, UINT64),
    VarDesc("jiffies", BPFTRACE, UINT64),
    VarDesc("numaid", BPFTRACE, UINT32),
    VarDesc("cpid", BPFTRACE, UINT32),
    VarDesc("func", BPFTRACE, None),  # a string constant (btc.ir.builtins.symbolic)
    VarDesc("username", BPFTRACE, UserNameType()),  # btc.ir.builtins.context
    VarDesc("ctx", BPFTRACE, UINT64),  # btc.ir.builtins.context
)

_ARGN = re.compile(r"arg([0-9]+)$")


def is_argn(name: str) -> bool:
    return _ARGN.match(name) is not None


def argn_index(name: str) -> int:
    m = _ARGN.match(name)
    assert m is not None
    return int(m.group(1))


def nsecs_clock(dialect: str) -> str:
    """btrace's nsecs is the wall clock; bpftrace's is the boot clock (conflict #11)."""
    return "realtime" if dialect == "btrace" else "boot"


__all__ = ["VARIABLES", "is_argn", "argn_index", "nsecs_clock", "COMM"]
