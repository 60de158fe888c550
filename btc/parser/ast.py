"""The bt abstract syntax tree: one frozen record per construct, each with its source span.
(`btc.records`: dataclass-compatible, cheaper to define at import.)

The tree is dialect-neutral: the parser for either dialect builds these nodes, and dialect
semantics (precedence, lexing) are settled before a node exists. Probe specs stay text here;
`btc.probes` resolves them during analysis.
"""
from __future__ import annotations

from btc.diagnostics import NO_SPAN, Span
from btc.records import Record, field


class Node(Record, kw_only=True):
    span: Span = field(default=NO_SPAN, compare=False, repr=False)


# ---------------------------------------------------------------- expressions


class Expr(Node):
    pass


class Int(Expr):
    value: int


class Str(Expr):
    # Escapes already decoded; adjacent literals already joined (btrace). A byte escape
    # >= 0x80 (bpftrace `\xff`, `\377`) is stored as a lone surrogate, so
    # `value.encode("utf-8", "surrogateescape")` gives the exact bytes.
    value: str


class Ident(Expr):
    """A bare identifier that is not a builtin: a stack mode (`kstack(perf)`), a clock
    (`nsecs(monotonic)`), an enum value, or an unknown name for analysis to reject."""

    name: str


class Builtin(Expr):
    """A builtin variable: pid, tid, comm, nsecs, arg0, retval, args, probe, ..."""

    name: str


class Var(Expr):
    """A local variable `$name` (name without the `$`)."""

    name: str


class Positional(Expr):
    """`$1`, `$2`, ... (index >= 1)."""

    index: int


class PositionalCount(Expr):
    """`$#`."""


class MapRef(Expr):
    """`@name` or `@name[k1, k2]`. `name` excludes the `@` ("" for the unnamed map).

    `keys` is None for a bare `@name` and a tuple (possibly of one element) otherwise.
    """

    name: str
    keys: tuple[Expr, ...] | None = None


class Binary(Expr):
    op: str  # + - * / % & | ^ << >> == != < <= > >= && ||
    lhs: Expr
    rhs: Expr


class Unary(Expr):
    op: str  # ! ~ - * (deref)
    operand: Expr


class IncDec(Expr):
    """`x++`, `x--`, `++x`, `--x` on a variable or map entry."""

    target: Expr  # Var or MapRef
    op: str  # "++" or "--"
    prefix: bool


class Ternary(Expr):
    cond: Expr
    then: Expr
    orelse: Expr


class Call(Expr):
    """A function call: printf, count, hist, str, ksym, ... (name as written)."""

    name: str
    args: tuple[Expr, ...] = ()


class Tuple(Expr):
    elems: tuple[Expr, ...]


class TupleIndex(Expr):
    """`expr.N` (0-based)."""

    expr: Expr
    index: int


class Field(Expr):
    """`expr.name` or `expr->name` (args.field, struct members)."""

    expr: Expr
    name: str
    arrow: bool = False


class Index(Expr):
    """`expr[i]` on an array or pointer (not a map)."""

    expr: Expr
    index: Expr


class Cast(Expr):
    """`(type)expr`; `type_name` as written, e.g. "uint32", "struct task_struct *"."""

    type_name: str
    expr: Expr


class Offsetof(Expr):
    """`offsetof(type, a.b)` or `offsetof(expr, a.b)`: exactly one of the two is set."""

    fields: tuple[str, ...]
    type_name: str | None = None
    expr: Expr | None = None


class Sizeof(Expr):
    """`sizeof(type)` or `sizeof(expr)`: exactly one of the two is set."""

    type_name: str | None = None
    expr: Expr | None = None


# ---------------------------------------------------------------- statements


class Stmt(Node):
    pass


class ExprStmt(Stmt):
    expr: Expr


class Assign(Stmt):
    """`target = value`; aggregations appear as a Call value (`@m[k] = count()`)."""

    target: Expr  # Var or MapRef
    value: Expr


class CompoundAssign(Stmt):
    """`target op= value`; op is the binary operator without `=` ("+", "<<", ...)."""

    target: Expr
    op: str
    value: Expr


class Let(Stmt):
    """`let $x [: type] [= value];` (bpftrace 0.23)."""

    name: str
    type_name: str | None = None
    value: Expr | None = None


class Block(Node):
    stmts: tuple[Stmt, ...] = ()


class If(Stmt):
    cond: Expr
    then: Block
    orelse: "Block | If | None" = None


class While(Stmt):
    cond: Expr
    body: Block


class Unroll(Stmt):
    count: Expr
    body: Block


class For(Stmt):
    """`for ($kv : @map) { ... }`."""

    var: str
    map: MapRef
    body: Block


class Break(Stmt):
    pass


class Continue(Stmt):
    pass


class Return(Stmt):
    value: Expr | None = None  # bpftrace `return expr` (subprograms); btrace: always None


class Empty(Stmt):
    """A lone `;` (btrace)."""


# ---------------------------------------------------------------- program


class Probe(Node):
    """One attach point as written: `syscall:read:entry`, `BEGIN`, `t:sched:sched_switch`,
    `uprobe:/bin/bash:readline`, `profile:hz:99`. Resolved later by btc.probes."""

    text: str


class Rule(Node):
    probes: tuple[Probe, ...]
    filter: Expr | None
    body: Block


class ConfigItem(Node):
    name: str
    value: int | str


class StructDef(Node):
    """A C struct/union/enum definition or #include/#define line, kept as text."""

    text: str


class Program(Node):
    rules: tuple[Rule, ...]
    config: tuple[ConfigItem, ...] = ()
    preamble: tuple[StructDef, ...] = ()
    dialect: str = "btrace"
    source: str = field(default="", compare=False, repr=False)
