"""`sizeof(TYPE)` and `offsetof(TYPE, a.b)` for C and kernel types (bpftrace): compile-time
constants from btc.probes.btf_types. A program whose constants came from the kernel's BTF
is marked (`Tables.uses_btf`) so its object records the BTF digest (kernel facts)."""
from __future__ import annotations

from btc.diagnostics import Span, closest
from btc.ir import nodes as ir
from btc.ir.types import UINT64
from btc.probes import btf_types


def _const(value: int, span: Span) -> ir.Expr:
    return ir.Const(value=value, type=UINT64, span=span)


def _uses_btf(lw, name: str) -> None:
    base = " ".join(name.split())
    if not base.endswith("*") and base not in btf_types.C_BASE_SIZES:
        lw.tables.uses_btf = True


def sizeof(lw, name: str, span: Span, ident: bool = False) -> ir.Expr:
    """sizeof a named type; `ident`: written as a bare word (`sizeof(u64)`), which bpftrace
    would otherwise read as an unknown identifier."""
    try:
        size = btf_types.type_size(name)
    except btf_types.TypeLookupError as err:
        near = closest(err.what, err.known)
        hint = f"did you mean '{near}'?" if near else None
        msg = f"Unknown identifier: '{name}'" if ident else \
            f'Cannot resolve unknown type "{err.what}"'
        lw.error(msg, span, hint)
        return _const(0, span)
    _uses_btf(lw, name)
    return _const(size, span)


def offsetof(lw, name: str, fields: tuple[str, ...], span: Span) -> ir.Expr:
    try:
        off = btf_types.field_offset(name, fields)
    except btf_types.TypeLookupError as err:
        near = closest(err.what, err.known)
        lw.error(str(err), span, f"did you mean '{near}'?" if near else None)
        return _const(0, span)
    _uses_btf(lw, name)
    return _const(off, span)


__all__ = ["sizeof", "offsetof"]
