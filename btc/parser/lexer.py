"""The bt tokenizer: one hand-written scanner, switched by dialect, feeding lark's LALR parser.

Why not lark's own lexer: both upstream lexers are context dependent in ways a regex table
cannot express (btrace's "a number must be followed by ..." re-read as a word, adjacent string
joining, probe specs that are free text, bpftrace's end-of-predicate `/`, C definitions kept
as text). The scanner tracks three modes itself: TOP (between rules: probes, preamble,
config), FILTER (inside `/.../`) and BLOCK (inside braces).

Lexical errors are collected (never raised) so the parse can go on and report them all.
"""
from __future__ import annotations

import bisect
import itertools
import re
from dataclasses import dataclass, field
from typing import Iterator

from btc.diagnostics import BtcError, Span
from btc.parser.lalr import Token, make_token

# Punctuation, longest first (the scanner tries them in this order).
PUNCT = {
    "<<=": "LSHIFT_ASSIGN", ">>=": "RSHIFT_ASSIGN",
    "+=": "ADD_ASSIGN", "-=": "SUB_ASSIGN", "*=": "MUL_ASSIGN", "/=": "DIV_ASSIGN",
    "%=": "MOD_ASSIGN", "&=": "AND_ASSIGN", "|=": "OR_ASSIGN", "^=": "XOR_ASSIGN",
    "==": "EQ", "!=": "NE", "<=": "LE", ">=": "GE", "<<": "LSHIFT", ">>": "RSHIFT",
    "&&": "LAND", "||": "LOR", "++": "INC", "--": "DEC", "->": "ARROW",
    "(": "_LPAR", ")": "_RPAR", "{": "_LBRACE", "}": "_RBRACE", "[": "_LSQB", "]": "_RSQB",
    ",": "_COMMA", ";": "_SEMI", ":": "_COLON", ".": "DOT", "?": "_QMARK", "=": "_ASSIGN",
    "+": "PLUS", "-": "MINUS", "*": "STAR", "/": "SLASH", "%": "PERCENT", "&": "AMP",
    "|": "PIPE", "^": "CARET", "!": "BANG", "~": "TILDE", "<": "LT", ">": "GT",
}
_PUNCT_RE = re.compile("|".join(re.escape(p) for p in PUNCT))
_MODE_TYPES = frozenset(["_LBRACE", "_RBRACE", "SLASH", "ENDFILT"])

KEYWORDS = {
    "if": "_IF", "else": "_ELSE", "while": "_WHILE", "for": "_FOR", "unroll": "_UNROLL",
    "break": "BREAK", "continue": "CONTINUE", "return": "RETURN", "let": "_LET",
    "sizeof": "_SIZEOF", "offsetof": "_OFFSETOF",
    "struct": "STRUCT", "union": "STRUCT", "enum": "STRUCT",
}
INT_TYPES = frozenset(
    ["bool"] + [f"{u}int{n}" for u in ("", "u") for n in (8, 16, 32, 64)]
)

_WS = re.compile(r"[ \t\r\n\f\v]+")
_WS_ONLY = re.compile(r"[ \t\r\n\f\v]*")
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_WORD = re.compile(r"[A-Za-z0-9_]+")
# A probe: a provider or BEGIN/END word, then (only after a colon) free spec text: paths,
# wildcards, "+off", "$1", quoted USDT names. No spaces, commas or braces.
_PROBE = re.compile(r'[A-Za-z_][A-Za-z0-9_]*(?::(?:\\.|"[^"\n]*"|[A-Za-z0-9_\-./#+*?\[\]$:])*)?')
_STRUCT_DEF = re.compile(r"(struct|union|enum)\b\s*(?:[A-Za-z_][A-Za-z0-9_]*)?\s*\{")
_CONFIG = re.compile(r"config\s*=")
_ENDFILT = re.compile(r"/(?=\s*[/{])")
# btrace: digits then any hex-ish chars; the follow set decides if it is a number at all.
_BT_NUMBER = re.compile(r"[0-9][0-9a-fA-FxX]*")
_BT_NUM_END = frozenset(" \t\n\r\f\v)/{;],=")
# bpftrace (lexer.l): int with '_' and C suffixes, hex, and integer scientific notation.
_INT = r"[0-9](?:[0-9_]*[0-9])?(?:[uU]?[lL]{1,2}|[uU])?"
_BP_NUMBER = re.compile(rf"0[xX][0-9a-fA-F]+|{_INT}[eE]{_INT}|{_INT}")
_SUFFIX = re.compile(r"(?:[uU]|[uU]?[lL]?[lL])", re.I)



