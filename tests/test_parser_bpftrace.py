"""Parser, bpftrace dialect: lexing rules, statement forms and bison-style diagnostics."""
from __future__ import annotations

import pytest

from btc.diagnostics import Span
from btc.parser import ast
from parser_util import B, BI, C, I, M, S, V, body, error_text, errors, expr, program, stmt

D = "bpftrace"


# ------------------------------------------------------------------ statements


def test_semicolons_between_statements_last_optional():
    assert body("BEGIN { @a = 1; @b = 2 }", D) == (
        ast.Assign(target=M("a"), value=I(1)), ast.Assign(target=M("b"), value=I(2)))
    assert body("BEGIN { @a = 1; @b = 2; }", D) == body("BEGIN { @a = 1; @b = 2 }", D)
    assert body("BEGIN { if (1) { } @a = 1; while (0) { } }", D)[1] == ast.Assign(
        target=M("a"), value=I(1))


def test_expression_statements():
    assert stmt("$a ? print(1) : print(2);", D) == ast.ExprStmt(
        expr=ast.Ternary(cond=V("a"), then=C("print", I(1)), orelse=C("print", I(2))))
    assert stmt("1;", D) == ast.ExprStmt(expr=I(1))
    assert stmt("myfunc();", D) == ast.ExprStmt(expr=C("myfunc"))
    assert stmt("++@x", D) == ast.ExprStmt(expr=ast.IncDec(target=M("x"), op="++", prefix=True))
    assert stmt("return 1", D) == ast.Return(value=I(1))


def test_delete_forms():
    assert stmt("delete(@m[1])", D).expr == C("delete", M("m", I(1)))
    assert stmt("delete(@m, (1, 2))", D).expr == C(
        "delete", M("m"), ast.Tuple(elems=(I(1), I(2))))


def test_bpftrace_numbers():
    assert expr("1_000", D) == I(1000)
    assert expr("1e6", D) == I(1000000)
    assert expr("2E3", D) == I(2000)
    assert expr("10ul", D) == I(10)
    assert expr("10ULL", D) == I(10)
    assert expr("5u", D) == I(5)
    assert expr("1+2", D) == B("+", I(1), I(2))
    assert expr("18446744073709551615", D) == I(2**64 - 1)


def test_bpftrace_string_escapes():
    assert expr(r'"a\n\t\r\"\\"', D) == S('a\n\t\r"\\')
    assert expr(r'"\101\x42\0"', D) == S("AB\x00")
    s = expr(r'"\xff\377"', D).value
    assert s.encode("utf-8", "surrogateescape") == b"\xff\xff"


def test_positional_in_probe_and_filter():
    prog = program("uprobe:$1:main /$2 == pid/ { printf(\"%d\\n\", $#); }", D)
    assert prog.rules[0].probes[0].text == "uprobe:$1:main"
    assert prog.rules[0].filter == B("==", ast.Positional(index=2), BI("pid"))


# ------------------------------------------------------------------ diagnostics


def test_e8_unexpected_integer():
    assert error_text("BEGIN { @x = 1 2 }", D) == (
        "stdin:1:16-17: ERROR: syntax error, unexpected integer, expecting ; or }\n"
        "BEGIN { @x = 1 2 }\n"
        "               ~")


@pytest.mark.parametrize("src,message,span", [
    ("BEGIN { @a = 1 @b = 2 }", "syntax error, unexpected map, expecting ; or }", (1, 16, 18)),
    ("BEGIN { ; }", "syntax error, unexpected ;", (1, 9, 10)),
    ("BEGIN { if (1) @a = 1; }", "syntax error, unexpected map, expecting {", (1, 16, 18)),
    ('BEGIN { printf("a" "b") }', 'syntax error, unexpected string, expecting ) or ","',
     (1, 20, 23)),
    # the range starts after the last whitespace (bpftrace's location quirk)
    ("BEGIN { print(5e-9) }", 'syntax error, unexpected identifier, expecting ) or ","',
     (1, 9, 17)),
    ("BEGIN { @x = 1, 2 }", 'syntax error, unexpected ",", expecting ; or }', (1, 14, 16)),
    ("BEGIN { $x = 1 pid }", "syntax error, unexpected builtin, expecting ; or }", (1, 16, 19)),
    ("BEGIN { $x = 1 count() }", "syntax error, unexpected call, expecting ; or }", (1, 16, 21)),
    ("BEGIN {", "syntax error, unexpected end of file", (1, 7, 8)),
    ("BEGIN { @x = 1; } /* abc", "end of file during comment", (1, 19, 25)),
    ('BEGIN { printf("a\\q"); }', "invalid escape character '\\q'", (1, 9, 20)),
    ('BEGIN { @x = "\\777"; }', "octal escape sequence out of range '\\777'", (1, 14, 19)),
    ("BEGIN { @x = 08; }", "Found trailing non-numeric characters", (1, 14, 16)),
    ("BEGIN { @x = 99999999999999999999999; }", "stoull", (1, 14, 37)),
    ("BEGIN { @x = 10e3; }",
     "Coefficient part of scientific literal must be in range (0,9), got: 10", (1, 14, 18)),
    ("BEGIN { @x = ` }", "invalid character '`'", (1, 14, 15)),
    ("BEGIN { @x = $0 }", "param $0 is out of integer range [1, 9223372036854775807]",
     (1, 14, 16)),
])
def test_error_messages_and_spans(src, message, span):
    err = errors(src, D)[0]
    assert err.message == message
    assert (err.span.line, err.span.col, err.span.end_col) == span
    assert err.span.file == "stdin"


def test_unterminated_string_then_syntax_error():
    # as bpftrace 0.17 prints it for the same input
    assert error_text('BEGIN { @x = "abc\n}', D) == (
        "stdin:1:14-19: ERROR: unterminated string\n"
        'BEGIN { @x = "abc\n'
        "             ~~~~~\n"
        "stdin:2:1-2: ERROR: syntax error, unexpected }\n"
        "}\n"
        "~")


def test_number_error_drops_the_token_like_bpftrace():
    errs = errors("BEGIN { @x = 08; }", D)
    assert [e.message for e in errs] == [
        "Found trailing non-numeric characters", "syntax error, unexpected ;"]
    assert errs[1].span == Span("stdin", 1, 14, 1, 17)


def test_all_errors_are_reported_one_per_rule():
    src = "BEGIN { @x = 1 } END { @y = } kprobe:f { @z = 3 3 } kprobe:g { @ok = 1 }"
    errs = errors(src, D)
    assert [(e.message, e.span.col) for e in errs] == [
        ("syntax error, unexpected }", 29),
        ("syntax error, unexpected integer, expecting ; or }", 49)]


def test_tabs_in_error_lines():
    text = error_text("BEGIN {\n\t@x = 1 2\n}", D)
    assert text.splitlines() == [
        "stdin:2:9-10: ERROR: syntax error, unexpected integer, expecting ; or }",
        "    @x = 1 2",
        "           ~"]
