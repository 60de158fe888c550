"""Errors and their rendering: the one exception type that may leave any btc stage.

Every stage raises `BtcError` (or `BtcErrors` for several at once); the CLI catches them in
one place and prints `render(...)`, so users never see a Python traceback.
"""
from __future__ import annotations

from btc.records import Record

DIALECTS = ("btrace", "bpftrace")


class Span(Record):  # a Record, not a dataclass: `dataclasses` costs ~10 ms of start-up
    """A source range: 1-based line and column, end column exclusive."""

    file: str
    line: int
    col: int
    end_line: int
    end_col: int

    def join(self, other: "Span") -> "Span":
        if self is NO_SPAN:
            return other
        if other is NO_SPAN:
            return self
        start = min((self.line, self.col), (other.line, other.col))
        end = max((self.end_line, self.end_col), (other.end_line, other.end_col))
        return Span(self.file, start[0], start[1], end[0], end[1])

    def __repr__(self) -> str:
        return f"{self.line}:{self.col}-{self.end_line}:{self.end_col}"


NO_SPAN = Span("", 0, 0, 0, 0)


class BtcError(Exception):
    """A user-facing error: a message, where it happened, and an optional hint."""

    def __init__(self, message: str, span: Span | None = None, hint: str | None = None):
        super().__init__(message)
        self.message = message
        self.span = span if span is not NO_SPAN else None
        self.hint = hint

    def __repr__(self) -> str:
        return f"BtcError({self.message!r}, {self.span!r})"


class BtcErrors(BtcError):
    """Several errors found in one pass over a program (all are reported)."""

    def __init__(self, errors: list[BtcError]):
        super().__init__(errors[0].message if errors else "errors", errors[0].span if errors else None)
        self.errors = list(errors)


class ErrorCollector:
    """Collects errors while a pass walks the whole program, then raises them together."""

    def __init__(self) -> None:
        self.errors: list[BtcError] = []

    def add(self, message: str, span: Span | None = None, hint: str | None = None) -> None:
        self.errors.append(BtcError(message, span, hint))

    def extend(self, err: BtcError) -> None:
        self.errors.extend(err.errors if isinstance(err, BtcErrors) else [err])

    def raise_if_any(self) -> None:
        if self.errors:
            if len(self.errors) == 1:
                raise self.errors[0]
            raise BtcErrors(self.errors)


def all_errors(err: BtcError) -> list[BtcError]:
    return err.errors if isinstance(err, BtcErrors) else [err]


def render(err: BtcError, source: str | None = None, dialect: str = "btrace") -> str:
    """Render every error in `err` as text for stderr (no trailing newline)."""
    return "\n".join(_render_one(e, source, dialect) for e in all_errors(err))


def _render_one(err: BtcError, source: str | None, dialect: str) -> str:
    lines: list[str] = []
    span = err.span
    src_line = _source_line(source, span.line) if span is not None else None
    if span is None:
        lines.append(("ERROR: " if dialect == "bpftrace" else "btc: ") + err.message)
    elif dialect == "bpftrace":
        lines.extend(_render_bpftrace(err.message, span, src_line))
    else:
        # btrace's yyerror ends the header with ":" (bt_parse.y: `fprintf(stderr, ":\n")`)
        lines.append(f"{span.file}:{span.line}:{span.col}: {err.message}:")
        if src_line is not None:
            tabs = src_line[: max(span.col - 1, 0)].count("\t")
            lines.append(src_line)
            lines.append(" " * (span.col - 1 + 7 * tabs) + "^")
    if err.hint:
        lines.append("HINT: " + err.hint)
    return "\n".join(lines)


def _render_bpftrace(message: str, span: Span, src_line: str | None) -> list[str]:
    if span.end_line != span.line:
        return [f"{span.file}:{span.line}-{span.end_line}: ERROR: {message}"]
    end_col = max(span.end_col, span.col + 1)
    out = [f"{span.file}:{span.line}:{span.col}-{end_col}: ERROR: {message}"]
    if src_line:
        # bpftrace shows TABs as 4 columns; its marker may cover the newline, no further
        before = src_line[: span.col - 1].replace("\t", "    ")
        marked = (src_line + " ")[span.col - 1: end_col - 1].replace("\t", "    ")
        out.append(src_line.replace("\t", "    "))
        out.append(" " * len(before) + "~" * len(marked))
    return out


def _source_line(source: str | None, line: int) -> str | None:
    if source is None or line < 1:
        return None
    lines = source.split("\n")
    return lines[line - 1] if line <= len(lines) else None


def closest(name: str, candidates: list[str] | tuple[str, ...] | set[str]) -> str | None:
    """The candidate closest to `name`, for 'did you mean' hints (None when nothing is close)."""
    import difflib

    found = difflib.get_close_matches(name, sorted(candidates), n=1, cutoff=0.6)
    return found[0] if found else None
