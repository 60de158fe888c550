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

    def copy(self) -> "LalrParser":
        other = LalrParser.__new__(LalrParser)
        other.tables, other.transformer, other.filename = self.tables, self.transformer, self.filename
        other.states, other.values, other.positions = list(self.states), list(self.values), list(self.positions)
        return other

    def feed(self, token: Token) -> None:
        table = self.tables.states
        while True:
            action = table[self.states[-1]].get(token.type)
            if action is None:
                raise ParseError(token, list(self.states))
            if action >= 0:
                self.states.append(action)
                self.values.append(token)
                self.positions.append((token.line, token.column, token.end_line,
                                       token.end_column))
                return
            self._reduce(-action - 1)

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
        origin, size, callback, expand1, plan, append_none = self.tables.rules[index]
        if size:
            children = self.values[-size:]
            positions = self.positions[-size:]
            del self.states[-size:], self.values[-size:], self.positions[-size:]
        else:
            children, positions = [], []
        pos = _join(positions)
        kept: list = []
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
        else:
            value = getattr(self.transformer, callback)(self._span(pos), kept)
        self.states.append(self.tables.states[self.states[-1]][origin])
        self.values.append(value)
        self.positions.append(pos)

    def _span(self, pos: Pos) -> Span:
        if pos is None:
            return NO_SPAN
        return Span(self.filename, pos[0], pos[1], pos[2], pos[3])


def _join(positions: list[Pos]) -> Pos:
    first = next((p for p in positions if p is not None), None)
    if first is None:
        return None
    last = next(p for p in reversed(positions) if p is not None)
    return (first[0], first[1], last[2], last[3])
