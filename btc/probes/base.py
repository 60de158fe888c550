"""The data every provider produces: `ProbeSpec` (one attach point, fully resolved), the
layout of its context record (`ArgInfo`), where `retval` lives (`RetvalInfo`), and the
`Provider` descriptor that registry.py lists (ply's `struct provider`, as plain Python).

A spec is plain data: the attach plan goes into the object's metadata and
btc/runtime/attach.py performs it, so nothing here touches the kernel besides reading
tracefs/sysfs files.
"""
from __future__ import annotations

import functools
from dataclasses import dataclass, field  # ProbeSpec: a cached_property needs a __dict__
from typing import Any, Callable

from btc.diagnostics import BtcError, Span
from btc.records import Record  # cheaper to define than a dataclass (start-up)

# enum bpf_prog_type, include/uapi/linux/bpf.h. Duplicated from btc/runtime/abi.py on purpose:
# btc.probes is a leaf package and may not import the runtime.
PROG_KPROBE = 2
PROG_TRACEPOINT = 5
PROG_PERF_EVENT = 7
PROG_RAW_TRACEPOINT = 17
PROG_TRACING = 26

# How `argN` is read (see ProbeSpec.argn).
ARGN_KINDS = ("tp_slot", "tp_field", "raw", "regs", "btf", "none")


class ArgInfo(Record):
    """One field of a context record: where it is and how to read it."""

    name: str
    offset: int
    size: int
    signed: bool
    type_text: str = ""
    is_data_loc: bool = False  # u32 (len << 16) | offset, relative to the record start
    array_len: int | None = None  # element count of `char comm[16]`; 0 for `x[]`
    # usdt operands: `off(%reg)` reads user memory at (value at offset) + user_deref;
    # `$N` is the constant N and reads nothing
    user_deref: int | None = None
    constant: int | None = None


class RetvalInfo(Record):
    """Where `retval` is read. via="ctx": at ctx+offset; "raw": the u64 raw-tracepoint
    argument ctx[offset // 8]; "btf": fexit, ctx[nargs] (offset = 8 * nargs)."""

    offset: int
    size: int = 8
    signed: bool = True
    via: str = "ctx"


@dataclass(frozen=True)
class ProbeSpec:
    """One resolved attach point. Provider-specific fields stay at their defaults when unused:

    * tracepoint/syscall: `category`, `name` (tracefs event), `syscall` (btrace name)
    * rawtracepoint: `name`; fentry/fexit/kprobe/kretprobe: `name` = function, `offset`
    * profile/interval: `unit`, `value`; software/hardware: `name` = event, `value` = count
    * uprobe/uretprobe: `path`, `name` = symbol (or ""), `offset` = file offset, `address`
    """

    provider: str  # canonical provider name (see registry.PROVIDERS)
    display: str  # the `probe` builtin's text in the requesting dialect
    prog_type: int
    section: str  # libbpf section name
    plan: tuple[tuple[str, Any], ...]  # the AttachPlan (docs/design.md §3) as frozen pairs
    dialect: str = "btrace"
    argn_kind: str = "none"
    is_return: bool = False
    category: str = ""
    name: str = ""
    syscall: str = ""
    unit: str = ""
    value: int = 0
    path: str = ""
    offset: int = 0
    address: int = 0
    syscall_nr: int | None = None
    retval: RetvalInfo | None = None
    static_args: tuple[ArgInfo, ...] = ()
    support: Callable[[], str | None] | None = field(default=None, compare=False, repr=False)

    def attach_plan(self) -> dict:
        """A fresh plain dict, ready for JSON."""
        return dict(self.plan)

    def kernel_support(self) -> str | None:
        """None when this kernel can (as far as files tell) attach the probe, else the reason."""
        return self.support() if self.support else None

    @functools.cached_property
    def args(self) -> list[ArgInfo]:
        """The context record's fields: for tracepoints every non-common field of the tracefs
        format (read lazily: expanding `tracepoint:*:*` must stay cheap); else the
        provider's own list (registers, raw u64 slots)."""
        if self.argn_kind in ("tp_slot", "tp_field"):
            from btc.probes.tracefs_format import tracepoint_format

            fmt = tracepoint_format(self.category, self.name)
            return [f for f in fmt.fields if not f.name.startswith("common_")]
        return list(self.static_args)

    def argn(self, index: int) -> ArgInfo | None:
        """What `arg<index>` reads, or None when the probe has no such argument
        (btrace then reads 0; bpftrace rejects it)."""
        if self.argn_kind == "tp_slot":
            if self.name.startswith("sys_exit_"):
                return None  # the exit record holds only `ret`, which is retval
            slots = [a for a in self.args if a.name != "__syscall_nr"]
            if index >= len(slots):
                return None
            a = slots[index]
            # syscall arguments are always widened to one 8-byte slot at ctx+16+8*i
            return ArgInfo(a.name, 16 + 8 * index, 8, a.signed, a.type_text)
        args = self.args
        return args[index] if 0 <= index < len(args) else None


