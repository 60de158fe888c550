"""Lowering of rules and statements to IR functions (expressions: lower_expr.py).

Each probe of a rule becomes one `ir.Function`; the body is lowered once per probe because
`argN`, `args.f`, `retval` and `probe` differ between probes."""
from __future__ import annotations

import re

from btc.ir import incdec, syscall_attach, typecheck
from btc.ir import nodes as ir
from btc.ir.lower_expr import ExprLowerer, lowering_method
from btc.ir.probe_info import ProbeFacts
from btc.ir.symbols import agg_call, children, used_locals
from btc.ir.types import INT64, AggType, IntType, Type
from btc.parser import ast
from btc.parser.construct import replace

_CTX_BUILTIN = re.compile(r"args|ctx|retval|s?arg[0-9]+")


class Lowerer(ExprLowerer):
    def lower_rules(self, facts: list[list[ProbeFacts]]) -> list[ir.Function]:
        out: list[ir.Function] = []
        used: set[str] = set()
        for rule_index, (rule, probes) in enumerate(zip(self.prog.rules, facts)):
            for f in probes:
                self.fn_index = len(out)
                fn = self.lower_function(rule_index, rule, f, _unique(rule_index, f, used))
                out.extend(_split_special(fn) if self.dialect == "btrace" else [fn])
        return out

    def lower_function(self, rule_index: int, rule: ast.Rule, facts: ProbeFacts, name: str) -> ir.Function:
        self.rule, self.facts, self.assigned, self.captured = rule_index, facts, set(), {}
        filt = None
        if rule.filter is not None:
            filt = self.truth(self.expr(rule.filter), rule.filter.span)
        body = self.block(rule.body.stmts)
        fn = ir.Function(name=name, probe=facts.info, filter=filt, body=body,
                         rule_index=rule_index, span=rule.span)
        # --syscall-attach chose a raw sys_enter/sys_exit variant: move the tracepoint loads
        # over and check the syscall number first (kept a tracepoint if a load cannot move)
        return syscall_attach.to_raw(fn, facts, self.dialect) if facts.raw is not None else fn

    def block(self, stmts) -> tuple[ir.Stmt, ...]:
        out: list[ir.Stmt] = []
        for s in stmts:
            got = self.stmt(s)
            if got is None:
                continue
            out.extend(got if isinstance(got, (list, tuple)) else [got])
        return tuple(out)

    def stmt(self, s: ast.Stmt):
        method = lowering_method(type(self), type(s), "_s_")
        if method is None:
            self.error(f"{type(s).__name__.lower()} statements are not supported by btc", s.span)
            return None
        saved, self.hoisted = getattr(self, "hoisted", None), []
        try:
            got = method(self, s)
        finally:
            pre, self.hoisted = self.hoisted, saved
        if not pre:
            return got
        self._check_hoisted(s)
        return [*pre, *([] if got is None else got if isinstance(got, (list, tuple)) else [got])]

    def _check_hoisted(self, s: ast.Stmt) -> None:
        """`x++` values run once, before `s`: refuse them where they would run otherwise."""
        for c in children(s):
            if isinstance(s, ast.While) and c is s.cond:
                found = incdec.conditional_incdecs(c, True)
            elif isinstance(c, ast.Expr):
                found = incdec.conditional_incdecs(c)
            else:
                continue
            for e in found:
                self.error(f"'{e.op}' as a value is not supported by btc in a loop condition, "
                           "after && or ||, or in a ternary branch", e.span)

    def _e_IncDec(self, e: ast.IncDec) -> ir.Expr:
        return incdec.lower_incdec_value(self, e)

    # ------------------------------------------------------------ simple statements

    def _s_Empty(self, s: ast.Empty):
        return None

    def _s_Break(self, s: ast.Break):
        return ir.Break(span=s.span)

    def _s_Continue(self, s: ast.Continue):
        return ir.Continue(span=s.span)

    def _s_Return(self, s: ast.Return):
        return ir.Return(span=s.span)

    def _s_ExprStmt(self, s: ast.ExprStmt):
        e = s.expr
        if isinstance(e, ast.IncDec):
            one = ast.Int(value=1, span=e.span)
            return self._update(e.target, "+" if e.op == "++" else "-", one, e.span)
        if isinstance(e, ast.Call):
            desc = self.function(e)
            if desc is None:
                return None
            if desc.kind == "action":
                return desc.lower(self, e)
            if desc.kind == "agg":
                self.error(f"{e.name}() should be directly assigned to a map", e.span)
                return None
        return ir.ExprStmt(expr=self.expr(e), span=s.span)

    def _s_If(self, s: ast.If):
        cond = self.truth(self.expr(s.cond), s.cond.span)
        then = self.block(s.then.stmts)
        if s.orelse is None:
            orelse = ()
        elif isinstance(s.orelse, ast.If):
            orelse = (self._s_If(s.orelse),)
        else:
            orelse = self.block(s.orelse.stmts)
        return self.new.If(cond, then, orelse, s.span)

    def _s_While(self, s: ast.While):
        cond = self.truth(self.expr(s.cond), s.cond.span)
        return ir.While(cond=cond, body=self.block(s.body.stmts), span=s.span)

    def _s_Unroll(self, s: ast.Unroll):
        n = self.const_arg(s.count, "unroll", "the count")
        if n is not None and not 1 <= n <= 100:  # bpftrace 0.23's words, on `unroll (N)`
            self.error("unroll maximum value is 100" if n > 100 else "unroll minimum value is 1",
                       self._unroll_head(s))
        return ir.Unroll(count=n or 1, body=self.block(s.body.stmts), span=s.span)

    def _unroll_head(self, s: ast.Unroll):
        """The span of `unroll (N)` (the AST keeps the whole statement's and N's)."""
        lines = (self.prog.source or "").splitlines()
        c = s.count.span
        text = lines[c.line - 1] if c.line == c.end_line and 0 < c.line <= len(lines) else ""
        close = text.find(")", c.end_col - 1)
        if s.span.line != c.line or close < 0:
            return s.count.span
        return replace(s.span, end_line=c.line, end_col=close + 2)

    def _s_For(self, s: ast.For):
        """The body becomes a bpf_for_each_map_elem callback. As in bpftrace 0.23, locals
        assigned before the loop and used in the body are shared with it (`captures`: the
        back end passes their addresses); the body's other locals are its own scope."""
        if self.dialect == "btrace":
            self.error("for loops over maps are not part of btrace", s.span)
            return None
        if s.var in self.assigned:
            self.error(f"Loop declaration shadows existing variable: ${s.var}", self._decl_span(s))
        name = self.map_name(s.map)
        self.note_map_use(name, s.map.span)
        kv = for_kv_type(self, name, s.map.span)
        if kv is None:
            return None
        self._reject_ctx_reads(s.body)
        shared = sorted(used_locals(s.body) & self.assigned - {s.var})
        saved = self.assigned, self.fn_index, self.captured
        captured = {n: self.local_key(n) for n in shared}
        self.assigned, self.captured = {s.var, *shared}, captured
        # the body's own locals are another BPF function's: their types are keyed apart
        self.fn_index = (self.fn_index, s.span.line, s.span.col)
        try:
            self._local_type(s.var, kv, s.span)
            body = self.block(s.body.stmts)
        finally:
            self.assigned, self.fn_index, self.captured = saved
        return ir.ForMap(var=s.var, map=name, kv_type=kv, body=body, span=s.span,
                         captures=tuple(shared))

    def _reject_ctx_reads(self, body) -> None:
        """bpftrace 0.23 does not hand the probe's context to a loop body: `args`, `ctx`,
        `argN`, `sargN` and `retval` there are errors (its semantic analyser's words)."""
        stack = [body]
        while stack:
            n = stack.pop()
            if isinstance(n, ast.Builtin) and _CTX_BUILTIN.fullmatch(n.name):
                self.error(f"'{n.name}' builtin is not allowed in a for-loop", n.span)
            stack.extend(children(n))

    def _decl_span(self, s: ast.For):
        """The span of `$kv` in `for ($kv : …)` (the AST keeps only the loop's)."""
        lines = (self.prog.source or "").splitlines()
        text = lines[s.span.line - 1] if 0 < s.span.line <= len(lines) else ""
        at = text.find("$" + s.var, max(s.span.col - 1, 0))
        if at < 0:
            return s.span
        return replace(s.span, col=at + 1, end_line=s.span.line, end_col=at + 2 + len(s.var))

    def _s_Let(self, s: ast.Let):
        if s.value is None:
            return None
        return self._assign_local(ast.Var(name=s.name, span=s.span), s.value, s.span)

    # ------------------------------------------------------------ stores

    def _s_Assign(self, s: ast.Assign):
        if isinstance(s.target, ast.Var):
            return self._assign_local(s.target, s.value, s.span)
        if not isinstance(s.target, ast.MapRef):
            self.error("can only assign to a map or a variable", s.target.span)
            return None
        call = agg_call(s.value)
        if call is not None:
            return self._aggregate(s.target, call, s.span)
        value = self.expr(s.value)
        name, key = self.map_key(s.target)
        slot = self._store_type(name, typecheck.storage_type(value.type, self.dialect), value.type, s.span)
        return self.new.MapSet(name, key, self._fit(value, slot), s.span)

    def _aggregate(self, target: ast.MapRef, call: ast.Call, span) -> ir.Stmt | None:
        desc = self.function(call)
        if desc is None:
            return None
        agg, value = desc.lower(self, call)
        name, key = self.map_key(target)
        slot = self._store_type(name, agg, agg, span)
        if self.dialect == "btrace" and isinstance(slot, IntType) and agg.kind in _BT_LONG_AGGS:
            return self._bt_long_agg(target, call, agg.kind, span)
        if value is not None and isinstance(slot, AggType):
            value = self.convert(value, slot.elem)
        return self.new.MapAgg(name, key, value, span)

    def _store_type(self, name: str, t: Type, shown: Type, span) -> Type:
        """Record (inference: widen the map's type) or check (final) a store of type `t`;
        returns the slot type the value is converted to."""
        have = self.env.map_val.get(name)  # only the result below is used
        if have is None and not self.final:
            self.env.map_val[name] = t
            return self.env.val(name)
        if have is None:
            return t
        joined = _join_store(have, t, self.dialect)
        if joined is None or (self.final and joined != have):
            self.errors.add(f"Type mismatch for {name}: trying to assign value of type '{shown}' "
                            f"when map already contains a value of type '{have}'", span)
            return t
        if not self.final:
            self.env.map_val[name] = joined
            return self.env.val(name)
        return have

    def _bt_long_agg(self, target: ast.MapRef, call: ast.Call, kind: str, span) -> ir.Stmt:
        """count/sum/min/max on a btrace map that also holds other values: btrace updates
        the stored long in place (btrace.c stmt_insert), a missing entry counting as 0."""
        if kind in ("count", "sum"):
            delta = ast.Int(value=1, span=call.span) if kind == "count" else call.args[0]
            return self._update(target, "+", delta, span)
        op = "<" if kind == "min" else ">"
        arg = call.args[0]
        pick = ast.Ternary(cond=ast.Binary(op=op, lhs=target, rhs=arg, span=call.span),
                           then=target, orelse=arg, span=call.span)
        return self._s_Assign(ast.Assign(target=target, value=pick, span=span))

    def _fit(self, value: ir.Expr, slot: Type) -> ir.Expr:
        return value if isinstance(slot, AggType) else self.convert(value, slot)

    def _assign_local(self, var: ast.Var, value_ast: ast.Expr, span):
        if agg_call(value_ast) is not None:
            self.error(f"{value_ast.name}() should be directly assigned to a map", value_ast.span)
            return None
        value = self.expr(value_ast)
        if self.dialect == "btrace":
            hidden = self.hidden_map(var.name)
            self.tables.hidden.setdefault(hidden, var.span)
            slot = self._store_type(hidden, typecheck.storage_type(value.type, self.dialect), value.type, span)
            return ir.MapSet(map=hidden, key=None, value=self._fit(value, slot), span=span)
        slot = self._local_type(var.name, value.type, span)
        self.assigned.add(var.name)
        return ir.LocalSet(name=var.name, value=self.convert(value, slot), span=span)

    def _local_type(self, name: str, t: Type, span) -> Type:
        key = self.local_key(name)
        have = self.env.locals.get(key)
        if have is None and not self.final:
            self.env.locals[key] = t
            return self.env.local(key)
        if have is None:
            return t
        joined = typecheck.join(have, t, widen_ints=False)
        if joined is None or (self.final and not typecheck.fits(t, have)):
            self.errors.add(f"Type mismatch for ${name}: trying to assign value of type '{t}' "
                            f"when variable already contains a value of type '{have}'", span)
            return t
        if not self.final:
            self.env.locals[key] = joined
            return self.env.local(key)
        return have

    def _s_CompoundAssign(self, s: ast.CompoundAssign):
        return self._update(s.target, s.op, s.value, s.span)

    def _update(self, target: ast.Expr, op: str, value_ast: ast.Expr, span):
        """`x op= v`, `x++`, `x--`: an atomic MapAdd for map += / -=, else load-op-store."""
        if isinstance(target, ast.MapRef) and op in ("+", "-"):
            delta = self.int_expr(value_ast, op + "=")
            if op == "-":
                delta = ir.Unary(op="-", operand=delta, type=IntType(64, True), span=delta.span)
            name, key = self.map_key(target)
            slot = self._store_type(name, typecheck.storage_type(delta.type, self.dialect), delta.type, span)
            if not isinstance(slot, IntType):
                self.error(f"'{op}=' needs an integer map value ({name} holds {slot})", span)
                return None
            return ir.MapAdd(map=name, key=key, delta=self.convert(delta, slot), span=span)
        if isinstance(target, ast.Var) and self.dialect == "bpftrace" and target.name not in self.assigned:
            self.error(f"Undefined or undeclared variable: ${target.name}", target.span)
            return None
        combined = ast.Binary(op=op, lhs=target, rhs=value_ast, span=span)
        return self._s_Assign(ast.Assign(target=target, value=combined, span=span))


