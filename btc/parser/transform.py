"""lark parse tree -> btc AST. Every node gets the Span of the text it was parsed from."""
from __future__ import annotations

import functools
import re
from types import SimpleNamespace

from btc.diagnostics import Span
from btc.parser import ast
from btc.parser.construct import constructor
from btc.parser.lalr import Token

# Builtin variables of both dialects (bt-language.md §6); anything else bare is an Ident.
BUILTINS = frozenset(
    "pid tid comm cpu nsecs retval probe kstack ustack uid gid elapsed args func cgroup "
    "curtask rand cpid ctx username jiffies numaid".split()
)
_ARG_RE = re.compile(r"s?arg[0-9]")


# BUILTINS plus every name _ARG_RE matches: one set lookup per name in the parser.
_BUILTIN_NAMES = BUILTINS | {f"{s}arg{i}" for s in ("", "s") for i in range(10)}


def is_builtin(name: str) -> bool:
    return name in _BUILTIN_NAMES


@functools.cache
def _makers() -> SimpleNamespace:
    """Positional constructors for the nodes built most often (see construct.py: the
    keyword `__init__` of frozen nodes is most of the cost of a reduction). Made on first
    use, not at import, to keep `import btc.parser` cheap."""
    c = constructor
    return SimpleNamespace(
        Int=c(ast.Int, "value", "span"), Str=c(ast.Str, "value", "span"),
        Builtin=c(ast.Builtin, "name", "span"), Ident=c(ast.Ident, "name", "span"),
        Var=c(ast.Var, "name", "span"), MapRef=c(ast.MapRef, "name", "keys", "span"),
        Binary=c(ast.Binary, "op", "lhs", "rhs", "span"),
        Call=c(ast.Call, "name", "args", "span"), Field=c(ast.Field, "expr", "name", "arrow", "span"),
        Assign=c(ast.Assign, "target", "value", "span"),
        ExprStmt=c(ast.ExprStmt, "expr", "span"), Empty=c(ast.Empty, "span"),
        Block=c(ast.Block, "stmts", "span"), If=c(ast.If, "cond", "then", "orelse", "span"),
        Rule=c(ast.Rule, "probes", "filter", "body", "span"),
        Probe=c(ast.Probe, "text", "span"),
        Span=c(Span, "file", "line", "col", "end_line", "end_col"))


