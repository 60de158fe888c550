"""IR value types and their memory layouts.

Layout rules (shared with the runtime through `to_typedesc`, see docs/design.md §3): integers
little endian at their natural alignment, strings NUL-padded byte arrays aligned to 1, tuples
in C layout with their size rounded up to 8.
"""
from __future__ import annotations

from btc.records import Record


class Type(Record):
    def size(self) -> int:
        raise NotImplementedError

    def align(self) -> int:
        return 1


class IntType(Type):
    bits: int = 64
    signed: bool = True

    def size(self) -> int:
        return self.bits // 8

    def align(self) -> int:
        return self.bits // 8

    def __str__(self) -> str:
        return f"{'int' if self.signed else 'uint'}{self.bits}"


class StrType(Type):
    length: int  # bytes in memory, including room for the NUL

    def size(self) -> int:
        return self.length

    def __str__(self) -> str:
        return f"string[{self.length}]"


class TupleType(Type):
    elems: tuple[Type, ...]

    def offsets(self) -> tuple[int, ...]:
        out, off = [], 0
        for t in self.elems:
            off = _round_up(off, t.align())
            out.append(off)
            off += t.size()
        return tuple(out)

    def size(self) -> int:
        if not self.elems:
            return 0
        last = self.offsets()[-1] + self.elems[-1].size()
        return _round_up(last, 8)

    def align(self) -> int:
        return 8

    def __str__(self) -> str:
        return "(" + ", ".join(str(t) for t in self.elems) + ")"


class StackType(Type):
    kind: str  # "kernel" | "user"
    mode: str = ""  # bpftrace kstack(mode): "bpftrace" | "perf" | "raw"; "" = default
    limit: int = 0  # frames shown (0 = all); applied in user space

    def size(self) -> int:
        return 8

    def align(self) -> int:
        return 8

    def __str__(self) -> str:
        return "kstack" if self.kind == "kernel" else "ustack"


class InetType(Type):
    """`ntop()`: `u64 af; u8 addr[16]` (IPv4 in the first 4 bytes), printed as text in user
    space (TypeDesc {"k": "inet"})."""

    def size(self) -> int:
        return 24

    def align(self) -> int:
        return 8

    def __str__(self) -> str:
        return "inet"


class BufType(Type):
    """`buf(p, n)`: `u64 len; u8 data[length]`, size rounded up to 8 (TypeDesc {"k": "buf"})."""

    length: int

    def size(self) -> int:
        return _round_up(8 + self.length, 8)

    def align(self) -> int:
        return 8

    def __str__(self) -> str:
        return f"buffer[{self.length}]"


class KSymType(IntType):
    """`ksym(addr)`: a u64 kernel address printed as its symbol name (TypeDesc "ksym")."""

    bits: int = 64
    signed: bool = False

    def __str__(self) -> str:
        return "ksym"


class TimestampType(IntType):
    """bpftrace `strftime(fmt, ns)`: the u64 nanoseconds since boot, printed in user space as
    the wall-clock time through `fmt` (TypeDesc "strftime")."""

    bits: int = 64
    signed: bool = False
    fmt: str = ""

    def __str__(self) -> str:
        return "timestamp"


class ErrnoType(IntType):
    """bpftrace `strerror(n)`: the errno value, printed as its message (TypeDesc "strerror")."""

    bits: int = 64
    signed: bool = True

    def __str__(self) -> str:
        return "strerror"


class USymType(TupleType):
    """`usym(addr)`: `{u64 addr; u64 pid}`, printed as the symbol in pid's address space
    (TypeDesc "usym")."""

    elems: tuple[Type, ...] = (IntType(64, False), IntType(64, False))

    def __str__(self) -> str:
        return "usym"


class UserNameType(IntType):
    """bpftrace `username`: the u64 uid, printed as its /etc/passwd name in user space
    (TypeDesc "username"), as bpftrace resolves it at print time."""

    bits: int = 64
    signed: bool = False

    def __str__(self) -> str:
        return "username"


class ArrayType(StrType):
    """A whole integer array (tracepoint field `int x[N]`): `length` bytes holding
    `length / elem.size()` integers. It travels as a byte blob like a string (the back end
    copies it the same way) and prints as `[1,2,3]` (TypeDesc "array")."""

    elem: IntType = IntType(8, False)

    def count(self) -> int:
        return self.length // self.elem.size()

    def __str__(self) -> str:
        return f"{self.elem}[{self.count()}]"


class VoidType(Type):
    def size(self) -> int:
        return 0

    def __str__(self) -> str:
        return "void"


AGG_KINDS = ("count", "sum", "min", "max", "avg", "stats", "hist", "lhist")


class AggType(Type):
    """The value type of a map written by an aggregation function."""

    kind: str  # one of AGG_KINDS
    elem: IntType = IntType(64, True)
    bits: int = 0  # hist: buckets per power of two = 2**bits (bpftrace)
    lhist: tuple[int, int, int] | None = None  # (min, max, step)
    # Added by sema. min/max: a new key starts from 0 (btrace: MIN(old, v) with old = 0)
    # instead of taking the first value (bpftrace's "is set" flag).
    from_zero: bool = False

    def size(self) -> int:
        return 16 if self.kind in ("min", "max", "avg", "stats") else 8

    def align(self) -> int:
        return 8

    def __str__(self) -> str:
        extra = f", {self.lhist}" if self.lhist else (f", bits={self.bits}" if self.bits else "")
        if self.from_zero:
            extra += ", from 0"
        return f"{self.kind}({self.elem}{extra})"


INT64 = IntType(64, True)
UINT64 = IntType(64, False)
INT32 = IntType(32, True)
UINT32 = IntType(32, False)
BOOL = IntType(64, False)  # comparisons yield 0/1 as a u64
VOID = VoidType()


def _round_up(n: int, a: int) -> int:
    return (n + a - 1) // a * a


def round_up(n: int, a: int) -> int:
    return _round_up(n, a)


def to_typedesc(t: Type) -> dict:
    """The runtime's view of a type (plain JSON data, docs/design.md §3)."""
    if isinstance(t, KSymType):
        return {"k": "ksym"}
    if isinstance(t, UserNameType):
        return {"k": "username", "size": 8}
    if isinstance(t, ErrnoType):
        return {"k": "strerror", "size": 8}
    if isinstance(t, TimestampType):
        return {"k": "strftime", "size": 8, "fmt": t.fmt}
    if isinstance(t, ArrayType):
        return {"k": "array", "size": t.size(), "n": t.count(), "elem": to_typedesc(t.elem)}
    if isinstance(t, USymType):
        return {"k": "usym"}
    if isinstance(t, IntType):
        return {"k": "int", "size": t.size(), "signed": t.signed}
    if isinstance(t, StrType):
        return {"k": "str", "size": t.size()}
    if isinstance(t, TupleType):
        fields = [{"off": o, "t": to_typedesc(e)} for o, e in zip(t.offsets(), t.elems)]
        return {"k": "tuple", "size": t.size(), "fields": fields}
    if isinstance(t, StackType):
        desc = {"k": "stack", "kind": t.kind}
        if t.mode:
            desc["mode"] = t.mode
        if t.limit:
            desc["limit"] = t.limit
        return desc
    if isinstance(t, AggType):
        return {"k": "int", "size": 8, "signed": t.elem.signed}
    if isinstance(t, InetType):
        return {"k": "inet", "size": 24}
    if isinstance(t, BufType):
        return {"k": "buf", "size": t.size(), "len": t.length}
    return {"k": "none"}
