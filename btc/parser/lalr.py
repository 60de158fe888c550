"""A small LALR(1) driver over the tables of `btc.parser.tables` (no lark import at run time).

It shapes children exactly as lark's tree builder would (filtered tokens, spliced `_rules`,
`?rule` single-child inlining, `[x]` placeholders) and calls the transformer method named by
the rule or alias with `(span, children)`, so the AST is built during the parse. Each value on
the stack carries its position, so spans include punctuation that the children filter drops.

Speed (a 1,000-probe script is ~60,000 tokens and ~60,000 reductions): tokens are tuples, a
position is any tuple starting with (line, col, end_line, end_col) (a token is its own
position), the transformer methods are bound once per parse, and `feed` runs the whole token
stream in one loop with the reduction inlined.
"""
from __future__ import annotations

import functools
from collections import namedtuple

from btc.diagnostics import NO_SPAN, Span
from btc.parser.construct import constructor
from btc.parser.tables import Tables

Pos = tuple  # (line, col, end_line, end_col, ...) or None (an empty rule)

_TokenFields = namedtuple("_TokenFields",
                          "line column end_line end_column type value start_pos end_pos")


class Token(_TokenFields):
    """A lexical token, positioned like a lark Token (1-based, end exclusive). A tuple whose
    first four items are its position; `str(token)` is its text or value, as in lark."""

    __slots__ = ()

    def __str__(self) -> str:
        return str(self.value)

    def __repr__(self) -> str:
        return f"Token({self.type!r}, {self.value!r})"


def make_token(type_: str, value, start: int, end: int, line: int, col: int, end_line: int,
               end_col: int) -> Token:
    return _new_tuple(Token, (line, col, end_line, end_col, type_, value, start, end))


_new_tuple = tuple.__new__
TYPE = 4  # index of Token.type: the hot loop indexes instead of going through the property


class ParseError(Exception):
    """`token` does not fit; `state_stack` is the parser's stack when it was rejected."""

    def __init__(self, token: Token, state_stack: list[int]):
        super().__init__(token.type)
        self.token = token
        self.state_stack = state_stack


