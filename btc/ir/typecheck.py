"""Type rules: joining types, integer promotion per dialect, and printf checking.

Pure functions over IR types; the lowerer (btc.ir.lower) applies them and reports errors.

Choices (documented in docs, see also btc.ir.builtins.values):
* Map values and keys hold integers as 64 bits; signed unless every stored value is unsigned.
  bpftrace locals keep their first type when later stores agree, else widen the same way.
* Strings join to the longest length (shorter ones are NUL-padded by an `ir.Cast`).
* btrace arithmetic is C `long`: every result is int64 and every op signed.
* bpftrace: C's usual conversions on 64-bit results (an unsigned 64-bit operand makes the
  result unsigned; narrower unsigned operands promote to int64), but `/` and `%` are always
  unsigned as in bpftrace v0.23.5.
"""
from __future__ import annotations

import re

from btc.diagnostics import Span
from btc.parser import ast
from btc.ir import nodes as ir
from btc.ir.types import BOOL, INT64, UINT64, IntType, StackType, StrType, TupleType, Type
from btc.ir.types import ArrayType, ErrnoType, KSymType, TimestampType, UserNameType, USymType

_SYMBOLIC = (KSymType, USymType, UserNameType, TimestampType, ErrnoType)  # keep their kind through joins and map storage

COMPARISONS = ("==", "!=", "<", "<=", ">", ">=")
ARITH = ("+", "-", "*", "/", "%", "&", "|", "^", "<<", ">>")


def join(a: Type, b: Type, widen_ints: bool = True) -> Type | None:
    """The type that holds values of both `a` and `b`, or None when they cannot mix."""
    if a is b or a == b:  # identity first: the shared INT64/UINT64 are the usual case
        if isinstance(a, _SYMBOLIC):
            return a
        return _int64(a.signed) if widen_ints and isinstance(a, IntType) else a
    if isinstance(a, IntType) and isinstance(b, IntType):
        signed = a.signed or b.signed  # signed unless every value is unsigned
        return IntType(64, signed) if widen_ints or a.bits != b.bits else IntType(a.bits, signed)
    if isinstance(a, ArrayType) or isinstance(b, ArrayType):
        return None  # arrays mix only with the same array type (handled above)
    if isinstance(a, StrType) and isinstance(b, StrType):
        return StrType(max(a.length, b.length))
    if isinstance(a, TupleType) and isinstance(b, TupleType) and len(a.elems) == len(b.elems):
        elems = [join(x, y, widen_ints) for x, y in zip(a.elems, b.elems)]
        return None if any(e is None for e in elems) else TupleType(tuple(elems))
    return None


def storage_type(t: Type, dialect: str = "bpftrace") -> Type:
    """How a value is stored in a map slot: integers widen to 64 bits (also inside tuples);
    btrace stores every integer as a C long (int64)."""
    if isinstance(t, _SYMBOLIC):
        return t
    if isinstance(t, IntType):
        return _int64(t.signed or dialect == "btrace")
    if isinstance(t, TupleType):
        return TupleType(tuple(storage_type(e, dialect) for e in t.elems))
    return t


def _int64(signed: bool) -> IntType:
    """IntType(64, signed), as the shared constant (types are values: equal either way)."""
    return INT64 if signed else UINT64


def fits(value: Type, slot: Type) -> bool:
    """True when a value of type `value` can be stored in `slot` (after a conversion)."""
    j = join(value, slot, widen_ints=False)
    return j is not None and (j == slot or _int_compatible(value, slot) or _str_fits(value, slot))


def _int_compatible(v: Type, s: Type) -> bool:
    return isinstance(v, IntType) and isinstance(s, IntType)


def _str_fits(v: Type, s: Type) -> bool:
    return isinstance(v, StrType) and isinstance(s, StrType) and v.length <= s.length


def arith_signed(dialect: str, op: str, lt: IntType, rt: IntType) -> bool:
    """Whether the operation uses signed semantics (division, shifts, ordering)."""
    if dialect == "btrace":
        return True
    if op in ("/", "%") :
        return False  # bpftrace v0.23.5 always emits unsigned div/mod
    if op == ">>":
        return lt.signed
    return promoted(lt, rt).signed


def promoted(lt: IntType, rt: IntType) -> IntType:
    """C's usual arithmetic conversions, computed at 64 bits."""
    def unsigned64(t: IntType) -> bool:
        return not t.signed and t.bits == 64
    if unsigned64(lt) or unsigned64(rt):
        return UINT64
    return INT64


