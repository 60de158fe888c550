"""Syntax error messages in each dialect's words.

btrace (yacc): always `syntax error`, at the last character of the offending token.
bpftrace (bison, `parse.error verbose`): `syntax error, unexpected X, expecting A or B`, with
bison's token names; the expected list is computed the way bison does it (after the default
reductions of the states the parser is in) and only shown for at most four candidates.
"""
from __future__ import annotations

from collections import Counter

from btc.diagnostics import BtcError
from btc.parser.lalr import Token
from btc.parser.lexer import Scanner, bpftrace_begin, btrace_point
from btc.parser.tables import Tables

# bpftrace lexer.l word classes (used to name an unexpected NAME token).
BP_BUILTINS = frozenset(
    "args cgroup comm cpid numaid cpu ctx curtask elapsed func gid pid probe rand retval "
    "tid uid username jiffies".split()
    + [f"arg{i}" for i in range(10)] + [f"sarg{i}" for i in range(10)]
)
BP_CALLS = frozenset(
    "avg buf cat cgroupid clear count delete exit hist join kaddr kptr ksym len lhist macaddr "
    "max min ntop override print printf cgroup_path reg signal stats str strerror strftime "
    "strncmp strcontains sum system time uaddr uptr usym zero path unwatch bswap skboutput "
    "pton debugf has_key percpu_kaddr".split()
)
BP_CALL_BUILTINS = frozenset(["kstack", "ustack", "nsecs"])
BP_STACK_MODES = frozenset(["bpftrace", "perf", "raw"])
BP_SIZED_TYPES = frozenset(["string", "inet", "buffer"])

# Display names of our terminals in bison's words (parser.yy %token aliases).
_DISPLAY = {
    "$END": "end of file", "INT": "integer", "STRING": "string", "MAP": "map",
    "VAR": "variable", "PARAM": "positional parameter", "PARAMCOUNT": "$#",
    "PROBE": "identifier", "ENDFILT": "end predicate", "CPREPROC": "preprocessor directive",
    "STRUCT_DEFN": "struct definition", "INT_TYPE": "integer type", "_CONFIG": "config",
    "_COMMA": '","',
}
_NAME_KINDS = ("builtin", "call", "call_builtin", "identifier", "stack_mode")

# parser.yy token declaration order: bison lists expected tokens in this order.
_ORDER = [
    "end of file", ":", ";", "{", "}", "[", "]", "(", ")", "?", "end predicate", '","', "$#",
    "=", "==", "!=", "<=", ">=", "<<", ">>", "<", ">", "&&", "||", "+", "++",
    "<<=", ">>=", "+=", "-=", "*=", "/=", "%=", "&=", "|=", "^=",
    "-", "--", "*", "/", "%", "&", "|", "^", "!", "~", ".", "->", "struct", "union",
    "builtin", "call", "call_builtin", "integer type", "builtin type", "subprog", "sized type",
    "identifier", "path", "preprocessor directive", "struct definition", "enum", "string",
    "map", "variable", "positional parameter", "integer", "stack_mode", "config", "unroll",
    "while", "for", "return", "if", "else", "continue", "break", "sizeof", "offsetof", "let",
]
_RANK = {name: i for i, name in enumerate(_ORDER)}
MAX_EXPECTED = 4  # bison's YYARGS_MAX - 1


# The btrace dialect's builtin variable and function names (btc.ir.builtins, not imported
# here: it costs ~100 ms). Any other word is a plain STRING token to btrace's lexer.
BT_WORDS = frozenset(
    "BEGIN END pid tid cpu comm nsecs kstack ustack probe retval printf print time exit clear "
    "zero delete count sum min max hist lhist str".split() + [f"arg{i}" for i in range(10)]
)


def syntax_error(scanner: Scanner, token: Token, state_stack: list, tables: Tables,
                 prev: Token | None = None) -> BtcError:
    """The BtcError for `token` arriving when the parser's stack is `state_stack` (`prev`:
    the token shifted before it, if known)."""
    end = token.end_pos if token.type != "$END" else len(scanner.source)
    if scanner.dialect == "btrace":
        if prev is not None and prev.type == "NAME" and str(prev) not in BT_WORDS:
            end = prev.end_pos  # btrace's parser already fails on the unknown word itself
        return BtcError("syntax error", btrace_point(scanner, end))
    start = token.start_pos if token.type != "$END" else len(scanner.source)
    span = scanner.span(bpftrace_begin(scanner.source, start), end)
    message = f"syntax error, unexpected {token_name(token)}"
    expected = expected_names(state_stack, tables)
    if expected and len(expected) <= MAX_EXPECTED:
        message += ", expecting " + " or ".join(expected)
    return BtcError(message, span)


def token_name(token: Token) -> str:
    """How bison names this token in `unexpected X`."""
    if token.type == "NAME":
        return name_kind(str(token))
    if token.type == "STRUCT":
        return "union" if token == "union" else "struct"
    return display(token.type, str(token))


def name_kind(word: str) -> str:
    if word in BP_BUILTINS:
        return "builtin"
    if word in BP_CALLS:
        return "call"
    if word in BP_CALL_BUILTINS:
        return "call_builtin"
    if word in BP_STACK_MODES:
        return "stack_mode"
    if word in BP_SIZED_TYPES:
        return "sized type"
    return "identifier"


def display(type_: str, text: str = "") -> str:
    if type_ in _DISPLAY:
        return _DISPLAY[type_]
    from btc.parser.lexer import KEYWORDS, PUNCT

    for punct, name in PUNCT.items():
        if name == type_:
            return punct
    for word, name in KEYWORDS.items():
        if name == type_:
            return word
    return text or type_


def expected_names(state_stack: list, tables: Tables) -> list[str]:
    """Tokens acceptable after bison-style default reductions, in bison's order."""
    states = tables.states
    stack = list(state_stack)
    for _ in range(1000):  # each step pops or changes state; bounded for safety
        actions = states[stack[-1]]
        reduces = Counter(-a - 1 for k, a in actions.items() if a < 0 and _is_terminal(k))
        if not reduces:
            break
        origin, size = tables.rules[reduces.most_common(1)[0][0]][:2]
        if size:
            del stack[-size:]
        if not stack:
            return []
        goto = states[stack[-1]].get(origin)
        if goto is None:  # reduced to the start symbol: only end of file fits
            return ["end of file"]
        stack.append(goto)
    names: set[str] = set()
    for key in states[stack[-1]]:
        if key == "NAME":
            names.update(_NAME_KINDS)
        elif _is_terminal(key):
            names.add(display(key))
    return sorted(names, key=lambda n: _RANK.get(n, len(_RANK)))


def _is_terminal(symbol: str) -> bool:
    return symbol == "$END" or symbol.lstrip("_")[:1].isupper()
