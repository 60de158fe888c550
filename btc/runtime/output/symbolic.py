"""Values that only user space can turn into text: stacks, ksym and usym (TypeDesc kinds
"stack", "ksym", "usym"; docs/design.md §3). The BPF side stores ids and addresses; the
runtime passes a `SymbolText` whose callbacks do the lookups (btc.runtime.symbols).

Decoded Python values (decode.value_from_bytes): stack -> int (the stored u64), ksym -> int
(address), usym -> int `pid << 64 | address`. `resolve` turns them into text bytes, so
printf %s, print(), map keys/values and JSON print them like strings.
"""
from __future__ import annotations

from collections.abc import Callable  # not typing: ~6 ms of start-up

from btc.records import Record

SYMBOLIC_KINDS = frozenset({"stack", "ksym", "usym"})
_MASK64 = (1 << 64) - 1


class SymbolText(Record):
    # (stored value, "kernel"|"user") -> text; called with (value, kind, mode, limit) when
    # the TypeDesc has a bpftrace stack "mode" or frame "limit"
    stack: Callable[..., str] | None = None
    ksym: Callable[[int], str] | None = None  # address -> name
    usym: Callable[[int, int], str] | None = None  # (pid, address) -> name


def has_symbolic(td: dict | None) -> bool:
    if td is None:
        return False
    if td["k"] in SYMBOLIC_KINDS:
        return True
    return td["k"] == "tuple" and any(has_symbolic(f["t"]) for f in td["fields"])


def symbol_text(td: dict, value: int, sym: SymbolText | None) -> str:
    """Text of one stack/ksym/usym value; without a callback: the id or hex address."""
    kind = td["k"]
    if kind == "stack":
        if sym is not None and sym.stack is not None:
            kind = td.get("kind", "kernel")
            if td.get("mode") or td.get("limit"):
                return sym.stack(value, kind, td.get("mode"), int(td.get("limit") or 0))
            return sym.stack(value, kind)
        return str(value)
    addr = value & _MASK64
    if kind == "ksym" and sym is not None and sym.ksym is not None:
        return sym.ksym(addr)
    if kind == "usym" and sym is not None and sym.usym is not None:
        return sym.usym(value >> 64, addr)
    return f"0x{addr:x}"


def resolve(td: dict | None, value, sym: SymbolText | None):
    """`value` with every stack/ksym/usym inside it replaced by its text (as bytes)."""
    if td is None or value is None:
        return value
    kind = td["k"]
    if kind in SYMBOLIC_KINDS:
        return symbol_text(td, int(value), sym).encode("utf-8", "surrogateescape")
    if kind == "tuple" and isinstance(value, tuple):
        return tuple(resolve(f["t"], v, sym) for f, v in zip(td["fields"], value))
    return value


def as_symbol_text(sym) -> SymbolText | None:
    """Accept a SymbolText or a bare stack callback (the older `stack_text=` argument)."""
    if sym is None or isinstance(sym, SymbolText):
        return sym
    return SymbolText(stack=sym)
