"""The bt abstract syntax tree: one frozen dataclass per construct, each with its source span.

The tree is dialect-neutral: the parser for either dialect builds these nodes, and dialect
semantics (precedence, lexing) are settled before a node exists. Probe specs stay text here;
`btc.probes` resolves them during analysis.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from btc.diagnostics import NO_SPAN, Span

node = dataclass(frozen=True, slots=True, kw_only=True)


@node
class Node:
    span: Span = field(default=NO_SPAN, compare=False, repr=False)


# ---------------------------------------------------------------- expressions


@node
class Expr(Node):
    pass


@node
class Int(Expr):
    value: int


@node
class Str(Expr):
    # Escapes already decoded; adjacent literals already joined (btrace). A byte escape
    # >= 0x80 (bpftrace `\xff`, `\377`) is stored as a lone surrogate, so
    # `value.encode("utf-8", "surrogateescape")` gives the exact bytes.
    value: str


@node
class Ident(Expr):
    """A bare identifier that is not a builtin: a stack mode (`kstack(perf)`), a clock
    (`nsecs(monotonic)`), an enum value, or an unknown name for analysis to reject."""

    name: str


@node
class Builtin(Expr):
    """A builtin variable: pid, tid, comm, nsecs, arg0, retval, args, probe, ..."""

    name: str


@node
class Var(Expr):
    """A local variable `$name` (name without the `$`)."""

    name: str


@node
class Positional(Expr):
    """`$1`, `$2`, ... (index >= 1)."""

    index: int


@node
class PositionalCount(Expr):
    """`$#`."""


@node
class MapRef(Expr):
    """`@name` or `@name[k1, k2]`. `name` excludes the `@` ("" for the unnamed map).

    `keys` is None for a bare `@name` and a tuple (possibly of one element) otherwise.
    """

    name: str
    keys: tuple[Expr, ...] | None = None


@node
class Binary(Expr):
    op: str  # + - * / % & | ^ << >> == != < <= > >= && ||
    lhs: Expr
    rhs: Expr


@node
class Unary(Expr):
    op: str  # ! ~ - * (deref)
    operand: Expr


@node
class IncDec(Expr):
    """`x++`, `x--`, `++x`, `--x` on a variable or map entry."""

    target: Expr  # Var or MapRef
    op: str  # "++" or "--"
    prefix: bool


@node
class Ternary(Expr):
    cond: Expr
    then: Expr
    orelse: Expr


@node
class Call(Expr):
    """A function call: printf, count, hist, str, ksym, ... (name as written)."""

    name: str
    args: tuple[Expr, ...] = ()


@node
class Tuple(Expr):
    elems: tuple[Expr, ...]


@node
class TupleIndex(Expr):
    """`expr.N` (0-based)."""

    expr: Expr
    index: int


@node
class Field(Expr):
    """`expr.name` or `expr->name` (args.field, struct members)."""

    expr: Expr
    name: str
    arrow: bool = False


@node
class Index(Expr):
    """`expr[i]` on an array or pointer (not a map)."""

    expr: Expr
    index: Expr


@node
class Cast(Expr):
    """`(type)expr`; `type_name` as written, e.g. "uint32", "struct task_struct *"."""

    type_name: str
    expr: Expr


@node
class Offsetof(Expr):
    """`offsetof(type, a.b)` or `offsetof(expr, a.b)`: exactly one of the two is set."""

    fields: tuple[str, ...]
    type_name: str | None = None
    expr: Expr | None = None


@node
class Sizeof(Expr):
    """`sizeof(type)` or `sizeof(expr)`: exactly one of the two is set."""

    type_name: str | None = None
    expr: Expr | None = None


# ---------------------------------------------------------------- statements


@node
class Stmt(Node):
    pass


@node
class ExprStmt(Stmt):
    expr: Expr


@node
class Assign(Stmt):
    """`target = value`; aggregations appear as a Call value (`@m[k] = count()`)."""

    target: Expr  # Var or MapRef
    value: Expr


@node
class CompoundAssign(Stmt):
    """`target op= value`; op is the binary operator without `=` ("+", "<<", ...)."""

    target: Expr
    op: str
    value: Expr


@node
class Let(Stmt):
    """`let $x [: type] [= value];` (bpftrace 0.23)."""

    name: str
    type_name: str | None = None
    value: Expr | None = None


@node
class Block(Node):
    stmts: tuple[Stmt, ...] = ()


@node
class If(Stmt):
    cond: Expr
    then: Block
    orelse: "Block | If | None" = None


@node
class While(Stmt):
    cond: Expr
    body: Block


@node
class Unroll(Stmt):
    count: Expr
    body: Block


@node
class For(Stmt):
    """`for ($kv : @map) { ... }`."""

    var: str
    map: MapRef
    body: Block


@node
class Break(Stmt):
    pass


@node
class Continue(Stmt):
    pass


@node
class Return(Stmt):
    value: Expr | None = None  # bpftrace `return expr` (subprograms); btrace: always None


@node
class Empty(Stmt):
    """A lone `;` (btrace)."""


# ---------------------------------------------------------------- program


@node
class Probe(Node):
    """One attach point as written: `syscall:read:entry`, `BEGIN`, `t:sched:sched_switch`,
    `uprobe:/bin/bash:readline`, `profile:hz:99`. Resolved later by btc.probes."""

    text: str


@node
class Rule(Node):
    probes: tuple[Probe, ...]
    filter: Expr | None
    body: Block


@node
class ConfigItem(Node):
    name: str
    value: int | str


@node
class StructDef(Node):
    """A C struct/union/enum definition or #include/#define line, kept as text."""

    text: str


@node
class Program(Node):
    rules: tuple[Rule, ...]
    config: tuple[ConfigItem, ...] = ()
    preamble: tuple[StructDef, ...] = ()
    dialect: str = "btrace"
    source: str = field(default="", compare=False, repr=False)