def _fast_code(btrace: bool) -> re.Pattern:
    """Scanner.tokens' fast path in code: blanks, then one token whose meaning does not
    depend on what follows beyond what the pattern checks. Groups: 1 a name, 2 punctuation
    not starting with `/` (which may end a filter or start a comment), 3 a decimal number
    (btrace: only when its follow character makes it a number, see _bt_number; bpftrace:
    no `_`, suffix, exponent or hex), 4 a map, 5 a variable, 6 a string without escapes
    or newlines (btrace: short, and not followed by another literal to join)."""
    punct = "|".join(re.escape(p) for p in PUNCT if not p.startswith("/"))
    if btrace:
        number = r"(?:[1-9][0-9]*|0)(?=[ \t\n\r\f\v)/{;\],=]|\Z)"
        first = "[A-Za-z]"
        string = r'"[^"\\\n]{0,%d}"(?![ \t\r\n\f\v]*["/])' % (BT_TOKEN_MAX - 1)
    else:
        number = r"(?:[1-9][0-9]*|0)(?![0-9_eEuUlLxX])"
        first = "[A-Za-z_]"
        string = r'"[^"\\\n]*"'
    return re.compile(rf"[ \t\r\n\f\v]*(?:([A-Za-z_][A-Za-z0-9_]*)|({punct})|({number})"
                      rf"|(@{first}[A-Za-z0-9_]*)|(\${first}[A-Za-z0-9_]*)|({string}))")


BT_ESCAPES = {"\\": "\\", "'": "'", '"': '"', "a": "\a", "b": "\b", "e": "\x1b",
              "f": "\f", "n": "\n", "r": "\r", "t": "\t", "v": "\v"}
BP_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", '"': '"', "\\": "\\"}
BT_TOKEN_MAX = 1024  # btrace's lexer buffer; a longer token is "line too long"
LONG_MAX = 2**63 - 1
ULLONG_MAX = 2**64 - 1

_FAST_BTRACE = _fast_code(True)
_FAST_BPFTRACE = _fast_code(False)

TOP, FILTER, BLOCK = "top", "filter", "block"
# ASCII only: str.isalpha()/isdigit() would accept any Unicode letter or digit.
ALPHA = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")
DIGITS = frozenset("0123456789")


def byte_char(value: int) -> str:
    """A string character for one byte from an escape: bytes >= 0x80 use the
    surrogateescape range so `s.encode("utf-8", "surrogateescape")` gives the byte back."""
    return chr(value) if value < 0x80 else chr(0xDC00 + value)


