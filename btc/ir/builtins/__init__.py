"""Registry of builtin variables and functions, one module per family (ply's `struct func`).

Each descriptor says which dialects offer the name, which probes may use it and its type or
lowering hook; `btc.ir.lower` consults the registry only through `variable()` / `function()`.
"""
from __future__ import annotations

import functools

from btc.ir.builtins.base import FuncDesc, VarDesc
from btc.ir.builtins import actions, aggregations, context, kernel_types, symbolic, values, variables

_VARS: dict[str, VarDesc] = {v.name: v for v in variables.VARIABLES}
_FUNCS: dict[str, FuncDesc] = {
    f.name: f for fam in (actions.FUNCTIONS, aggregations.FUNCTIONS, values.FUNCTIONS,
                    symbolic.FUNCTIONS) for f in fam
}


@functools.lru_cache(maxsize=None)
def variable(name: str, dialect: str) -> VarDesc | None:
    """The builtin variable `name` (arg0..arg9 share one descriptor), if the dialect has it."""
    key = "argN" if variables.is_argn(name) else name
    v = _VARS.get(key)
    return v if v is not None and dialect in v.dialects else None


def function(name: str, dialect: str) -> FuncDesc | None:
    f = _FUNCS.get(name)
    return f if f is not None and dialect in f.dialects else None


def variable_names(dialect: str) -> list[str]:
    names = [v.name for v in variables.VARIABLES if dialect in v.dialects and v.name != "argN"]
    return names + [f"arg{i}" for i in range(10)]


def function_names(dialect: str) -> list[str]:
    return [n for n, f in _FUNCS.items() if dialect in f.dialects]


__all__ = ["FuncDesc", "VarDesc", "variable", "function", "variable_names", "function_names"]