class LalrParser:
    """Incremental parser: feed() tokens, then eof(). A resume point (checkpoint) is saved
    before each token of `item_start` types that follows one of `item_end` types."""

    def __init__(self, tables: Tables, transformer, filename: str,
                 item_start: frozenset = frozenset(), item_end: frozenset = frozenset()):
        self.tables = tables
        self.filename = filename
        self.states = [tables.start]
        self.values: list = []
        self.positions: list[Pos] = []
        self.item_start, self.item_end = item_start, item_end
        self.checkpoint: tuple = (self._snapshot(), None)
        self._reducers = _reducers(tables, transformer)
        self._span = _span_maker()

    def _snapshot(self) -> tuple:
        return list(self.states), list(self.values), list(self.positions)

    def restore_checkpoint(self) -> Token | None:
        """Go back to the last resume point; returns the token it was saved before."""
        snap, tok = self.checkpoint
        self.states, self.values, self.positions = (list(s) for s in snap)
        return tok

    def feed(self, tokens, first: Token | None = None):
        """Feed `first` (if given) then every token of the iterator. Returns None when they
        are exhausted, else (rejected token, token before it or None, state stack)."""
        table, chains, reducers = self.tables.states, self.tables.unit_chains, self._reducers
        states, values, positions = self.states, self.values, self.positions
        item_start, item_end = self.item_start, self.item_end
        filename, span_of = self.filename, self._span
        prev = None
        if first is not None:
            tokens = _chain(first, tokens)
        for tok in tokens:
            ttype = tok[TYPE]
            if ttype in item_start and (prev is None or prev[TYPE] in item_end):
                self.checkpoint = (self._snapshot(), tok)
            while True:
                action = table[states[-1]].get(ttype)
                if action is None:
                    return tok, prev, list(states)
                if action >= 0:  # shift
                    states.append(action)
                    values.append(tok)
                    positions.append(tok)
                    break
                size, origin, callback, expand1, plan = reducers[-action - 1]
                if size < 0:
                    # Unit rules keep their one child, so only the top state changes; the
                    # chain of them depends on (state below, top state, token type) alone.
                    key = (states[-2], states[-1], ttype)
                    top = chains.get(key)
                    if top is None:
                        top = chains[key] = self._unit_chain(states[-2], states[-1], ttype)
                    states[-1] = top
                    continue
                # --- reduce (same as _reduce, inlined: this runs ~60,000 times per script)
                if size:
                    first_pos, pos = positions[-size], positions[-1]
                    if size > 1:
                        if first_pos is None or pos is None:
                            pos = _join(positions[-size:])
                        else:
                            pos = (first_pos[0], first_pos[1], pos[2], pos[3])
                    kept = values[-size:]
                    del states[-size:], values[-size:], positions[-size:]
                else:
                    kept, pos = [], None
                if plan is not None:
                    kept = plan(kept)
                if callback is None:
                    value = kept  # a `_rule`: spliced into its parent by the parent's plan
                elif expand1 and len(kept) == 1:
                    value = kept[0]
                elif pos is None:
                    value = callback(NO_SPAN, kept)
                else:
                    value = callback(span_of(filename, pos[0], pos[1], pos[2], pos[3]), kept)
                states.append(table[states[-1]][origin])
                values.append(value)
                positions.append(pos)
            prev = tok
        return None

    def _unit_chain(self, below: int, top: int, ttype: str) -> int:
        """The top state after every unit reduction that `ttype` triggers from `top`."""
        table, reducers, rules = self.tables.states, self._reducers, self.tables.rules
        while True:
            action = table[top].get(ttype)
            if action is None or action >= 0 or reducers[-action - 1][0] >= 0:
                return top
            top = table[below][rules[-action - 1][0]]

    def eof(self, token: Token):
        """Feed the end of input and return the value of the start rule."""
        table, end = self.tables.states, self.tables.end
        while True:
            action = table[self.states[-1]].get("$END")
            if action is None or action >= 0:
                raise ParseError(token, list(self.states))
            self._reduce(-action - 1)
            if self.states[-1] == end:
                return self.values[-1]

    def _reduce(self, index: int) -> None:
        size, origin, callback, expand1, plan = self._reducers[index]
        states, values, positions = self.states, self.values, self.positions
        if size < 0:  # unit rule: only the state changes
            states[-1] = self.tables.states[states[-2]][origin]
            return
        if size:
            kept = values[-size:]
            pos = _join(positions[-size:]) if size > 1 else positions[-1]
            del states[-size:], values[-size:], positions[-size:]
        else:
            kept, pos = [], None
        if plan is not None:
            kept = plan(kept)
        if callback is None:
            value = kept
        elif expand1 and len(kept) == 1:
            value = kept[0]
        else:
            span = NO_SPAN if pos is None else Span(self.filename, pos[0], pos[1], pos[2], pos[3])
            value = callback(span, kept)
        states.append(self.tables.states[states[-1]][origin])
        values.append(value)
        positions.append(pos)


@functools.cache
def _span_maker():
    """Span(file, line, col, end_line, end_col), built fast (see construct.py)."""
    return constructor(Span, "file", "line", "col", "end_line", "end_col")


def _reducers(tables: Tables, transformer) -> list[tuple]:
    """Per rule: (size, origin, bound transformer method or None, expand1, shaper or None);
    size -1 marks a unit rule (see tables.reduce_plans). Bound once per parse."""
    out = []
    for (origin, size, callback, expand1, _plan, _nones), plan, shaper in zip(
            tables.rules, tables.plans, tables.shapers):
        method = None
        if callback is not None:  # expand1 rules may have no method: only needed for 2+ kids
            method = getattr(transformer, callback, None) or _missing(transformer, callback)
        if plan is None:
            out.append((-1, origin, method, expand1, None))
            continue
        out.append((size, origin, method, expand1, shaper))
    return out


def _missing(transformer, name: str):
    def call(span, children):
        return getattr(transformer, name)(span, children)  # raises AttributeError
    return call


def _chain(first: Token, rest):
    yield first
    yield from rest


def _join(positions: list[Pos]) -> Pos:
    first = positions[0]
    if first is None:
        first = next((p for p in positions if p is not None), None)
        if first is None:
            return None
    last = positions[-1]
    if last is None:
        last = next(p for p in reversed(positions) if p is not None)
    return (first[0], first[1], last[2], last[3])