@dataclass
class Scanner:
    """Turns source text into lark Tokens; lexical errors go to `errors`."""

    source: str
    filename: str
    dialect: str
    errors: list[BtcError] = field(default_factory=list)
    pos: int = 0
    mode: str = TOP
    depth: int = 0
    # line starts, for offset -> (line, col)
    _line_starts: list[int] = field(default_factory=list)
    _line_hint: int = 0

    def __post_init__(self) -> None:
        starts = [0]
        starts.extend(m.end() for m in re.finditer("\n", self.source))
        self._line_starts = starts
        self.btrace = self.dialect == "btrace"

    # ------------------------------------------------------------ positions

    def line_col(self, offset: int) -> tuple[int, int]:
        """1-based line and column of an offset."""
        starts = self._line_starts
        i = self._line_hint
        # Tokens come in order, so the line of the previous lookup is usually right.
        if not (starts[i] <= offset and (i + 1 == len(starts) or offset < starts[i + 1])):
            i = bisect.bisect_right(starts, offset) - 1
            self._line_hint = i
        return i + 1, offset - starts[i] + 1

    def span(self, start: int, end: int) -> Span:
        line, col = self.line_col(start)
        end_line, end_col = self.line_col(end)
        return Span(self.filename, line, col, end_line, end_col)

    def token(self, type_: str, value: object, start: int, end: int) -> Token:
        line, col = self.line_col(start)
        end_line, end_col = self.line_col(end)
        return make_token(type_, value, start, end, line, col, end_line, end_col)

    def error_at(self, message: str, start: int, end: int) -> None:
        """Record a lexical error at [start, end) in the dialect's own convention."""
        self.errors.append(BtcError(message, error_span(self, start, end)))

    # ------------------------------------------------------------ main loop

    def tokens(self) -> Iterator[Token]:
        """The tokens, lexed on demand in batches (a list is cheaper to hand over than one
        generator step per token). A batch ends after every token lexed by the slow path
        and every brace, so whenever the parser holds a brace or an item-start token, `mode`
        and `depth` describe the scanner right after it (error recovery reads them)."""
        return itertools.chain.from_iterable(self._batches())

    def _batches(self) -> Iterator[list[Token]]:
        src = self.source
        size = len(src)
        fast = (_FAST_BTRACE if self.btrace else _FAST_BPFTRACE).match
        keywords, int_types, punct = KEYWORDS, INT_TYPES, PUNCT
        new_tuple = tuple.__new__  # Token(...) without the Python-level __new__
        name_max = BT_TOKEN_MAX if self.btrace else size + 1
        int_max = LONG_MAX if self.btrace else ULLONG_MAX
        starts = self._line_starts
        line, line_start, next_start = 0, 0, -1  # the line of the last fast token
        batch: list[Token] = []
        while True:
            if self.mode != TOP:
                # Fast path (see _fast_code): the commonest code tokens, with the blanks
                # before them, in one match; none spans lines. Anything unusual about the
                # token (too long, too large) leaves type_ None and takes the slow path.
                pos = self.pos
                while True:
                    m = fast(src, pos)
                    if m is None:
                        break
                    kind = m.lastindex
                    end = m.end()
                    text = m.group(kind)
                    start = end - len(text)
                    type_ = None
                    value = text
                    if kind == 1:
                        if end - start < name_max:
                            type_ = keywords.get(text) or ("INT_TYPE" if text in int_types
                                                           else "NAME")
                    elif kind == 2:
                        type_ = punct[text]
                    elif kind == 3:
                        value = int(text)
                        if value <= int_max:
                            type_ = "INT"
                    elif kind == 4:
                        type_, value = "MAP", text[1:]
                    elif kind == 5:
                        type_, value = "VAR", text[1:]
                    else:
                        type_, value = "STRING", text[1:-1]
                    if type_ is None:
                        break
                    pos = end
                    if not line_start <= start < next_start:
                        i = bisect.bisect_right(starts, start) - 1
                        line, line_start = i + 1, starts[i]
                        next_start = starts[i + 1] if i + 1 < len(starts) else size + 1
                    col = start - line_start + 1
                    tok = new_tuple(Token, (line, col, line, col + end - start, type_, value,
                                            start, end))
                    batch.append(tok)
                    if kind == 2 and type_ in _MODE_TYPES:
                        self.pos = pos
                        self._track_mode(tok)
                        yield batch
                        batch = []
                        if self.mode == TOP:
                            break
                self.pos = pos
            start = _WS_ONLY.match(src, self.pos).end()
            self.pos = start
            # Only a `/` (comment) or the start of input (shebang) needs _skip_space.
            if start >= size or start == 0 or src[start] == "/":
                if not self._skip_space():
                    break
                start = self.pos
            tok = self._lex_code() if self.mode != TOP else self._lex_top()
            if tok is not None:
                if tok.type in _MODE_TYPES:
                    self._track_mode(tok)
                batch.append(tok)
                yield batch
                batch = []
            elif self.pos == start:  # nothing consumed and no token: skip one char
                self.pos += 1
            if self.pos > size:
                break
        if batch:
            yield batch

    def _track_mode(self, tok: Token) -> None:
        t = tok.type
        if t == "_LBRACE":
            self.depth += 1
            self.mode = BLOCK
        elif t == "_RBRACE":
            self.depth = max(self.depth - 1, 0)
            if self.depth == 0:
                self.mode = TOP
        elif t == "SLASH" and self.mode == TOP:
            self.mode = FILTER
        elif t == "ENDFILT":
            self.mode = TOP

    def _skip_space(self) -> bool:
        """Skip whitespace, comments and the shebang; False at end of input."""
        src = self.source
        # Fast path: plain whitespace then a character that cannot start a comment.
        pos = _WS_ONLY.match(src, self.pos).end()
        self.pos = pos
        if pos < len(src) and pos != 0 and src[pos] != "/":
            return True
        while self.pos < len(src):
            m = _WS.match(src, self.pos)
            if m:
                self.pos = m.end()
                continue
            if src.startswith("#!", self.pos) and self.pos == 0:
                self._skip_line()
                continue
            if src.startswith("//", self.pos):
                self._skip_line()
                continue
            if src.startswith("/*", self.pos):
                end = src.find("*/", self.pos + 2)
                if end < 0:
                    self.error_at("end of file during comment", self.pos, len(src))
                    self.pos = len(src)
                    return False
                self.pos = end + 2
                continue
            return True
        return False

    def _skip_line(self) -> None:
        end = self.source.find("\n", self.pos)
        self.pos = len(self.source) if end < 0 else end

    # ------------------------------------------------------------ TOP mode

    def _lex_top(self) -> Token | None:
        src, start = self.source, self.pos
        c = src[start]
        if c == "#":
            end = src.find("\n", start)
            end = len(src) if end < 0 else end
            self.pos = end
            return self.token("CPREPROC", src[start:end], start, end)
        m = _STRUCT_DEF.match(src, start)
        if m:
            return self._struct_def(start, m.end())
        m = _CONFIG.match(src, start)
        if m:
            self.pos = start + len("config")
            return self.token("_CONFIG", "config", start, self.pos)
        m = _PROBE.match(src, start)
        if m:
            self.pos = m.end()
            return self.token("PROBE", m.group(), start, m.end())
        return self._lex_code()

    def _struct_def(self, start: int, after_brace: int) -> Token:
        """A C struct/union/enum definition up to its matching brace and optional `;`."""
        src, depth, i = self.source, 1, after_brace
        while i < len(src) and depth:
            depth += {"{": 1, "}": -1}.get(src[i], 0)
            i += 1
        m = re.compile(r"\s*;").match(src, i)
        end = m.end() if m else i
        self.pos = end
        return self.token("STRUCT_DEFN", src[start:end], start, end)

    # ------------------------------------------------------------ code (FILTER / BLOCK)

    def _lex_code(self) -> Token | None:
        src, start = self.source, self.pos
        c = src[start]
        if c == '"':
            return self._bt_string() if self.btrace else self._bp_string()
        if c in DIGITS:
            return self._bt_number() if self.btrace else self._bp_number()
        if c == "$":
            return self._dollar()
        if c == "@":
            return self._map()
        if c in ALPHA or c == "_":
            m = _NAME.match(src, start)
            self.pos = m.end()
            word = m.group()
            if self.btrace and self.pos - start >= BT_TOKEN_MAX:
                self.error_at("line too long", start + BT_TOKEN_MAX - 1, start + BT_TOKEN_MAX)
            if word in KEYWORDS:
                return self.token(KEYWORDS[word], word, start, self.pos)
            if word in INT_TYPES:
                return self.token("INT_TYPE", word, start, self.pos)
            return self.token("NAME", word, start, self.pos)
        if c == "/" and self.mode == FILTER and _ENDFILT.match(src, start):
            self.pos = start + 1
            return self.token("ENDFILT", "/", start, self.pos)
        if c == "#" and not self.btrace:
            end = src.find("\n", start)
            end = len(src) if end < 0 else end
            self.pos = end
            return self.token("CPREPROC", src[start:end], start, end)
        m = _PUNCT_RE.match(src, start)
        if m:
            self.pos = m.end()
            return self.token(PUNCT[m.group()], m.group(), start, self.pos)
        self.pos = start + 1
        if self.btrace:  # yacc sees an unknown character token: a syntax error
            return self.token("BADCHAR", c, start, self.pos)
        self.error_at(f"invalid character '{c}'", start, self.pos)
        return None

    def _dollar(self) -> Token | None:
        src, start = self.source, self.pos
        nxt = src[start + 1: start + 2]
        if nxt == "#":
            self.pos = start + 2
            return self.token("PARAMCOUNT", "$#", start, self.pos)
        if nxt in DIGITS:
            m = re.compile(r"[0-9]+").match(src, start + 1)
            end = m.end()
            follow = src[end: end + 1]
            if self.btrace and follow and follow not in _BT_NUM_END:
                return self._bad_var("$", m.group(), follow, end)
            self.pos = end
            index = int(m.group())
            if self.btrace and not 1 <= index <= 2**31 - 1:
                kind = "too small" if index < 1 else "too large"
                self.error_at(f"'${m.group()}' is {kind}", end - 1, end)
                return self.token("ERROR", m.group(), start, end)
            if not self.btrace and not 1 <= index <= LONG_MAX:
                self.error_at(f"param ${m.group()} is out of integer range [1, {LONG_MAX}]",
                              start, end)
                return self.token("ERROR", m.group(), start, end)
            return self.token("PARAM", index, start, end)
        ok = nxt in ALPHA or (nxt == "_" and not self.btrace)
        if ok:
            m = _NAME.match(src, start + 1)
            self.pos = m.end()
            return self.token("VAR", m.group(), start, self.pos)
        if self.btrace:
            return self._bad_var("$", "", nxt, start + 1)
        self.pos = start + 1
        self.error_at("invalid character '$'", start, self.pos)
        return None

    def _bad_var(self, sigil: str, text: str, follow: str, at: int) -> Token:
        """btrace: `'$1x' is an invalid variable name`, reported at the last good char."""
        col_end = at if text else at + 1
        self.error_at(f"'{sigil}{text}{follow}' is an invalid variable name", col_end - 1, col_end)
        end = at + (1 if follow else 0)
        self.pos = end
        return self.token("ERROR", sigil + text + follow, at - len(text) - 1, end)

    def _map(self) -> Token:
        src, start = self.source, self.pos
        nxt = src[start + 1: start + 2]
        if nxt in ALPHA or (nxt == "_" and not self.btrace):
            m = _NAME.match(src, start + 1)
            self.pos = m.end()
            return self.token("MAP", m.group(), start, self.pos)
        if self.btrace and nxt and nxt not in _BT_NUM_END and nxt != "[":
            return self._bad_var("@", "", nxt, start + 1)
        self.pos = start + 1
        return self.token("MAP", "", start, self.pos)

    # ------------------------------------------------------------ numbers

    def _bt_number(self) -> Token:
        src, start = self.source, self.pos
        m = _BT_NUMBER.match(src, start)
        end = m.end()
        follow = src[end: end + 1]
        if follow and follow not in _BT_NUM_END:
            # Not a number: re-read as a word, which no grammar rule accepts.
            w = _WORD.match(src, start)
            self.pos = w.end()
            return self.token("BADWORD", w.group(), start, self.pos)
        self.pos = end
        value = c_strtol_prefix(m.group())
        if value > LONG_MAX:
            self.error_at("overflow", end - 1, end)
            return self.token("ERROR", m.group(), start, end)
        return self.token("INT", value, start, end)

    def _bp_number(self) -> Token | None:
        src, start = self.source, self.pos
        m = _BP_NUMBER.match(src, start)
        # flex takes the longest match; identifiers never start with a digit
        self.pos = m.end()
        try:
            value = bp_int_value(m.group())
        except ValueError as exc:
            self.error_at(str(exc), start, self.pos)
            return None  # upstream returns no token here
        return self.token("INT", value, start, self.pos)

    # ------------------------------------------------------------ strings

    def _bt_string(self) -> Token:
        """btrace: escapes of bt_parse.y; adjacent literals (only spaces/comments between)
        are joined into one token."""
        src, start = self.source, self.pos
        out: list[str] = []
        i = start + 1
        while True:
            if i >= len(src):
                self.error_at(f'"{"".join(out)}" invalid EOF', len(src) - 1, len(src))
                self.pos = len(src)
                return self.token("ERROR", "", start, len(src))
            c = src[i]
            i += 1
            if c == '"':
                self.pos = i
                if self._skip_space() and src[self.pos] == '"':
                    i = self.pos + 1
                    continue
                self.pos = i
                break
            if c == "\\":
                e = src[i: i + 1]
                i += 1
                if e not in BT_ESCAPES:
                    self.error_at(f"'{e}' unsupported escape", i - 1, i)
                    self.pos = _string_end(src, i)
                    return self.token("ERROR", "", start, self.pos)
                c = BT_ESCAPES[e]
            out.append(c)
            if len(out) >= BT_TOKEN_MAX:
                self.error_at("line too long", i - 1, i)
                self.pos = _string_end(src, i)
                return self.token("ERROR", "", start, self.pos)
        return self.token("STRING", "".join(out), start, i)

    def _bp_string(self) -> Token | None:
        """bpftrace: \\n \\t \\r \\" \\\\, octal and hex escapes; no newline inside."""
        src, start = self.source, self.pos
        out: list[str] = []
        i = start + 1
        while True:
            if i >= len(src):
                self.error_at("unterminated string", start, len(src))
                self.pos = len(src)
                return None
            c = src[i]
            if c == '"':
                self.pos = i + 1
                return self.token("STRING", "".join(out), start, self.pos)
            if c == "\n":
                # bpftrace counts the newline into the range but not as a new line yet
                begin = bpftrace_begin(src, start)
                line, col = self.line_col(begin)
                end_col = self.line_col(i)[1] + 1
                self.errors.append(BtcError("unterminated string",
                                            Span(self.filename, line, col, line, end_col)))
                self.pos = i + 1
                return None
            if c != "\\":
                out.append(c)
                i += 1
                continue
            i = self._bp_escape(i, out, start)
            if i < 0:
                return None

    def _bp_escape(self, i: int, out: list[str], start: int) -> int:
        src = self.source
        e = src[i + 1: i + 2]
        if e in BP_ESCAPES:
            out.append(BP_ESCAPES[e])
            return i + 2
        m = re.compile(r"[0-7]{1,3}").match(src, i + 1)
        if m:
            value = int(m.group(), 8)
            if value > 255:
                self.error_at(f"octal escape sequence out of range '\\{m.group()}'", start, m.end())
            out.append(byte_char(value & 0xFF))
            return m.end()
        m = re.compile(r"[xX][0-9a-fA-F]{1,2}").match(src, i + 1)
        if m:
            out.append(byte_char(int(m.group()[1:], 16)))
            return m.end()
        if e in ("", "\n"):
            self.error_at("invalid character", start, i + 1)
            self.pos = i + 1
            return -1
        self.error_at(f"invalid escape character '\\{e}'", start, i + 2)
        return i + 2


