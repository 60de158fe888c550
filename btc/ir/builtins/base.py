"""Descriptor shapes shared by the builtin families."""
from __future__ import annotations

from typing import Any, Callable

from btc.ir.types import Type
from btc.records import Record  # cheaper to define than a dataclass (start-up)

BOTH = ("btrace", "bpftrace")
BPFTRACE = ("bpftrace",)


class VarDesc(Record):
    """A builtin variable. `type` None: the probe decides (argN, retval, args).
    `probes`: "any"; "events" (not BEGIN/END); "return" (return probes only).
    `supported` False: known name that btc does not implement yet (a clear error)."""

    name: str
    dialects: tuple[str, ...]
    type: Type | None
    probes: str = "any"
    supported: bool = True


class FuncDesc(Record):
    """A function. kind: "action" (a statement), "agg" (assigned to a map) or "value".
    `lower(lowerer, call_ast) -> ir node` does the work; arity is checked before it runs."""

    name: str
    kind: str
    dialects: tuple[str, ...]
    min_args: int
    max_args: int
    lower: Callable[[Any, Any], Any] | None = None
    supported: bool = True
