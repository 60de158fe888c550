"""The bt parser: `parse(source, filename, dialect) -> ast.Program`.

Pipeline: `lexer.Scanner` (hand-written, dialect aware) -> `lalr.LalrParser` running the LALR(1)
tables that lark built from grammar/common.lark + grammar/<dialect>.lark (see tables.py), which
calls `transform.ToAst` at each reduction. Tokens are fed one by one so that after a syntax
error the parser can resume at the next rule and report every error of the program.

Every error is a `BtcError` (several at once: `BtcErrors`), with spans following each
dialect's upstream conventions (see lexer.error_span).
"""
from __future__ import annotations

import functools

from btc.diagnostics import DIALECTS, BtcError, BtcErrors
from btc.parser import ast
from btc.parser.gc_pause import gc_paused
from btc.parser.lalr import LalrParser, ParseError, Token, make_token
from btc.parser.lexer import TOP, Scanner
from btc.parser.syntax_errors import syntax_error
from btc.parser.tables import Tables, grammar_text, load
from btc.parser.transform import ToAst

__all__ = ["parse", "grammar_text", "ast"]

# Tokens that begin a top-level item: the parser state before one is a resume point.
_ITEM_START = frozenset(["PROBE", "CPREPROC", "STRUCT_DEFN", "_CONFIG"])
_ITEM_END = frozenset(["_RBRACE", "CPREPROC", "STRUCT_DEFN"])


@functools.lru_cache(maxsize=None)
def _tables(dialect: str) -> Tables:
    return load(dialect)


def parse(source: str, filename: str, dialect: str = "btrace") -> ast.Program:
    """Parse a bt program. Raises BtcError (or BtcErrors) listing every error found."""
    if dialect not in DIALECTS:
        raise BtcError(f"unknown dialect '{dialect}' (expected one of {', '.join(DIALECTS)})")
    scanner = Scanner(source, filename, dialect)
    parser = LalrParser(_tables(dialect), ToAst(filename, dialect, source), filename,
                        _ITEM_START, _ITEM_END)
    with gc_paused():  # see gc_pause.py
        program, syntax = _drive(parser, scanner)
    errors = sorted(scanner.errors + syntax, key=_position)
    if errors:
        raise errors[0] if len(errors) == 1 else BtcErrors(errors)
    return program


def _position(err: BtcError) -> tuple[int, int]:
    return (err.span.line, err.span.col) if err.span else (0, 0)


def _drive(parser: LalrParser, scanner: Scanner):
    """Feed the scanner's tokens to the LALR parser; on a syntax error, record it, skip to
    the end of the current rule and resume from the state saved before that rule."""
    errors: list[BtcError] = []
    table = parser.tables
    tokens = scanner.tokens()
    pending: Token | None = None
    failed = False
    while True:
        rejected = parser.feed(tokens, pending)
        if rejected is None:
            break
        tok, prev, state_stack = rejected
        failed = True
        if tok.type != "ERROR":
            errors.append(syntax_error(scanner, tok, state_stack, table, prev))
        checkpoint_tok = parser.restore_checkpoint()
        pending = _skip_rule(tok, prev, tokens, scanner, tok is checkpoint_tok)
    eof = _eof_token(scanner)
    if failed:  # a recovered parse is not checked for completeness
        return None, errors
    try:
        return parser.eof(eof), errors
    except ParseError as exc:
        errors.append(syntax_error(scanner, eof, exc.state_stack, table))
    return None, errors


def _skip_rule(bad: Token, prev: Token | None, tokens, scanner: Scanner,
               at_checkpoint: bool) -> Token | None:
    """Discard tokens up to the end of the rule holding `bad`. Returns the token to resume
    with (a new rule's first token), or None to resume with the next token."""
    if bad.type in _ITEM_START and scanner.depth == 0 and not at_checkpoint \
            and prev is not None and prev.type != "_COMMA":
        return bad  # e.g. `BEGIN END { }`: the new probe starts the next rule
    if bad.type in ("CPREPROC", "STRUCT_DEFN") and scanner.mode == TOP:
        return None
    if bad.type == "_RBRACE" and scanner.mode == TOP:
        return None
    for tok in tokens:
        if tok.type == "_RBRACE" and scanner.mode == TOP:
            break
    return None


def _eof_token(scanner: Scanner) -> Token:
    end = len(scanner.source)
    line, col = scanner.line_col(end)
    return make_token("$END", "", end, end, line, col, line, col)