class ProbeRequest(Record):
    """A probe spec as written, split on ':' (quotes protect colons, as bpftrace's lexer)."""

    text: str
    parts: tuple[str, ...]
    span: Span | None
    dialect: str

    @property
    def provider(self) -> str:
        return self.parts[0]

    @property
    def rest(self) -> tuple[str, ...]:
        return self.parts[1:]

    def error(self, message: str, hint: str | None = None) -> BtcError:
        return BtcError(message, self.span, hint)

    def not_found(self, hint: str | None = None, bpftrace_message: str | None = None) -> BtcError:
        """btrace's wording for every unknown probe; bpftrace's is provider specific."""
        if self.dialect == "btrace" or bpftrace_message is None:
            return BtcError(f"probe '{self.text}' not found", self.span, hint)
        return BtcError(bpftrace_message, self.span, hint)


class Provider(Record):
    """One probe type: its names, how to resolve a spec, how to list what exists."""

    name: str  # canonical, the `provider` of its specs
    dialects: tuple[str, ...]
    resolve: Callable[[ProbeRequest], list[ProbeSpec]]
    aliases: tuple[str, ...] = ()  # bpftrace short names (btrace has none)
    spelled: str = ""  # the word users type when it differs from `name` (BEGIN)
    listing: Callable[[str], list[str]] | None = None  # dialect -> entries
    available: Callable[[], str | None] = lambda: None

    @property
    def word(self) -> str:
        return self.spelled or self.name


def split_spec(text: str) -> tuple[str, ...]:
    """Split on ':' outside double quotes; quotes are dropped (`uprobe:"a:b":f`)."""
    parts: list[str] = []
    cur: list[str] = []
    quoted = False
    i = 0
    while i < len(text):
        c = text[i]
        if c == '"':
            quoted = not quoted
        elif c == "\\" and quoted and i + 1 < len(text):
            i += 1
            cur.append(text[i])
        elif c == ":" and not quoted:
            parts.append("".join(cur))
            cur = []
        else:
            cur.append(c)
        i += 1
    parts.append("".join(cur))
    return tuple(parts)


def plan(kind: str, **fields: Any) -> tuple[tuple[str, Any], ...]:
    return (("kind", kind),) + tuple(fields.items())


def hint_for(name: str, candidates: list[str] | set[str]) -> str | None:
    from btc.diagnostics import closest

    found = closest(name, candidates)
    return f"did you mean '{found}'?" if found else None


def parse_count(text: str) -> int | None:
    """A bpftrace probe argument (ast/int_parser.cpp to_uint): `_` separators allowed, and
    `1e6`-style scientific notation (coefficient 0-9, exponent up to 16); else as parse_int."""
    t = text.replace("_", "")
    if not t.lower().startswith(("0x", "-0x")) and ("e" in t or "E" in t):
        coeff, _, exp = t.replace("E", "e").partition("e")
        if not (coeff.isdigit() and exp.isdigit()) or int(coeff) > 9 or int(exp) > 16:
            return None
        return int(coeff) * 10 ** int(exp)
    return parse_int(t)


def parse_int(text: str) -> int | None:
    """C-style integer (decimal, 0x hex, leading-0 octal), as strtol(…, 0); None if invalid."""
    t = text.strip()
    try:
        if t.lower().startswith(("0x", "-0x")):
            return int(t, 16)
        if len(t) > 1 and t.startswith("0") and t.isdigit():
            return int(t, 8)
        return int(t, 10)
    except ValueError:
        return None
