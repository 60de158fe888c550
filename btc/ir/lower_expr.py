"""Lowering of AST expressions to typed IR expressions (the statement half is lower.py).

The same code runs during inference (quiet: errors are dropped, unknown types default to
int64 and the Env is widened) and for the final lowering (Env fixed, errors reported)."""
from __future__ import annotations

import functools
from types import SimpleNamespace

from btc.diagnostics import BtcError, ErrorCollector, Span, closest
from btc.ir import builtins, typecheck
from btc.ir import nodes as ir
from btc.ir.builtins import variables
from btc.ir.builtins.values import DEFAULT_STRLEN
from btc.ir.consts import wrap
from btc.ir.env import SCALAR, Env, Tables
from btc.ir.probe_info import ProbeFacts
from btc.ir.symbols import SymbolTable, map_name
from btc.ir.types import INT64, UINT64, AggType, ArrayType, IntType, StrType, TupleType, Type
from btc.parser import ast
from btc.parser.construct import constructor
from btc.probes.base import parse_int

# C semantics: division and remainder truncate toward zero
_FOLD_OPS = {
    "+": lambda a, b: a + b, "-": lambda a, b: a - b, "*": lambda a, b: a * b,
    "/": lambda a, b: abs(a) // abs(b) * (1 if (a < 0) == (b < 0) else -1),
    "%": lambda a, b: a - b * (abs(a) // abs(b) * (1 if (a < 0) == (b < 0) else -1)),
}

CAST_TYPES = {f"{p}int{b}": IntType(b, p == "") for p in ("", "u") for b in (8, 16, 32, 64)}
READABLE_AGGS = ("count", "sum", "min", "max", "avg")


@functools.cache
def node_makers() -> SimpleNamespace:
    """Positional constructors for the IR nodes built most often (see
    btc/parser/construct.py: faster than the keyword `__init__`). Made on first use."""
    c = constructor
    return SimpleNamespace(
        Const=c(ir.Const, "value", "type", "span"), Cast=c(ir.Cast, "expr", "type", "span"),
        Binary=c(ir.Binary, "op", "lhs", "rhs", "signed", "type", "span"),
        Logical=c(ir.Logical, "op", "lhs", "rhs", "short_circuit", "type", "span"),
        BuiltinRead=c(ir.BuiltinRead, "name", "clock", "type", "span"),
        MapGet=c(ir.MapGet, "map", "key", "insert_missing", "type", "span"),
        MapSet=c(ir.MapSet, "map", "key", "value", "span"),
        MapAgg=c(ir.MapAgg, "map", "key", "value", "span"),
        If=c(ir.If, "cond", "then", "orelse", "span"))


class ExprLowerer:
    def __init__(self, prog: ast.Program, symbols: SymbolTable, env: Env, tables: Tables,
                 errors: ErrorCollector, final: bool, params: list[str] | None):
        self.prog, self.dialect, self.symbols = prog, prog.dialect, symbols
        self.env, self.tables, self.errors, self.final = env, tables, errors, final
        self.params_given = params
        self.facts: ProbeFacts | None = None
        self.rule = 0
        self.fn_index = 0
        self.assigned: set[str] = set()  # bpftrace locals assigned so far in this function
        # inside a `for` body: the outer locals it shares, with their type keys outside
        self.captured: dict[str, tuple] = {}
        self._in_binary = False
        self.new = node_makers()

    def local_key(self, name: str) -> tuple:
        """The Env key of local `name`: a `for` body's shared locals keep the outer key."""
        return self.captured.get(name) or (self.fn_index, name)

    # ------------------------------------------------------------ helpers for hooks

    @property
    def bool_t(self) -> IntType:
        return typecheck.bool_type(self.dialect)

    def error(self, message: str, span: Span | None, hint: str | None = None) -> None:
        # Inference rounds report too: the round that converges is the final lowering.
        self.errors.add(message, span, hint)

    def warn(self, message: str, span: Span | None) -> None:
        self.tables.warnings.append(BtcError(message, span))

    def is_int(self, e: ir.Expr) -> bool:
        return isinstance(e.type, IntType)

    def int_expr(self, e: ast.Expr, fname: str) -> ir.Expr:
        v = self.expr(e)
        if not self.is_int(v):
            self.error(f"{fname}() expects an integer argument ({v.type} provided)", e.span)
            return ir.Const(value=0, type=INT64, span=e.span)
        return v

    def const_arg(self, e: ast.Expr, fname: str, what: str) -> int | None:
        """An integer literal argument (unary minus allowed in bpftrace)."""
        if isinstance(e, ast.Int):
            return e.value
        if isinstance(e, ast.Unary) and e.op == "-" and isinstance(e.operand, ast.Int):
            return -e.operand.value
        if self.dialect == "btrace":
            # btrace evaluates these arguments at run time (`str($1, 2 + $2)`); btc needs
            # them at compile time, so it folds literals and numeric positional parameters
            value = self.fold_int(e)
            if value is not None:
                return value
            self.error(f"{fname}: {what} must be a constant (integers, $N, + - * /)", e.span)
            return None
        if isinstance(e, ast.Positional):  # bpftrace substitutes `$N` as a literal here
            value = self.fold_int(e)
            if value is not None:
                return value
        self.error(f"{fname}: {what} must be an integer literal", e.span)
        return None

    def fold_int(self, e: ast.Expr) -> int | None:
        """The value of an integer expression made of literals and given numeric `$N`."""
        if isinstance(e, ast.Int):
            return e.value
        if isinstance(e, ast.Positional):
            given = self.params_given
            word = given[e.index - 1] if given is not None and e.index <= len(given) else None
            return parse_int(word) if word is not None else None
        if isinstance(e, ast.Unary) and e.op == "-":
            v = self.fold_int(e.operand)
            return -v if v is not None else None
        if isinstance(e, ast.Binary) and e.op in _FOLD_OPS:
            a, b = self.fold_int(e.lhs), self.fold_int(e.rhs)
            if a is None or b is None or (e.op in "/%" and b == 0):
                return None
            return _FOLD_OPS[e.op](a, b)
        return None

    def user_pointers(self) -> bool:
        """Whether pointers in this probe point to user memory (syscall arguments, uprobes)."""
        spec = self.facts.spec if self.facts else None
        if spec is None:
            return True
        return spec.provider in ("syscall", "uprobe", "uretprobe") or spec.category == "syscalls"

    def map_name(self, ref: ast.MapRef) -> str:
        return map_name(ref)

    def map_is_keyed(self, name: str) -> bool:
        k = self.env.key(name)
        if k is None:
            sym = self.symbols.maps.get(name)
            return bool(sym and sym.keyed)
        return k != SCALAR

    def note_map_use(self, name: str, span: Span) -> None:
        """A whole-map use (print/clear/zero): the map must exist."""
        sym = self.symbols.maps.get(name)
        if self.dialect == "bpftrace" and (sym is None or not sym.stored):
            self.error(f"Undefined map: {name}", span)

    def add_printf(self, fmt: str, types: tuple[Type, ...], span: Span) -> int:
        return self.tables.printf(fmt, types, span)

    def add_print(self, t: Type) -> int:
        return self.tables.print_type(t)

    def add_time(self, fmt: str) -> int:
        return self.tables.time(fmt)

    def param(self, index: int, t: Type, span: Span) -> ir.Param:
        self.tables.params.add((index, t))
        return ir.Param(index=index, type=t, span=span)

    # ------------------------------------------------------------ conversions

    def convert(self, e: ir.Expr, slot: Type) -> ir.Expr:
        """`e` as a value of type `slot` (the caller checked the two fit)."""
        if e.type is slot or e.type == slot:
            return e
        if isinstance(e, ir.Const) and isinstance(slot, IntType):
            return self.new.Const(wrap(e.value, slot), slot, e.span)
        if isinstance(e, ir.StrConst) and isinstance(slot, StrType):
            return ir.StrConst(value=e.value, type=slot, span=e.span)
        if isinstance(slot, TupleType) and isinstance(e.type, TupleType):
            elems = e.elems if isinstance(e, ir.TupleNew) else tuple(
                ir.TupleGet(expr=e, index=i, type=t, span=e.span) for i, t in enumerate(e.type.elems))
            return ir.TupleNew(elems=tuple(self.convert(x, t) for x, t in zip(elems, slot.elems)),
                               type=slot, span=e.span)
        return self.new.Cast(e, slot, e.span)

    def truth(self, e: ir.Expr, span: Span) -> ir.Expr:
        """A value used as a condition: integers as they are, strings non-empty."""
        if isinstance(e.type, IntType):
            return e
        if isinstance(e.type, StrType) and not isinstance(e.type, ArrayType):
            empty = ir.StrConst(value=b"", type=StrType(1), span=span)
            return ir.StrCmp(op="!=", lhs=e, rhs=empty, type=self.bool_t, span=span)
        self.error(f"a value of type {e.type} cannot be used as a condition", span)
        return ir.Const(value=0, type=self.bool_t, span=span)

    # ------------------------------------------------------------ dispatch

    def expr(self, e: ast.Expr) -> ir.Expr:
        method = lowering_method(type(self), type(e), "_e_")
        if method is None:
            self.error(f"{type(e).__name__.lower()} expressions are not supported by btc", e.span)
            return ir.Const(value=0, type=INT64, span=e.span)
        return method(self, e)

    def _e_Int(self, e: ast.Int) -> ir.Expr:
        return self.new.Const(e.value, INT64 if e.value < 2**63 else UINT64, e.span)

    def _e_Str(self, e: ast.Str) -> ir.Expr:
        data = e.value.encode()
        return ir.StrConst(value=data, type=StrType(len(data) + 1), span=e.span)

    def _e_PositionalCount(self, e: ast.PositionalCount) -> ir.Expr:
        return ir.ParamCount(type=INT64, span=e.span)

    def _e_Positional(self, e: ast.Positional) -> ir.Expr:
        given = self.params_given
        value = given[e.index - 1] if given is not None and e.index <= len(given) else None
        if value is not None and parse_int(value) is None:
            if self.dialect == "btrace":  # a non-numeric word is a string value
                    return self.param(e.index, StrType(DEFAULT_STRLEN), e.span)
            self.error(f'${e.index} used numerically but given "{value}". Try using str(${e.index}).',
                       e.span)
        return self.param(e.index, INT64, e.span)

    def _e_Tuple(self, e: ast.Tuple) -> ir.Expr:
        elems = tuple(self.expr(x) for x in e.elems)
        return ir.TupleNew(elems=elems, type=TupleType(tuple(x.type for x in elems)), span=e.span)

    def _e_TupleIndex(self, e: ast.TupleIndex) -> ir.Expr:
        inner = self.expr(e.expr)
        t = inner.type
        if not isinstance(t, TupleType):
            self.error(f"cannot index a value of type {t} with .{e.index} (not a tuple)", e.span)
            return ir.Const(value=0, type=INT64, span=e.span)
        if not 0 <= e.index < len(t.elems):
            self.error(f"Invalid tuple index: {e.index}. Found {len(t.elems)} elements in tuple.",
                       e.span)
            return ir.Const(value=0, type=INT64, span=e.span)
        return ir.TupleGet(expr=inner, index=e.index, type=t.elems[e.index], span=e.span)

    def _e_IncDec(self, e: ast.IncDec) -> ir.Expr:
        self.error(f"'{e.op}' can only be used as a statement in btc", e.span)
        return ir.Const(value=0, type=INT64, span=e.span)

    def _e_Cast(self, e: ast.Cast) -> ir.Expr:
        t = CAST_TYPES.get(e.type_name.strip())
        v = self.expr(e.expr)
        if t is None:
            self.error(f"cast to '{e.type_name}' is not supported by btc (integer types only)", e.span)
            return v
        if not self.is_int(v):
            self.error(f"Cannot cast from \"{v.type}\" to \"{t}\"", e.span)
            return ir.Const(value=0, type=t, span=e.span)
        return ir.Cast(expr=v, type=t, span=e.span)

    def _e_Sizeof(self, e: ast.Sizeof) -> ir.Expr:
        if isinstance(e.expr, ast.Ident):  # `sizeof(u64)`: a C or kernel type name
            return builtins.kernel_types.sizeof(self, e.expr.name, e.span, ident=True)
        if e.expr is not None:
            size = self.expr(e.expr).type.size()
        else:
            t = CAST_TYPES.get((e.type_name or "").strip())
            if t is None:
                return builtins.kernel_types.sizeof(self, e.type_name or "", e.span)
            size = t.size()
        return ir.Const(value=size, type=UINT64, span=e.span)

    def _e_Offsetof(self, e: ast.Offsetof) -> ir.Expr:
        """Compile time: kernel structs from BTF (`offsetof(struct sk_buff, len)`), or tuples
        (`offsetof($t, 1)`)."""
        if e.expr is None:
            return builtins.kernel_types.offsetof(self, e.type_name or "", e.fields, e.span)
        t = self.expr(e.expr).type
        off = 0
        for name in e.fields:
            if not (isinstance(t, TupleType) and name.isdigit() and int(name) < len(t.elems)):
                self.error(f"offsetof({t}, {'.'.join(e.fields)}) is not supported by btc "
                           "(the first argument must be a struct type or a tuple)", e.span)
                return ir.Const(value=0, type=UINT64, span=e.span)
            off += t.offsets()[int(name)]
            t = t.elems[int(name)]
        return ir.Const(value=off, type=UINT64, span=e.span)

    # ------------------------------------------------------------ operators

    def _e_Binary(self, e: ast.Binary) -> ir.Expr:
        if self.dialect == "btrace" and not self._in_binary and typecheck.count_operands(e) > 5:
            self.error("too many operands (>5) in expression", e.span)
        outer, self._in_binary = self._in_binary, True
        try:
            lhs, rhs = self._operands(e)
        finally:
            self._in_binary = outer
        if e.op in ("&&", "||"):
            return self.new.Logical(e.op, self.truth(lhs, e.lhs.span), self.truth(rhs, e.rhs.span),
                                    self.dialect != "btrace", self.bool_t, e.span)
        lt, rt = lhs.type, rhs.type
        if isinstance(lt, IntType) and isinstance(rt, IntType):
            return self.new.Binary(e.op, _widen(lhs), _widen(rhs),
                                   typecheck.arith_signed(self.dialect, e.op, lt, rt),
                                   typecheck.arith_result(self.dialect, e.op, lt, rt), e.span)
        if isinstance(lt, StrType) and isinstance(rt, StrType) and e.op in ("==", "!=") \
                and not isinstance(lt, ArrayType) and not isinstance(rt, ArrayType):
            return ir.StrCmp(op=e.op, lhs=lhs, rhs=rhs, type=self.bool_t, span=e.span)
        self.error(_binary_mismatch(self.dialect, e.op, lt, rt), e.span)
        return ir.Const(value=0, type=INT64, span=e.span)

    def _operands(self, e: ast.Binary) -> tuple[ir.Expr, ir.Expr]:
        """Both operands; btrace compares `$N` with a string as a string (whatever the word)."""
        if self.dialect == "btrace" and e.op in ("==", "!=") and isinstance(e.rhs, ast.Positional):
            lhs = self.expr(e.lhs)
            return lhs, self._positional_like(e.rhs, lhs)
        if self.dialect == "btrace" and e.op in ("==", "!=") and isinstance(e.lhs, ast.Positional):
            rhs = self.expr(e.rhs)
            return self._positional_like(e.lhs, rhs), rhs
        return self.expr(e.lhs), self.expr(e.rhs)

    def _positional_like(self, p: ast.Positional, other: ir.Expr) -> ir.Expr:
        if isinstance(other.type, StrType):
            return self.param(p.index, StrType(DEFAULT_STRLEN), p.span)
        return self.expr(p)

    def _e_Unary(self, e: ast.Unary) -> ir.Expr:
        v = self.expr(e.operand)
        if e.op == "!":
            return ir.Unary(op="!", operand=self.truth(v, e.operand.span), type=self.bool_t, span=e.span)
        if e.op in ("-", "~") and self.is_int(v):
            v = _widen(v)
            t = INT64 if self.dialect == "btrace" else v.type
            return ir.Unary(op=e.op, operand=v, type=t, span=e.span)
        if e.op == "*":
            self.error("pointer dereference is not supported by btc", e.span)
        else:
            self.error(f"The {e.op} operator can not be used on expressions of type {v.type}", e.span)
        return ir.Const(value=0, type=INT64, span=e.span)

    def _e_Ternary(self, e: ast.Ternary) -> ir.Expr:
        cond = self.truth(self.expr(e.cond), e.cond.span)
        a, b = self.expr(e.then), self.expr(e.orelse)
        t = typecheck.join(a.type, b.type)
        if t is None:
            self.error(f"Ternary operator must return the same type: have '{a.type}' and '{b.type}'",
                       e.span)
            return a
        return ir.Ternary(cond=cond, then=self.convert(a, t), orelse=self.convert(b, t), type=t,
                          span=e.span)

    # ------------------------------------------------------------ names

    def _e_Builtin(self, e: ast.Builtin) -> ir.Expr:
        desc = builtins.variable(e.name, self.dialect)
        if desc is None:
            self._unknown_builtin(e)
            return ir.Const(value=0, type=INT64, span=e.span)
        if not desc.supported:
            self.error(f"builtin '{e.name}' is not supported by btc", e.span)
            return ir.Const(value=0, type=INT64, span=e.span)
        if desc.name == "probe":
            text = self.facts.info.display.encode() if self.facts else b""
            return ir.StrConst(value=text, type=StrType(len(text) + 1), span=e.span)
        if desc.name == "func":
            return builtins.symbolic.func_name(self, e)
        if desc.name == "argN":
            return self._argn(e)
        if desc.name == "retval":
            return self._retval(e)
        if desc.name == "args":
            self.error("args must be used with a field: args.NAME", e.span)
            return ir.Const(value=0, type=INT64, span=e.span)
        if desc.name in ("username", "ctx"):
            return getattr(builtins.context, desc.name)(self, e)
        clock = variables.nsecs_clock(self.dialect) if desc.name == "nsecs" else None
        return self.new.BuiltinRead(desc.name, clock, desc.type, e.span)

    def _e_Ident(self, e: ast.Ident) -> ir.Expr:
        self._unknown_builtin(e)
        return ir.Const(value=0, type=INT64, span=e.span)

    def _unknown_builtin(self, e) -> None:
        near = closest(e.name, builtins.variable_names(self.dialect))
        hint = f"did you mean '{near}'?" if near else None
        msg = f"Unknown identifier: '{e.name}'" if self.dialect == "bpftrace" \
            else f"unknown builtin '{e.name}'"
        self.error(msg, e.span, hint)

    def _argn(self, e: ast.Builtin) -> ir.Expr:
        zero = ir.Const(value=0, type=INT64, span=e.span)
        facts = self.facts
        if facts is None:
            return zero
        if self.dialect == "btrace":
            if facts.is_special:
                self.error(f"the {e.name} builtin cannot be used with BEGIN or END probes", e.span)
                return zero
            got = facts.arg(variables.argn_index(e.name), e.span)
            return got if got is not None else zero  # beyond the probe's args: 0
        if facts.argn_kind not in ("raw", "regs"):
            hint = "use args.NAME for tracepoint fields" if facts.fields() else None
            self.error(f"The {e.name} builtin can only be used with 'kprobe', 'uprobe' and "
                       f"'rawtracepoint' probes", e.span, hint)
            return zero
        got = facts.arg(variables.argn_index(e.name), e.span)
        if got is None:
            self.error(f"{e.name} is beyond the arguments of {facts.info.display}", e.span)
            return zero
        return got

    def _retval(self, e: ast.Builtin) -> ir.Expr:
        got = self.facts.retval(e.span) if self.facts and self.facts.is_return else None
        if got is None:
            if self.dialect == "btrace":
                self.error("the retval builtin can only be used with return probes", e.span)
            else:
                self.error("The retval builtin can only be used with 'kretprobe' and "
                           "'uretprobe' probes", e.span)
            return ir.Const(value=0, type=INT64, span=e.span)
        return got

    def _e_Field(self, e: ast.Field) -> ir.Expr:
        if not (isinstance(e.expr, ast.Builtin) and e.expr.name == "args"
                and builtins.variable("args", self.dialect)):
            self.error("field access is only supported on args (tracepoint fields)", e.span)
            return ir.Const(value=0, type=INT64, span=e.span)
        got = self.facts.field(e.name, e.span) if self.facts else None
        if got is None:
            names = [a.name for a in self.facts.fields()] if self.facts else []
            near = closest(e.name, names)
            where = self.facts.info.display if self.facts else "this probe"
            self.error(f"Can't find field '{e.name}' in the arguments of {where}", e.span,
                       f"did you mean '{near}'?" if near else None)
            return ir.Const(value=0, type=INT64, span=e.span)
        arr = self._array_field(e) if self.dialect == "bpftrace" else None
        if arr is not None and not isinstance(got.type, StrType) and isinstance(got, ir.CtxLoad):
            return self._whole_array(e, arr, got)
        return got

    def _whole_array(self, e: ast.Field, arr, first: ir.CtxLoad) -> ir.Expr:
        """`args.x` of an `int x[N]` field: all N elements, copied like a char array."""
        elem = first.type
        if not arr.array_len or not isinstance(elem, IntType) or elem.size() * arr.array_len != arr.size:
            self.error(f"args.{e.name} ({arr.type_text}[{arr.array_len or ''}]) cannot be read "
                       f"as a whole by btc: index it with a literal (args.{e.name}[0])", e.span)
            return ir.Const(value=0, type=INT64, span=e.span)
        return ir.CtxLoad(offset=first.offset, deref_offset=first.deref_offset,
                          deref_user=first.deref_user, type=ArrayType(arr.size, elem), span=e.span)

    def _e_Index(self, e: ast.Index) -> ir.Expr:
        idx = e.index.value if isinstance(e.index, ast.Int) else None
        arr = self._array_field(e.expr)
        base = self.facts.field(e.expr.name, e.expr.span) if arr is not None else self.expr(e.expr)
        if arr is None or idx is None or not isinstance(base, ir.CtxLoad):
            self.error("indexing is only supported on array fields of args with a literal index",
                       e.span)
            return ir.Const(value=0, type=INT64, span=e.span)
        count = arr.array_len or 0
        if count and not 0 <= idx < count:
            self.error(f"index {idx} is out of bounds for array of size {count}", e.index.span)
            return ir.Const(value=0, type=INT64, span=e.span)
        return ir.CtxLoad(offset=base.offset + idx * base.type.size(), type=base.type, span=e.span)

    def _array_field(self, e: ast.Expr):
        if isinstance(e, ast.Field) and self.facts is not None:
            for a in self.facts.fields():
                if a.name == e.name and a.array_len is not None:
                    return a
        return None

    def _e_Var(self, e: ast.Var) -> ir.Expr:
        if self.dialect == "btrace":
            return self._btrace_local_get(e)
        t = self.env.local(self.local_key(e.name))
        if e.name not in self.assigned or t is None:
            self.error(f"Undefined or undeclared variable: ${e.name}", e.span)
            return ir.Const(value=0, type=t or INT64, span=e.span)
        return ir.LocalGet(name=e.name, type=t, span=e.span)

    def hidden_map(self, name: str) -> str:
        """btrace's `$x` lives as long as its rule: a compiler-made map keyed by nothing."""
        return f"@__l{self.rule}_{name}"

    def _btrace_local_get(self, e: ast.Var) -> ir.Expr:
        if e.name not in self.symbols.locals.get(self.rule, set()):
            return ir.Const(value=0, type=INT64, span=e.span)  # never set: reads as 0
        hidden = self.hidden_map(e.name)
        t = self.env.val(hidden) or INT64
        return ir.MapGet(map=hidden, key=None, insert_missing=False, type=t, span=e.span)

    def _e_MapRef(self, e: ast.MapRef) -> ir.Expr:
        name, key = self.map_key(e)
        sym = self.symbols.maps.get(name)
        t = self.env.val(name)
        if sym is None or not sym.stored:
            if self.dialect == "bpftrace":
                self.error(f"Undefined map: {name}", e.span)
            t = INT64
        if t is None:
            t = INT64
        if isinstance(t, AggType):
            if t.kind not in READABLE_AGGS:
                self.error(f"cannot read {name}: {t.kind} values can only be printed", e.span)
            t = t.elem
        return self.new.MapGet(name, key, self.dialect == "btrace", t, e.span)

    def map_key(self, ref: ast.MapRef) -> tuple[str, ir.Expr | None]:
        """The map's name and its key as one IR value (a TupleNew for several keys); records
        the key type while inferring, checks it once types are final."""
        name = map_name(ref)
        if ref.keys is None:
            self._check_key(name, None, ref.span)
            return name, None
        keys = ref.keys
        if len(keys) == 1 and isinstance(keys[0], ast.Tuple) and self.dialect == "bpftrace":
            keys = keys[0].elems
        vals = [self.expr(k) for k in keys]
        for v, k in zip(vals, keys):
            # a literal tuple key was already reported by btc.ir.symbols
            if isinstance(v.type, TupleType) and self.dialect == "btrace" and not isinstance(k, ast.Tuple):
                self.error("tuple cannot be used as map key", k.span)
        if len(vals) == 1:
            got = typecheck.storage_type(vals[0].type, self.dialect)
        else:
            got = TupleType(tuple(typecheck.storage_type(v.type, self.dialect) for v in vals))
        slot = self._check_key(name, got, ref.span)
        if len(vals) == 1:
            return name, self.convert(vals[0], slot)
        span = keys[0].span.join(keys[-1].span)
        return name, self.convert(ir.TupleNew(elems=tuple(vals), type=TupleType(tuple(v.type for v in vals)),
                                              span=span), slot)

    def _check_key(self, name: str, got: Type | None, span: Span) -> Type | None:
        """Record (inference: widen) or check (final) a use of map `name` with a key of type
        `got` (None: no key); returns the key slot type."""
        have = self.env.map_key.get(name)  # only the result below is used
        want = SCALAR if got is None else got
        if have is None:
            if self.final:
                return got
            self.env.map_key[name] = want
            have = self.env.key(name)
            return None if have == SCALAR else have
        if (have == SCALAR) != (want == SCALAR):
            self.errors.add(_key_mismatch(name, got, have), span)
            return got
        if have == SCALAR:
            return None
        joined = typecheck.join(have, got)
        if joined is None or (self.final and not typecheck.fits(got, have)):
            self.errors.add(_key_mismatch(name, got, have), span)
            return got
        if not self.final:
            self.env.map_key[name] = joined
            return self.env.key(name)
        return have

    def _e_Call(self, e: ast.Call) -> ir.Expr:
        desc = self.function(e)
        if desc is None:
            return ir.Const(value=0, type=INT64, span=e.span)
        if desc.kind == "agg":
            self.error(f"{e.name}() should be directly assigned to a map", e.span)
            return ir.Const(value=0, type=INT64, span=e.span)
        if desc.kind == "action":
            self.error(f"{e.name}() does not return a value", e.span)
            return ir.Const(value=0, type=INT64, span=e.span)
        got = desc.lower(self, e)
        return got if got is not None else ir.Const(value=0, type=INT64, span=e.span)

    def function(self, e: ast.Call):
        """The descriptor of a call after name and arity checks (None after an error)."""
        desc = builtins.function(e.name, self.dialect)
        if desc is None:
            near = closest(e.name, builtins.function_names(self.dialect))
            msg = f"Unknown function: {e.name}" if self.dialect == "bpftrace" \
                else f"unknown function '{e.name}'"
            self.error(msg, e.span, f"did you mean '{near}'?" if near else None)
            return None
        if not desc.supported:
            self.error(f"function '{e.name}' is not supported by btc", e.span)
            return None
        n = len(e.args)
        if n < desc.min_args or n > desc.max_args:
            self.error(_arity_message(self.dialect, desc, n), e.span)
            return None
        return desc


@functools.cache
def lowering_method(lowerer: type, node: type, prefix: str):
    """The method of `lowerer` that lowers `node` (`_e_Int`, `_s_If`, ...), or None: found
    once per class instead of by name at every node."""
    return getattr(lowerer, prefix + node.__name__, None)


def _widen(e: ir.Expr) -> ir.Expr:
    """Integers enter arithmetic as 64-bit values of their own signedness."""
    t = e.type
    if isinstance(t, IntType) and t.bits < 64:
        wide = IntType(64, t.signed)
        if isinstance(e, ir.Const):
            return ir.Const(value=e.value, type=wide, span=e.span)
        return ir.Cast(expr=e, type=wide, span=e.span)
    return e


def _binary_mismatch(dialect: str, op: str, lt: Type, rt: Type) -> str:
    if dialect == "btrace" and (isinstance(lt, StrType) or isinstance(rt, StrType)):
        return f"operation '{op}' unsupported on strings ({lt} and {rt})"
    if op in typecheck.COMPARISONS:
        return f"Type mismatch for '{op}': comparing '{lt}' with '{rt}'"
    return f"The {op} operator can not be used on expressions of types {lt}, {rt}"


def _key_mismatch(name: str, got: Type | None, have: Type | str) -> str:
    if got is None:
        return f"Argument mismatch for {name}: trying to access with no arguments when map expects arguments: '{have}'"
    if have == SCALAR:
        return f"Argument mismatch for {name}: trying to access with arguments: '{got}' when map expects no arguments"
    return (f"Argument mismatch for {name}: trying to access with arguments: '{got}' when map "
            f"expects arguments: '{have}'")


def _arity_message(dialect: str, desc, n: int) -> str:
    if dialect == "btrace":
        return "too many arguments" if n > desc.max_args else f"{desc.min_args - n} missing arguments"
    if desc.min_args == desc.max_args:
        word = "argument" if desc.min_args == 1 else "arguments"
        return f"{desc.name}() requires {desc.min_args} {word} ({n} provided)"
    if n < desc.min_args:
        return f"{desc.name}() requires at least {desc.min_args} argument{'s' if desc.min_args > 1 else ''} ({n} provided)"
    return f"{desc.name}() takes at most {desc.max_args} argument{'s' if desc.max_args > 1 else ''} ({n} provided)"


__all__ = ["ExprLowerer"]
