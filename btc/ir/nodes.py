"""The typed IR: what semantic analysis produces, passes rewrite and the back end lowers.

Every expression carries its `type`; every node keeps the span of the source it came from.
Nodes are frozen: a pass builds new nodes with `dataclasses.replace` and never edits input.

Differences between the dialects are settled when the IR is built (operators carry their
signedness, map reads say whether a missing key is inserted, btrace's persistent `$x` are
already hidden maps), so the back end needs no dialect switches except where noted
(`Program.dialect` for histogram bucketing).
"""
from __future__ import annotations

from btc.diagnostics import NO_SPAN, Span
from btc.ir.types import VOID, IntType, StrType, TupleType, Type
from btc.records import Record, field


class Node(Record, kw_only=True):
    span: Span = field(default=NO_SPAN, compare=False, repr=False)


# ---------------------------------------------------------------- expressions


class Expr(Node):
    type: Type = VOID


class Const(Expr):
    value: int


class StrConst(Expr):
    value: bytes  # without the NUL; type is StrType(len(value) + 1) or wider


class BuiltinRead(Expr):
    """A value the kernel gives each event: pid, tid, comm, nsecs, cpu, uid, gid, elapsed,
    cgroup, rand, curtask, jiffies, kstack, ustack, func, cpid, ... `clock` names the clock
    for nsecs ("boot", "realtime", "monotonic", "tai")."""

    name: str
    clock: str | None = None


class CtxLoad(Expr):
    """A field of the probe context at a fixed byte offset (tracepoint fields, syscall args,
    raw tracepoint args, pt_regs registers). `deref` = read through the pointer in the
    context word (raw_tp sys_enter: args live in the pt_regs that ctx[0] points to).
    Added by sema: `type` may be a StrType for a `char name[N]` tracepoint field (copy N
    bytes from ctx+offset; the field is NUL-padded by the kernel)."""

    offset: int
    deref_offset: int | None = None
    deref_user: bool = False  # read through the pointer from user memory (usdt `off(%reg)`)


class CtxDataLoc(Expr):
    """A tracepoint `__data_loc` string field: the u32 at `offset` holds (len << 16) | off."""

    offset: int


class LocalGet(Expr):
    name: str


class MapGet(Expr):
    """Read `map[key]`; 0 (or empty) when missing. `insert_missing`: btrace inserts the key
    with a zero value on a read miss."""

    map: str
    key: Expr | None = None
    insert_missing: bool = False


class MapHasKey(Expr):
    map: str
    key: Expr | None = None


class MapLen(Expr):
    """`len(@m)`: the number of entries (bpf_for_each_map_elem's count, bpftrace dialect)."""

    map: str


class Binary(Expr):
    """Integer arithmetic, bitwise ops and comparisons. `signed` chooses signed division,
    modulo, right shift and ordering. Comparisons have an integer 0/1 result."""

    op: str  # + - * / % & | ^ << >> == != < <= > >=
    lhs: Expr
    rhs: Expr
    signed: bool = True


class Logical(Expr):
    """`&&` / `||` with a 0/1 result. `short_circuit` False: both sides always run (btrace)."""

    op: str  # "&&" | "||"
    lhs: Expr
    rhs: Expr
    short_circuit: bool = True


class Unary(Expr):
    op: str  # "!" "~" "-"
    operand: Expr


class Ternary(Expr):
    cond: Expr
    then: Expr
    orelse: Expr


class Cast(Expr):
    """Integer width/signedness conversion (truncate, sign- or zero-extend), or (added by
    sema) string widening: a string copied into a longer NUL-padded string type."""

    expr: Expr


class StrCmp(Expr):
    """String (in)equality, or strncmp with `n` bytes; result 0/1 (`op` "==" or "!=")."""

    op: str
    lhs: Expr
    rhs: Expr
    n: int | None = None


class TupleNew(Expr):
    elems: tuple[Expr, ...]


class TupleGet(Expr):
    expr: Expr
    index: int


class Param(Expr):
    """Positional parameter `$index`, read from a read-only global patched at load time.
    Its type says how it is used: an integer, or a string of `type.length` bytes."""

    index: int


class ParamCount(Expr):
    """`$#`."""


class StrRead(Expr):
    """`str(ptr[, len])`: read a NUL-terminated string from user or kernel memory."""

    ptr: Expr
    length: Expr | None = None
    user: bool = True


class LoadTimeValue(Expr):
    """A u64 known only where the object runs, a `.rodata` slot the runtime fills at load
    time: `kaddr("name")` (role "kaddr": KASLR moves the kernel at each boot) and
    `cgroupid("path")` (role "cgroupid": cgroups are made and removed at run time)."""

    role: str  # btc.meta SLOT_* role
    name: str  # the kernel symbol or the cgroup path


class Call(Expr):
    """Any other value-returning builtin function (ksym, usym, ntop, ...), by name."""

    name: str
    args: tuple[Expr, ...] = ()


# ---------------------------------------------------------------- statements


class Stmt(Node):
    pass


