"""LALR tables for each dialect: analysed by lark once, stored as plain Python data.

Why: `import lark` plus loading its cached parser costs well over 100 ms, and btc must start
fast. lark is the grammar tool (it reads grammar/*.lark, checks it with strict=True and builds
the LALR(1) automaton); `grammar/tables.json` holds the result (JSON: loads in a few ms even
when Python may not cache bytecode), and `btc.parser.lalr` runs it with no lark import.
`python -m btc.parser.tables` regenerates the file; a test checks that it matches the grammar. If the grammar changed and the file was not regenerated, `load` falls
back to building the tables with lark (correct, only slower).

Table format, per dialect:
  states: list over state ids of {symbol: action}; for a terminal, action >= 0 shifts to that
          state and action < 0 reduces by rule -action-1; for a rule name it is the goto state.
  rules:  list of (origin, size, callback, expand1, plan, append_none): `callback` is the
          transformer method (None = splice the children into the parent, for `_rule`s),
          `plan` lists (index, splice, nones_before) for the children kept, as lark's tree
          builder does (filtered `_TOKENS` dropped, `[x]` placeholders as None).
"""
from __future__ import annotations

import functools
import operator
import os
import zlib
from dataclasses import dataclass, field

DIALECT_NAMES = ("btrace", "bpftrace")
_HERE = os.path.dirname(__file__)
GENERATED = os.path.join(_HERE, "grammar", "tables.json")


@dataclass(frozen=True)
class Tables:
    states: list
    rules: list
    start: int
    end: int
    # Per rule, how the driver reduces it (see reduce_plans); derived from `rules`.
    plans: list = field(init=False, repr=False, compare=False)
    # Per rule, the function from its children to the kept ones (see shaper); derived.
    shapers: list = field(init=False, repr=False, compare=False)
    # Memo of the parser: (state below, top state, token type) -> top state after the unit
    # reductions the token triggers (see LalrParser.feed). Derived data, filled lazily.
    unit_chains: dict = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "plans", reduce_plans(self.rules))
        object.__setattr__(self, "shapers", [shaper(plan, rule[1], rule[5]) for plan, rule
                                             in zip(self.plans, self.rules)])
        object.__setattr__(self, "unit_chains", {})


def reduce_plans(rules: list) -> list:
    """Per rule: None for a unit rule whose reduction keeps its one child as is (lark's
    `?rule` inlining of a single kept child: only the parser state changes), True when every
    child is kept in order, unspliced (no plan to run), else the rule's plan as tuples."""
    out: list = []
    for _origin, size, callback, expand1, plan, append_none in rules:
        plan = [tuple(p) for p in plan]
        if size == 1 and plan == [(0, False, 0)] and not append_none and expand1 \
                and callback is not None:
            out.append(None)
        elif plan == [(i, False, 0) for i in range(size)]:
            out.append(True)
        else:
            out.append(plan)
    return out


def shaper(plan, size: int, append_none: int):
    """None when a rule keeps all its children as they are, else a function from the
    children to the kept ones: `operator.itemgetter` (C, returns a tuple) when it only
    drops some, else apply_plan for splices and `[x]` placeholders."""
    if plan is None or (plan is True and not append_none):  # unit rule, or all kept
        return None
    if plan is True:
        plan = [(i, False, 0) for i in range(size)]
    steps = tuple(plan)
    if len(steps) >= 2 and not append_none and not any(sp or n for _, sp, n in steps):
        return operator.itemgetter(*(i for i, _, _ in steps))
    return functools.partial(apply_plan, steps, append_none)


def apply_plan(steps: tuple, append_none: int, children: list) -> list:
    """The kept children of one reduction, shaped as lark's tree builder does."""
    kept = []
    for i, splice, nones in steps:
        if nones:
            kept.extend([None] * nones)
        if splice:
            kept.extend(children[i])  # the list a `_rule` reduced to
        else:
            kept.append(children[i])
    if append_none:
        kept.extend([None] * append_none)
    return kept


def grammar_text(dialect: str) -> str:
    """The full grammar of a dialect: the common rules plus the dialect's own."""
    text = []
    for name in ("common.lark", f"{dialect}.lark"):
        with open(os.path.join(_HERE, "grammar", name), encoding="utf-8") as f:
            text.append(f.read())
    return "".join(text)


def grammar_sha(dialect: str) -> str:
    """A cheap fingerprint of the grammar text (CRC-32: detects edits, not attacks)."""
    return f"{zlib.crc32(grammar_text(dialect).encode()):08x}"


def load(dialect: str) -> Tables:
    """The tables for `dialect`, from the generated module when it is current."""
    import json

    try:
        with open(GENERATED, encoding="utf-8") as f:
            data = json.load(f)
    except (OSError, ValueError):
        data = {}
    entry = data.get(dialect)
    if entry is not None and entry["sha"] == grammar_sha(dialect):
        return Tables(entry["states"], entry["rules"], entry["start"], entry["end"])
    return Tables(*build(dialect))


def build(dialect: str) -> tuple:
    """Analyse the grammar with lark (strict LALR) and convert its tables."""
    from lark import Lark
    from lark.lexer import Lexer
    from lark.parsers.lalr_analysis import Shift

    class _NoLexer(Lexer):  # tokens come from btc.parser.lexer
        def __init__(self, conf):
            pass

        def lex(self, *args):  # pragma: no cover
            raise NotImplementedError

    lark = Lark(grammar_text(dialect), parser="lalr", lexer=_NoLexer, strict=True,
                maybe_placeholders=True)
    table = lark.parser.parser.parser.parse_table
    rules = list(lark.rules)
    rule_index = {id(r): i for i, r in enumerate(rules)}
    states = []
    for sid in range(len(table.states)):
        row = {}
        for sym, (action, arg) in table.states[sid].items():
            row[sym] = arg if action is Shift else -rule_index[id(arg)] - 1
        states.append(row)
    return (states, [_rule_info(r) for r in rules],
            table.start_states["start"], table.end_states["start"])


def _rule_info(rule) -> tuple:
    """Mirror of lark's ParseTreeBuilder for one rule (parse_tree_builder.py)."""
    opts = rule.options
    empty = list(opts.empty_indices) if opts.empty_indices else [False] * (len(rule.expansion) + 1)
    nones, plan = 0, []
    sym_i = 0
    # empty_indices has one flag per slot, with True where an absent `[x]` leaves a None
    for flag in empty:
        if flag:
            nones += 1
            continue
        if sym_i >= len(rule.expansion):
            break
        sym = rule.expansion[sym_i]
        if opts.keep_all_tokens or not (sym.is_term and sym.filter_out):
            splice = not sym.is_term and sym.name.startswith("_")
            plan.append((sym_i, splice, nones))
            nones = 0
        sym_i += 1
    name = rule.origin.name
    name = name.value if hasattr(name, "value") else str(name)
    alias = rule.alias
    callback = None if (name.startswith("_") and not alias) else str(alias or name)
    expand1 = bool(opts.expand1 and not alias)
    return (name, len(rule.expansion), callback, expand1, tuple(plan), nones)


def main() -> None:
    import json

    data = {}
    for d in DIALECT_NAMES:
        states, rules, start, end = build(d)
        data[d] = {"sha": grammar_sha(d), "start": start, "end": end,
                   "rules": rules, "states": states}
    with open(GENERATED, "w", encoding="utf-8") as f:
        json.dump(data, f, separators=(",", ":"))
        f.write("\n")
    print(f"wrote {GENERATED}")


if __name__ == "__main__":
    main()