class ToAst:
    """One method per grammar rule or alias (see grammar/*.lark), called by btc.parser.lalr
    at each reduction with the span of the rule's text and its kept children."""

    def __init__(self, filename: str, dialect: str, source: str):
        self.filename = filename
        self.dialect = dialect
        self.source = source
        self.new = _makers()

    # ---------------------------------------------------------------- helpers

    def tspan(self, tok: Token) -> Span:
        return self.new.Span(self.filename, tok[0], tok[1], tok[2], tok[3])

    # ---------------------------------------------------------------- program

    def start(self, span, children):
        preamble, config, rules = (), (), []
        for child in children:
            if isinstance(child, ast.Rule):
                rules.append(child)
            elif isinstance(child, _Config):
                config = child.items
            else:
                preamble = child
        return ast.Program(rules=tuple(rules), config=config, preamble=preamble,
                           dialect=self.dialect, source=self.source, span=span)

    def preamble(self, span, children):
        return tuple(ast.StructDef(text=str(t), span=self.tspan(t)) for t in children)

    def config(self, span, children):
        return _Config(children[0])

    def config_items(self, span, children):
        return tuple(children)

    def config_item(self, span, children):
        name, value = children
        val = value.value if value.type == "INT" else str(value)
        return ast.ConfigItem(name=str(name), value=val, span=span)

    def rule(self, span, children):
        probes, *rest = children
        filt = rest[0] if len(rest) == 2 else None
        return self.new.Rule(probes, filt, rest[-1], span)

    def probes(self, span, children):
        return tuple(self.new.Probe(str(t), self.tspan(t)) for t in children)

    def filter(self, span, children):
        return children[1]

    # ---------------------------------------------------------------- statements

    def block(self, span, children):
        stmts: list[ast.Stmt] = []
        terminable = False  # btrace: a `;` ending a simple statement is not kept apart
        for child in children:
            for stmt in child if isinstance(child, list) else [child]:
                if isinstance(stmt, ast.Empty) and terminable:
                    terminable = False
                    continue
                stmts.append(stmt)
                terminable = _is_simple(stmt)
        return self.new.Block(tuple(stmts), span)

    def stmt_list(self, span, children):
        out: list[ast.Stmt] = []
        for child in children:
            out.extend(child if isinstance(child, list) else [child])
        return out

    def empty(self, span, children):
        return self.new.Empty(span)

    def _as_block(self, body) -> ast.Block:
        if isinstance(body, ast.Block):
            return body
        return ast.Block(stmts=(body,), span=body.span)

    def if_stmt(self, span, children):
        cond, then, *orelse = children
        other = None
        if orelse:
            other = orelse[0] if isinstance(orelse[0], ast.If) else self._as_block(orelse[0])
        return self.new.If(cond, self._as_block(then), other, span)

    def while_stmt(self, span, children):
        return ast.While(cond=children[0], body=children[1], span=span)

    def unroll_stmt(self, span, children):
        return ast.Unroll(count=children[0], body=children[1], span=span)

    def for_stmt(self, span, children):
        var, map_, body = children
        return ast.For(var=str(var), map=map_, body=body, span=span)

    def assign(self, span, children):
        return self.new.Assign(children[0], children[1], span)

    def compound_assign(self, span, children):
        target, op, value = children
        return ast.CompoundAssign(target=target, op=op, value=value, span=span)

    def compound_op(self, span, children):
        return str(children[0])[:-1]

    def let_decl(self, span, children):
        type_name = children[1] if len(children) > 1 else None
        return ast.Let(name=str(children[0]), type_name=type_name, span=span)

    def let_assign(self, span, children):
        decl, value = children
        return ast.Let(name=decl.name, type_name=decl.type_name, value=value,
                       span=span)

    def expr_stmt(self, span, children):
        return self.new.ExprStmt(children[0], span)

    def incdec_stmt(self, span, children):
        expr = self.post_incdec(span, children)
        return ast.ExprStmt(expr=expr, span=expr.span)

    def pre_incdec_stmt(self, span, children):
        expr = self.pre_incdec(span, children)
        return ast.ExprStmt(expr=expr, span=span)

    def jump(self, span, children):
        kind = children[0].type
        if kind == "BREAK":
            return ast.Break(span=span)
        if kind == "CONTINUE":
            return ast.Continue(span=span)
        return ast.Return(value=children[1] if len(children) > 1 else None, span=span)

    # ---------------------------------------------------------------- expressions

    def ternary(self, span, children):
        cond, then, orelse = children
        return ast.Ternary(cond=cond, then=then, orelse=orelse, span=span)

    def binary(self, span, children):
        lhs, op, rhs = children
        return self.new.Binary(op.value, lhs, rhs, span)  # operator tokens' values are text

    def unary(self, span, children):
        op, operand = children
                # `-5` is one negative literal, as in bpftrace's grammar (`int: MINUS INT`).
        if op.value == "-" and isinstance(operand, ast.Int) and operand.span.col == op.end_column \
                and operand.span.line == op.end_line:
            return ast.Int(value=-operand.value, span=span)
        return ast.Unary(op=str(op), operand=operand, span=span)

    def pre_incdec(self, span, children):
        op, target = children
        return ast.IncDec(target=target, op=str(op), prefix=True, span=span)

    def post_incdec(self, span, children):
        target, op = children
        return ast.IncDec(target=target, op=str(op), prefix=False, span=span)

    def cast(self, span, children):
        return ast.Cast(type_name=children[0], expr=children[1], span=span)

    def field(self, span, children):
        base, op, name = children
        return self.new.Field(base, str(name), op.type == "ARROW", span)

    def tuple_index(self, span, children):
        base, _dot, index = children
        return ast.TupleIndex(expr=base, index=index.value, span=span)

    def index(self, span, children):
        return ast.Index(expr=children[0], index=children[1], span=span)

    def call(self, span, children):
        name, *args = children
        return self.new.Call(str(name), tuple(args), span)

    def sizeof(self, span, children):
        arg = children[0]
        if isinstance(arg, str):
            return ast.Sizeof(type_name=arg, span=span)
        return ast.Sizeof(expr=arg, span=span)

    def offsetof(self, span, children):
        base, *rest = children
        fields = tuple(str(t) for t in rest if t.type == "NAME")
        if isinstance(base, str):
            return ast.Offsetof(fields=fields, type_name=base, span=span)
        return ast.Offsetof(fields=fields, expr=base, span=span)

    def int(self, span, children):
        return self.new.Int(children[0].value, span)

    def string(self, span, children):
        return self.new.Str(children[0].value, span)

    def name(self, span, children):
        word = str(children[0])
        if is_builtin(word):
            return self.new.Builtin(word, span)
        return self.new.Ident(word, span)

    def positional(self, span, children):
        return ast.Positional(index=children[0].value, span=span)

    def positional_count(self, span, children):
        return ast.PositionalCount(span=span)

    def map(self, span, children):
        keys = tuple(children[1:]) if len(children) > 1 else None
        return self.new.MapRef(str(children[0].value), keys, span)

    def var(self, span, children):
        return self.new.Var(str(children[0].value), span)

    def tuple(self, span, children):
        return ast.Tuple(elems=tuple(children), span=span)

    # ---------------------------------------------------------------- types (as text)

    def type_simple(self, span, children):
        return str(children[0])

    def type_struct(self, span, children):
        return f"{children[0]} {children[1]}"

    def type_pointer(self, span, children):
        inner = children[0]
        return inner + ("*" if inner.endswith("*") else " *")

    def type_array(self, span, children):
        size = str(children[1].value) if len(children) > 1 else ""
        return f"{children[0]}[{size}]"

    def type_struct_array(self, span, children):
        return f"{children[0]} {children[1]}[{children[2].value}]"


_COMPOUND_STMTS = (ast.If, ast.While, ast.Unroll, ast.For, ast.Empty)


def _is_simple(stmt: ast.Stmt) -> bool:
    return not isinstance(stmt, _COMPOUND_STMTS)


class _Config:
    """Marks the config items among `start`'s children."""

    __slots__ = ("items",)

    def __init__(self, items):
        self.items = items