def for_kv_type(lw, name: str, span) -> Type | None:
    """`(key, value)` of a map that `for` or `len` can walk: plain values and the
    aggregations with one value (bpftrace 0.23 refuses hist, lhist and stats)."""
    from btc.ir.env import SCALAR
    from btc.ir.types import INT64, TupleType

    key_t, val_t = lw.env.key(name), lw.env.val(name)
    if key_t is None or val_t is None:  # still inferring
        return TupleType((INT64, INT64))
    if key_t == SCALAR:
        lw.error(f"{name} has no keys: for loops and len() need a keyed map", span)
        return None
    if isinstance(val_t, AggType):
        if val_t.kind in ("hist", "lhist", "stats"):
            lw.error(f"Loop expression does not support type: {val_t.kind}_t", span)
            return None
        val_t = IntType(64, val_t.elem.signed)
    return TupleType((key_t, val_t))


# btrace keeps the results of these as plain C longs in the map (btrace.c stmt_insert)
_BT_LONG_AGGS = ("count", "sum", "min", "max")


def _join_store(have: Type, t: Type, dialect: str) -> Type | None:
    if dialect == "btrace" and _bt_mixed_longs(have, t):
        return INT64  # one btrace map may mix them with each other and with plain stores
    if isinstance(have, AggType) or isinstance(t, AggType):
        if isinstance(have, AggType) and isinstance(t, AggType) and \
                (have.kind, have.bits, have.lhist) == (t.kind, t.bits, t.lhist):
            return AggType(have.kind, IntType(64, have.elem.signed or t.elem.signed), have.bits,
                           have.lhist, have.from_zero)
        return None
    return typecheck.join(have, t)