def arith_result(dialect: str, op: str, lt: IntType, rt: IntType) -> IntType:
    if dialect == "btrace":
        return INT64
    if op in COMPARISONS:
        return BOOL
    if op in ("<<", ">>"):
        return IntType(64, lt.signed)
    return promoted(lt, rt)


def bool_type(dialect: str) -> IntType:
    """The type of a 0/1 result: btrace computes everything as a C long."""
    return INT64 if dialect == "btrace" else BOOL


def count_operands(e) -> int:
    """Leaf operands of a chain of binary operators (btrace allows at most 5)."""
    if isinstance(e, ast.Binary):
        return count_operands(e.lhs) + count_operands(e.rhs)
    return 1


# ---------------------------------------------------------------- printf

_BPFTRACE_SPEC = re.compile(r"%(-?[0-9]*(?:\.[0-9]+)?)(hh|h|ll|l|j|z|t)?(r[xh]?|[duoxXpcs])")
_BTRACE_SPEC = re.compile(r"%([-#+ 0]*)(\*|[0-9]+)?(?:\.(\*|[0-9]*))?([a-zA-Z%]?)")
_BTRACE_CONVS = set("diouxXcsaAeEfFgGb%")
_INT_CONVS = set("duoxXpc")


def bpftrace_specs(fmt: str) -> list[str]:
    """The conversions of a bpftrace format, in order (`%%` skipped)."""
    return [m.group(3) for m in _BPFTRACE_SPEC.finditer(fmt.replace("%%", "\0\0"))]


def check_printf(fmt: str, args: tuple[ir.Expr, ...], dialect: str, span: Span) -> list[tuple[str, Span]]:
    """Errors for a printf call. btrace converts any argument at run time (no checks)."""
    if dialect == "btrace":
        return []
    specs = bpftrace_specs(fmt)
    if len(args) < len(specs):
        return [(f"printf: Not enough arguments for format string ({len(args)} supplied, "
                 f"{len(specs)} expected)", span)]
    if len(args) > len(specs):
        return [(f"printf: Too many arguments for format string ({len(args)} supplied, "
                 f"{len(specs)} expected)", span)]
    out = []
    for conv, a in zip(specs, args):
        want = "integer" if conv in _INT_CONVS else ("string" if conv == "s" else None)
        # bpftrace checks symbolic values (ksym, usym, username) as the strings they print as
        have = "string" if isinstance(a.type, _SYMBOLIC) else type_word(a.type)
        if want == "integer" and have != "integer":
            out.append((f"printf: %{conv} specifier expects a value of type integer "
                        f"({have} supplied)", a.span))
        elif want == "string" and have not in ("string", "stack", "ksym", "usym", "inet", "username"):
            out.append((f"printf: %s specifier expects a value of type string "
                        f"({have} supplied)", a.span))
        elif conv.startswith("r") and have != "buffer":
            out.append((f"printf: %{conv} specifier expects a value of type buffer "
                        f"({have} supplied)", a.span))
    return out


def printf_warnings(fmt: str, dialect: str, span: Span) -> list[tuple[str, Span]]:
    """btrace reports bad directives only at run time (`%l: invalid directive`, then that
    printf stops); btc warns at compile time with the same text and still compiles."""
    if dialect != "btrace":
        return []
    out = []
    for m in _BTRACE_SPEC.finditer(fmt):
        conv = m.group(4)
        if conv not in _BTRACE_CONVS or conv == "":
            shown = conv or fmt[m.end(): m.end() + 1]
            out.append((f"%{shown}: invalid directive", span))
            break  # upstream stops printing at the first invalid directive
    return out


def type_word(t: Type) -> str:
    """bpftrace's words for a type in printf messages."""
    if isinstance(t, _SYMBOLIC):
        return str(t)
    if isinstance(t, IntType):
        return "integer"
    if isinstance(t, ArrayType):
        return "array"
    if isinstance(t, StrType):
        return "string"
    if isinstance(t, TupleType):
        return "tuple"
    if isinstance(t, StackType):
        return "stack"
    if type(t).__name__ == "BufType":
        return "buffer"
    return str(t)


def is_int(e: ir.Expr) -> bool:
    return isinstance(e.type, IntType)


__all__ = ["join", "storage_type", "fits", "arith_signed", "arith_result", "promoted",
           "check_printf", "printf_warnings", "bpftrace_specs", "count_operands", "type_word",
           "COMPARISONS", "ARITH", "BOOL"]