def _string_end(src: str, i: int) -> int:
    """Resume point after a bad string: past its closing quote (or the end)."""
    while i < len(src):
        if src[i] == "\\":
            i += 2
            continue
        if src[i] == '"':
            return i + 1
        i += 1
    return len(src)


def c_strtol_prefix(text: str) -> int:
    """C strtol(text, NULL, 0) on a non-negative literal: the longest valid prefix."""
    if text[:2] in ("0x", "0X") and len(text) > 2 and text[2] in "0123456789abcdefABCDEF":
        m = re.match(r"[0-9a-fA-F]+", text[2:])
        return int(m.group(), 16)
    if text.startswith("0"):
        m = re.match(r"[0-7]*", text)
        return int(m.group() or "0", 8)
    m = re.match(r"[0-9]+", text)
    return int(m.group())


def bp_int_value(text: str) -> int:
    """bpftrace int_parser::to_uint: '_' removed, base 0, C suffixes, `NeM` integers.
    Raises ValueError with bpftrace's message."""
    n = text.replace("_", "")
    if n[:2] in ("0x", "0X"):
        return _checked(int(n, 16))
    if "e" in n or "E" in n:
        coeff, exp = re.split("[eE]", n, maxsplit=1)
        c = _bp_parse_int(coeff, 10, "Coefficient part of scientific literal is not a valid number: ")
        e = _bp_parse_int(exp, 10, "Exponent part of scientific literal is not a valid number: ")
        if c > 9:
            raise ValueError(f"Coefficient part of scientific literal must be in range (0,9), got: {coeff}")
        if e > 16:
            raise ValueError(f"Exponent will overflow integer range: {exp}")
        return c * 10**e
    return _bp_parse_int(n, 0, "")