def _bt_mixed_longs(have: Type, t: Type) -> bool:
    kinds = [x.kind if isinstance(x, AggType) else "int" if isinstance(x, IntType) else None
             for x in (have, t)]
    return kinds[0] != kinds[1] and all(k in (*_BT_LONG_AGGS, "int") for k in kinds)


# Statements whose effect the runtime applies when it reads their event, after the program ran
_DEFERRED = (ir.PrintMap, ir.ClearMap, ir.ZeroMap)


def _split_special(fn: ir.Function) -> list[ir.Function]:
    """btrace runs BEGIN/END statements one after the other, so `print(@m)` shows @m as it
    is at that statement. A BPF program runs whole before the runtime reads its events: cut
    BEGIN/END after each top-level print/clear/zero of a map; the runtime runs the pieces in
    order and handles each one's events in between (scratch `$x` live in maps in btrace)."""
    if fn.probe.attach.get("kind") not in ("begin", "end") or fn.filter is not None:
        return [fn]  # a filter would be tested again before each piece
    pieces: list[list[ir.Stmt]] = [[]]
    for s in fn.body:
        pieces[-1].append(s)
        if isinstance(s, _DEFERRED):
            pieces.append([])
    pieces = [p for p in pieces if p] or [[]]
    return [replace(fn, name=fn.name if i == 0 else f"{fn.name}_{i}", body=tuple(p))
            for i, p in enumerate(pieces)]


def _unique(rule_index: int, facts: ProbeFacts, used: set[str]) -> str:
    slug = re.sub(r"[^A-Za-z0-9_]", "_", facts.info.display)
    name = base = f"p{rule_index}_{slug}"
    n = 1
    while name in used:
        name, n = f"{base}_{n}", n + 1
    used.add(name)
    return name


__all__ = ["Lowerer"]