class ExprStmt(Stmt):
    expr: Expr


class LocalSet(Stmt):
    name: str
    value: Expr


class MapSet(Stmt):
    map: str
    key: Expr | None
    value: Expr


class MapAgg(Stmt):
    """An aggregation update: `@map[key] = count()/sum(v)/min(v)/max(v)/avg(v)/stats(v)/
    hist(v)/lhist(v, ...)`. The kind and parameters are in the map's `AggType`."""

    map: str
    key: Expr | None
    value: Expr | None  # None for count()


class MapAdd(Stmt):
    """`@map[key] += delta` done atomically (from `++`, `--`, `+=` on maps)."""

    map: str
    key: Expr | None
    delta: Expr


class MapDelete(Stmt):
    map: str
    key: Expr | None


class If(Stmt):
    cond: Expr
    then: tuple[Stmt, ...]
    orelse: tuple[Stmt, ...] = ()


class While(Stmt):
    cond: Expr
    body: tuple[Stmt, ...]


class Unroll(Stmt):
    count: int
    body: tuple[Stmt, ...]


class Break(Stmt):
    pass


class Continue(Stmt):
    pass


class Return(Stmt):
    pass


class ForMap(Stmt):
    """`for ($kv : @m) { body }`: the body runs in a callback of bpf_for_each_map_elem with
    `$kv` = (key, value) of type `kv_type`. `captures` are the locals assigned before the
    loop that the body reads or writes (bpftrace 0.22+ shares them with the probe: writes
    are seen after the loop); the body's other locals are its own, fresh each iteration.
    For aggregations `kv_type`'s value is the value read back (summed over CPUs)."""

    var: str
    map: str
    kv_type: Type
    body: tuple[Stmt, ...] = ()
    captures: tuple[str, ...] = ()


# Asynchronous actions: the program sends an event through the ring buffer and user space
# does the work (docs/design.md §3, "Events").


class Printf(Stmt):
    fmt_id: int  # index into Program.printfs
    args: tuple[Expr, ...] = ()
    # "printf"; "system" / "cat": user space runs the formatted text as a shell command or
    # prints the named file (events EV_SYSTEM / EV_CAT, same payload as printf)
    action: str = "printf"


class PrintValue(Stmt):
    print_id: int  # index into Program.prints (the value's type)
    value: Expr


class PrintMap(Stmt):
    map: str
    top: int = 0
    div: int = 1
    top_value: Expr | None = None  # btrace `print(@m, @n)`: the top count read at run time


class ClearMap(Stmt):
    map: str


class ZeroMap(Stmt):
    map: str


class Time(Stmt):
    fmt_id: int  # index into Program.time_formats


class Exit(Stmt):
    code: Expr | None = None


# ---------------------------------------------------------------- declarations


class MapDecl(Node):
    """One bt map. `key` None = a scalar (`@x = 1`); `value` is an AggType for aggregations.
    `print_at_exit`: printed after END (per the dialect's rule, decided by analysis);
    `hidden`: compiler-made (btrace persistent locals), never printed."""

    name: str  # with the "@", e.g. "@start", "@"
    key: Type | None
    value: Type
    print_at_exit: bool = True
    hidden: bool = False
    max_entries: int = 4096


class PrintfDecl(Node):
    fmt: str
    arg_types: tuple[Type, ...] = ()

    @property
    def args_type(self) -> TupleType:
        return TupleType(self.arg_types)


class ProbeInfo(Node):
    """Everything about the attach point the back end and runtime need, as plain data."""

    text: str  # as resolved, e.g. "syscall:read:entry"
    display: str  # the `probe` builtin's value
    section: str  # ELF section per libbpf conventions
    prog_type: int
    attach: dict = field(default_factory=dict, compare=False)  # AttachPlan, docs/design.md §3


class Function(Node):
    """One BPF program: one probe of one rule (a rule with two probes gives two)."""

    name: str  # ELF symbol, e.g. "p0_syscall_read_entry"
    probe: ProbeInfo
    filter: Expr | None
    body: tuple[Stmt, ...]
    rule_index: int = 0


class Program(Node):
    dialect: str
    functions: tuple[Function, ...]
    maps: tuple[MapDecl, ...] = ()
    printfs: tuple[PrintfDecl, ...] = ()
    prints: tuple[Type, ...] = ()
    time_formats: tuple[str, ...] = ()
    params: tuple[tuple[int, Type], ...] = ()  # (index, type) of every $N used
    exit_order: tuple[str, ...] = ()  # map names in the order they print at exit
    uses_btf: bool = False  # constants from the kernel's BTF: the object records its digest
    source_name: str = ""
    source: str = field(default="", compare=False, repr=False)
    # Added by sema: non-fatal diagnostics (BtcError objects) the CLI prints as warnings.
    warnings: tuple = field(default=(), compare=False, repr=False)

    def map(self, name: str) -> MapDecl:
        for m in self.maps:
            if m.name == name:
                return m
        raise KeyError(name)


__all__ = [n for n in dir() if not n.startswith("_")] + ["IntType", "StrType"]
