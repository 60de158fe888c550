"""Property: whatever the input, parse() returns a Program or raises BtcError, never another
exception, and every error it reports can be rendered.

Inputs come from a small program generator (random valid-looking bt programs in the union of
both dialects) and from random character-level mutations of generated and seed programs.
The default run checks a few hundred examples; the `slow` run checks 10,000.
"""
from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from btc.diagnostics import BtcError, all_errors, render
from btc.parser import ast, parse

DIALECTS = ("btrace", "bpftrace")
SEEDS = [p.read_text() for p in sorted(Path("/work/shared/seed/examples").glob("*.bt"))]

# ------------------------------------------------------------------ program generator

names = st.sampled_from(["a", "b", "x1", "_t", "pid", "comm", "count", "kstack", "foo"])
builtins = st.sampled_from(["pid", "tid", "comm", "nsecs", "cpu", "arg0", "retval", "probe",
                            "args", "curtask", "kstack"])
numbers = st.one_of(st.integers(0, 2**70).map(str), st.sampled_from(
    ["0x1f", "017", "1_000", "1e6", "10ul", "08", "0x", "1e99", "12abc"]))
strings = st.text(st.sampled_from(list('ab %d\\n"\'tx0q7{}/*')), max_size=8).map(
    lambda s: '"' + s + '"')
atoms = st.one_of(
    numbers, strings, builtins,
    names.map(lambda n: "$" + n), names.map(lambda n: "@" + n), st.just("@"),
    st.integers(0, 12).map(lambda i: f"${i}"), st.just("$#"),
)
binops = st.sampled_from(["+", "-", "*", "/", "%", "&", "|", "^", "<<", ">>", "==", "!=",
                          "<", "<=", ">", ">=", "&&", "||"])
spaces = st.sampled_from([" ", "", "\n", "\t", " /* c */ "])


def _expr(children):
    return st.one_of(
        st.tuples(children, spaces, binops, spaces, children).map("".join),
        st.tuples(st.sampled_from(["-", "!", "~", "*", "++", "--", "(uint32)",
                                   "(struct s *)"]), children).map("".join),
        children.map(lambda e: f"({e})"),
        st.tuples(children, children).map(lambda t: f"({t[0]}, {t[1]})"),
        st.tuples(children, children, children).map(lambda t: f"{t[0]} ? {t[1]} : {t[2]}"),
        st.tuples(names, st.lists(children, max_size=3)).map(
            lambda t: f"{t[0]}({', '.join(t[1])})"),
        st.tuples(names, st.lists(children, min_size=1, max_size=2)).map(
            lambda t: f"@{t[0]}[{', '.join(t[1])}]"),
        st.tuples(children, st.sampled_from([".0", ".f", "->f", "[1]", "++", "--"])).map("".join),
    )


exprs = st.recursive(atoms, _expr, max_leaves=8)
lvalues = st.one_of(names.map(lambda n: "$" + n), names.map(lambda n: "@" + n),
                    st.tuples(names, exprs).map(lambda t: f"@{t[0]}[{t[1]}]"))


def _stmts(children):
    return st.one_of(
        st.tuples(exprs, exprs, children).map(lambda t: f"if ({t[0]}) {{ {t[2]} }} else {t[1]};"),
        st.tuples(exprs, children).map(lambda t: f"while ({t[0]}) {{ {t[1]} }}"),
        st.tuples(names, names, children).map(lambda t: f"for (${t[0]} : @{t[1]}) {{ {t[2]} }}"),
        st.tuples(st.integers(0, 5), children).map(lambda t: f"unroll({t[0]}) {{ {t[1]} }}"),
        st.lists(children, max_size=3).map(lambda s: " ".join(s)),
        st.lists(children, max_size=3).map(lambda s: "; ".join(s)),
    )


simple_stmts = st.one_of(
    st.tuples(lvalues, st.sampled_from([" = ", " += ", "<<=", "="]), exprs).map("".join),
    st.tuples(lvalues, st.sampled_from(["++", "--"])).map("".join),
    exprs, st.sampled_from([";", "break", "continue", "return", "let $v", "let $v: uint8 = 1"]),
)
stmt_blocks = st.recursive(simple_stmts, _stmts, max_leaves=6)
probes = st.sampled_from([
    "BEGIN", "END", "begin", "syscall:read:entry", "kprobe:vfs_*", "uprobe:/bin/sh:main+0x10",
    "tracepoint:sched:sched_switch", "profile:hz:99", "i:s:1", "uprobe:$1:f", "k:a,k:b",
    "struct", "config", "#include <x.h>\nBEGIN", "123", "@x",
])
rules = st.tuples(st.lists(probes, min_size=1, max_size=2), st.one_of(st.just(""), exprs),
                  stmt_blocks).map(
    lambda t: f"{', '.join(t[0])} {'/' + t[1] + '/' if t[1] else ''} {{ {t[2]} }}")
programs = st.lists(rules, min_size=1, max_size=3).map("\n".join)

# ------------------------------------------------------------------ mutations

MUTATION_CHARS = list("{}()[];,:/*+-=<>!&|^~?.$@#\"'\\\n\t 0123456789abcxyz_") + ["\x00", "é"]
mutations = st.lists(
    st.tuples(st.sampled_from(["insert", "delete", "replace"]), st.floats(0, 1),
              st.sampled_from(MUTATION_CHARS)), min_size=1, max_size=6)


def mutate(text: str, edits) -> str:
    chars = list(text)
    for kind, where, ch in edits:
        i = int(where * len(chars)) if chars else 0
        if kind == "insert" or not chars:
            chars.insert(i, ch)
        elif kind == "delete":
            del chars[min(i, len(chars) - 1)]
        else:
            chars[min(i, len(chars) - 1)] = ch
    return "".join(chars)


inputs = st.one_of(
    programs,
    st.tuples(programs, mutations).map(lambda t: mutate(*t)),
    st.tuples(st.sampled_from(SEEDS), mutations).map(lambda t: mutate(*t)),
    st.text(max_size=60),
)

# ------------------------------------------------------------------ the property


def check(source: str) -> None:
    for dialect in DIALECTS:
        try:
            prog = parse(source, "fuzz.bt", dialect)
        except BtcError as err:
            for e in all_errors(err):
                assert e.message
                assert e.span is None or e.span.file == "fuzz.bt"
            assert render(err, source, dialect)
        else:
            assert isinstance(prog, ast.Program)


COMMON = dict(deadline=None, suppress_health_check=list(HealthCheck), derandomize=False)


@settings(max_examples=300, **COMMON)
@given(inputs)
def test_parse_raises_only_btc_errors(source):
    check(source)


@pytest.mark.slow
@settings(max_examples=10_000, **COMMON)
@given(inputs)
def test_parse_raises_only_btc_errors_10k(source):
    check(source)


@pytest.mark.parametrize("source", [
    "", " ", "\n", "/*", "/", "//", "\"", "$", "@", "#", "#!", "{", "}", "BEGIN", "BEGIN {",
    "BEGIN }", "BEGIN { } }", "config", "config = {", "struct x {", "BEGIN /", "BEGIN / {",
    "BEGIN { @x = \"\\", "BEGIN { $", "BEGIN { 1", "k:f,", "k:f, {", ",", "BEGIN { ((((( }",
    "BEGIN END BEGIN { }", "BEGIN { } config = { }", "\x00", "BEGIN { @x = 1 } \x00",
])
def test_edge_inputs(source):
    check(source)
