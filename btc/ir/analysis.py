"""The analysis driver: runs the stages in order and assembles the ir.Program."""
from __future__ import annotations

import re

from btc.diagnostics import BtcError, ErrorCollector
from btc.ir import exitprint, probe_info, symbols as symbols_mod
from btc.ir import syscall_attach as syscall_attach_mod
from btc.ir import nodes as ir
from btc.ir.env import SCALAR, Env, Tables
from btc.ir.infer import infer_and_lower
from btc.ir.types import INT64
from btc.parser import ast

SPECIAL = ("BEGIN", "END")


def run(prog: ast.Program, params: list[str] | None, syscall_attach: str = "auto") -> ir.Program:
    errors = ErrorCollector()
    _check_program_shape(prog, errors)
    facts = syscall_attach_mod.choose(_resolve_probes(prog, errors, params), syscall_attach)
    table = symbols_mod.collect(prog, errors)
    lowered = infer_and_lower(prog, table, facts, params)
    env, tables, functions = lowered.env, lowered.tables, lowered.functions
    errors.errors.extend(lowered.errors.errors)
    order = exitprint.exit_order(prog, table)
    if _config(prog, "print_maps_on_exit") == 0:
        order = []
    errors.errors.sort(key=_position)
    errors.raise_if_any()
    maps = _declare_maps(table, tables, env, order)
    return ir.Program(
        dialect=prog.dialect, functions=tuple(functions), maps=maps,
        printfs=tuple(tables.printfs), prints=tuple(tables.prints),
        time_formats=tuple(tables.times), params=tuple(sorted(tables.params, key=_param_key)),
        exit_order=tuple(order), source_name=prog.span.file, source=prog.source,
        warnings=tuple(tables.warnings), uses_btf=tables.uses_btf, span=prog.span)


def _position(err: BtcError) -> tuple[int, int]:
    return (err.span.line, err.span.col) if err.span is not None else (0, 0)


def _param_key(p) -> tuple:
    return (p[0], str(p[1]))


def _check_program_shape(prog: ast.Program, errors: ErrorCollector) -> None:
    for item in prog.preamble:
        errors.add("C definitions (#include, #define, struct, enum) are not supported by btc",
                   item.span)
    for c in prog.config:
        if c.name not in _CONFIG_OPTIONS:
            errors.add(f"config option '{c.name}' is not supported by btc", c.span)
    seen: set[str] = set()
    for rule in prog.rules:
        for p in rule.probes:
            kind = p.text.upper() if p.text in ("BEGIN", "END", "begin", "end") else None
            if kind is None:
                continue
            if kind in seen:
                msg = (f"Cannot register multiple probes of the same type: '{kind}'"
                       if prog.dialect == "btrace" else f"More than one {kind} probe defined")
                errors.add(msg, p.span)
            seen.add(kind)


# on_stack_limit tunes where bpftrace places big values (stack or scratch maps); btc places
# them itself (docs/limitations.md), so the option is accepted and changes nothing
_CONFIG_OPTIONS = ("print_maps_on_exit", "on_stack_limit")


def _config(prog: ast.Program, name: str):
    for c in prog.config:
        if c.name == name:
            return c.value
    return None


def _resolve_probes(prog: ast.Program, errors: ErrorCollector,
                    params: list[str] | None) -> list[list[probe_info.ProbeFacts]]:
    out = []
    for rule in prog.rules:
        facts: list[probe_info.ProbeFacts] = []
        for p in rule.probes:
            try:
                text = _substitute_params(p.text, params) if prog.dialect == "bpftrace" else p.text
                facts.extend(probe_info.resolve(text, p.span, prog.dialect))
            except BtcError as e:
                errors.extend(e)
        out.append(facts)
    return out


_PARAM = re.compile(r"\$([0-9]+)")


def _substitute_params(text: str, params: list[str] | None) -> str:
    """bpftrace allows positional parameters in probe specs (`uprobe:$1:main`)."""
    if params is None or "$" not in text:
        return text

    def value(m: re.Match) -> str:
        i = int(m.group(1))
        return params[i - 1] if 1 <= i <= len(params) else m.group(0)

    return _PARAM.sub(value, text)


def _declare_maps(table: symbols_mod.SymbolTable, tables: Tables, env: Env,
                  order: list[str]) -> tuple[ir.MapDecl, ...]:
    decls = []
    for name, sym in table.maps.items():
        decls.append(_decl(name, env, name in order, False, sym.first_span))
    for name, span in tables.hidden.items():
        decls.append(_decl(name, env, False, True, span))
    return tuple(decls)


def _decl(name: str, env: Env, printed: bool, hidden: bool, span) -> ir.MapDecl:
    key = env.map_key.get(name)
    return ir.MapDecl(name=name, key=None if key in (None, SCALAR) else key,
                      value=env.map_val.get(name, INT64), print_at_exit=printed, hidden=hidden,
                      span=span)
