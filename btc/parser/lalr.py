"""A small LALR(1) driver over the tables of `btc.parser.tables` (no lark import at run time).

It shapes children exactly as lark's tree builder would (filtered tokens, spliced `_rules`,
`?rule` single-child inlining, `[x]` placeholders) and calls the transformer method named by
the rule or alias with `(span, children)`, so the AST is built during the parse. Each value on
the stack carries its position, so spans include punctuation that the children filter drops.
"""
from __future__ import annotations

from btc.diagnostics import NO_SPAN, Span
from btc.parser.tables import Tables

Pos = tuple  # (line, col, end_line, end_col, start_offset, end_offset) or None


class Token:
    """A lexical token, positioned like a lark Token (1-based, end exclusive)."""

    __slots__ = ("type", "value", "start_pos", "end_pos", "line", "column",
                 "end_line", "end_column")

    def __init__(self, type_: str, value, start_pos: int, end_pos: int, line: int,
                 column: int, end_line: int, end_column: int):
        self.type = type_
        self.value = value
        self.start_pos = start_pos
        self.end_pos = end_pos
        self.line = line
        self.column = column
        self.end_line = end_line
        self.end_column = end_column

    def __str__(self) -> str:
        return str(self.value)

    def __repr__(self) -> str:
        return f"Token({self.type!r}, {self.value!r})"


class ParseError(Exception):
    """`token` does not fit; `state_stack` is the parser's stack when it was rejected."""

    def __init__(self, token: Token, state_stack: list[int]):
        super().__init__(token.type)
        self.token = token
        self.state_stack = state_stack


class _Splice:
    """Children of a `_rule`, to be spliced into the parent's children."""

    __slots__ = ("children",)

    def __init__(self, children: list):
        self.children = children


class LalrParser:
    """Incremental parser: feed() tokens, then eof(). copy() gives a resume point."""

    def __init__(self, tables: Tables, transformer, filename: str):
        self.tables = tables
        self.transformer = transformer
        self.filename = filename
        self.states = [tables.start]
        self.values: list = []
        self.positions: list[Pos] = []
        self._plans = tables.plans

    def copy(self) -> "LalrParser":
        other = LalrParser.__new__(LalrParser)
        other.tables, other.transformer, other.filename = self.tables, self.transformer, self.filename
        other.states, other.values, other.positions = list(self.states), list(self.values), list(self.positions)
        other._plans = self._plans
        return other

    def feed(self, token: Token) -> None:
        table = self.tables.states
        plans = self._plans
        chains = self.tables.unit_chains
        states = self.states
        ttype = token.type
        while True:
            action = table[states[-1]].get(ttype)
            if action is None:
                raise ParseError(token, list(states))
            if action >= 0:
                states.append(action)
                self.values.append(token)
                self.positions.append((token.line, token.column, token.end_line,
                                       token.end_column))
                return
            plan = plans[-action - 1]
            if plan is None:
                # Unit rules keep their one child, so only the top state changes; the chain
                # of them depends on (state below, top state, token type) alone: memoized.
                key = (states[-2], states[-1], ttype)
                top = chains.get(key)
                if top is None:
                    top = chains[key] = self._unit_chain(states[-2], states[-1], ttype)
                states[-1] = top
                continue
            self._reduce(-action - 1, plan)

    def _unit_chain(self, below: int, top: int, ttype: str) -> int:
        """The top state after every unit reduction that `ttype` triggers from `top`."""
        table, plans, rules = self.tables.states, self._plans, self.tables.rules
        while True:
            action = table[top].get(ttype)
            if action is None or action >= 0 or plans[-action - 1] is not None:
                return top
            top = table[below][rules[-action - 1][0]]

    def eof(self, token: Token):
        """Feed the end of input and return the value of the start rule."""
        table, end = self.tables.states, self.tables.end
        while True:
            action = table[self.states[-1]].get("$END")
            if action is None or action >= 0:
                raise ParseError(token, list(self.states))
            self._reduce(-action - 1, self._plans[-action - 1])
            if self.states[-1] == end:
                return self.values[-1]

    def _reduce(self, index: int, fast) -> None:
        origin, size, callback, expand1, plan, append_none = self.tables.rules[index]
        values, positions = self.values, self.positions
        if fast is None:  # unit rule (see _plans)
            states = self.states
            states[-1] = self.tables.states[states[-2]][origin]
            return
        if size:
            children = values[-size:]
            pos = _join(positions[-size:]) if size > 1 else positions[-1]
            del self.states[-size:], values[-size:], positions[-size:]
        else:
            children, pos = [], None
        if fast is True:
            kept = children
        else:
            kept = []
            for i, splice, nones in plan:
                if nones:
                    kept.extend([None] * nones)
                if splice:
                    kept.extend(children[i].children)
                else:
                    kept.append(children[i])
        if append_none:
            kept.extend([None] * append_none)
        if callback is None:
            value = _Splice(kept)
        elif expand1 and len(kept) == 1:
            value = kept[0]
        elif pos is None:
            value = getattr(self.transformer, callback)(NO_SPAN, kept)
        else:
            value = getattr(self.transformer, callback)(
                Span(self.filename, pos[0], pos[1], pos[2], pos[3]), kept)
        self.states.append(self.tables.states[self.states[-1]][origin])
        values.append(value)
        positions.append(pos)

    def _span(self, pos: Pos) -> Span:
        if pos is None:
            return NO_SPAN
        return Span(self.filename, pos[0], pos[1], pos[2], pos[3])


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