def _bp_parse_int(n: str, base: int, prefix: str) -> int:
    if base == 0 and n.startswith("0"):
        digits = re.match(r"[0-7]*", n).group()
        base = 8
    else:
        digits = re.match(r"[0-9]*", n).group()
        base = 10
    rest = n[len(digits):]
    if not digits:
        raise ValueError(prefix + "stoull")
    if rest and not _SUFFIX.fullmatch(rest):
        raise ValueError(prefix + (f"{n}: " if prefix else "") + "Found trailing non-numeric characters")
    return _checked(int(digits, base))


def _checked(value: int) -> int:
    if value > ULLONG_MAX:
        raise ValueError("stoull")
    return value


def error_span(scanner: Scanner, start: int, end: int) -> Span:
    """The span an error is reported at, per dialect (see output-formats.md §9).

    btrace reports the column of the last character consumed, so the span is that one
    character. bpftrace's location starts after the last whitespace before the token (the
    lexer only steps its location on whitespace) and ends after the token.
    """
    if scanner.dialect == "btrace":
        return btrace_point(scanner, end)
    begin = bpftrace_begin(scanner.source, start)
    return scanner.span(begin, max(end, begin))


def btrace_point(scanner: Scanner, end: int) -> Span:
    """A one-character span on the last consumed character (column 0 after a newline)."""
    src = scanner.source
    if end <= 0:
        return Span(scanner.filename, 1, 0, 1, 1)
    last = min(end, len(src)) - 1
    if src[last] == "\n":
        line, _ = scanner.line_col(end)
        return Span(scanner.filename, line, 0, line, 1)
    line, col = scanner.line_col(last)
    return Span(scanner.filename, line, col, line, col + 1)


def bpftrace_begin(source: str, start: int) -> int:
    i = start
    while i > 0 and source[i - 1] not in " \t\n\r":
        i -= 1
    return i
