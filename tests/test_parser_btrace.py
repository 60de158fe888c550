"""Parser, btrace dialect: lexing rules, statement forms and diagnostics of bt_parse.y."""
from __future__ import annotations

import pytest

from btc.diagnostics import Span
from btc.parser import ast
from parser_util import B, BI, C, I, M, S, V, body, error_text, errors, expr, program, stmt

D = "btrace"


# ------------------------------------------------------------------ statements


def test_no_separator_needed_and_empty_statements():
    assert body("BEGIN { @a = 1 @b = 2 printf(\"x\") }", D) == (
        ast.Assign(target=M("a"), value=I(1)),
        ast.Assign(target=M("b"), value=I(2)),
        ast.ExprStmt(expr=C("printf", S("x"))),
    )
    # A lone `;` is an empty statement; a `;` ending a statement is not kept separately.
    assert body("BEGIN { ; @a = 1; ; }", D) == (
        ast.Empty(), ast.Assign(target=M("a"), value=I(1)), ast.Empty())


def test_braceless_if_branches():
    s = stmt("if (pid == 1) @a = 1; else if (pid) @b = 2; else @c = 3;", D)
    assert s == ast.If(
        cond=B("==", BI("pid"), I(1)),
        then=ast.Block(stmts=(ast.Assign(target=M("a"), value=I(1)),)),
        orelse=ast.If(cond=BI("pid"),
                      then=ast.Block(stmts=(ast.Assign(target=M("b"), value=I(2)),)),
                      orelse=ast.Block(stmts=(ast.Assign(target=M("c"), value=I(3)),))))


def test_keywords_are_words_inside_probe_specs():
    prog = program("syscall:exit:entry, syscall:if:return, syscall:print:entry { }", D)
    assert [p.text for p in prog.rules[0].probes] == [
        "syscall:exit:entry", "syscall:if:return", "syscall:print:entry"]


def test_probe_spans():
    prog = program("BEGIN { }\nsyscall:read:entry\n{ }", D)
    assert prog.rules[1].probes[0].span == Span("btc", 2, 1, 2, 19)


# ------------------------------------------------------------------ lexical rules


def test_numbers_need_a_terminator():
    assert expr("6/2", D) == B("/", I(6), I(2))  # '/' may end a number
    assert expr("(1)", D) == I(1)
    assert stmt("@m[1,2]=3", D) == ast.Assign(target=M("m", I(1), I(2)), value=I(3))
    # strtol(…, 0): hex, octal, and the longest valid prefix of hex-looking words
    assert expr("0x1F", D) == I(31)
    assert expr("010", D) == I(8)
    assert expr("12abc", D) == I(12)
    assert expr("1e6", D) == I(1)


def test_adjacent_strings_are_joined():
    assert expr('"a" "b"\n /* c */ "c" // d\n "d"', D) == S("abcd")


def test_string_escapes():
    assert expr(r'"\\ \' \" \a \b \e \f \n \r \t \v"', D) == S(
        "\\ ' \" \a \b \x1b \f \n \r \t \v")
    assert expr('"two\nlines"', D) == S("two\nlines")


def test_variable_and_map_names():
    assert expr("$a1_b", D) == V("a1_b")
    assert expr("@", D) == M("")
    assert expr("@[1]", D) == M("", I(1))
    assert stmt("@=1", D) == ast.Assign(target=M(""), value=I(1))


# ------------------------------------------------------------------ diagnostics


def test_e8_number_followed_by_operator():
    assert error_text("BEGIN { @x = 1+2; }", D) == (
        "btc:1:14: syntax error:\n"
        "BEGIN { @x = 1+2; }\n"
        "             ^")


def test_e8_in_a_file_with_a_tab():
    src = "BEGIN {\n\t@x = 1+2;\n}\n"
    err = errors(src, D)[0]
    assert err.span == Span("add.bt", 2, 7, 2, 8) or err.span.line == 2
    text = error_text(src, D).replace("btc:", "add.bt:")
    assert text == "add.bt:2:7: syntax error:\n\t@x = 1+2;\n" + " " * 13 + "^"


def test_caret_is_on_the_last_character_of_the_token():
    assert error_text("BEGIN { @x = 2*3 }", D).splitlines()[0] == "btc:1:14: syntax error:"
    assert error_text("BEGIN { @x = 1 } 123 { }", D).splitlines()[0] == "btc:1:20: syntax error:"


@pytest.mark.parametrize("src,header", [
    ("BEGIN { @x = $1x; }", "btc:1:15: '$1x' is an invalid variable name:"),
    ("BEGIN { @x = $1+2; }", "btc:1:15: '$1+' is an invalid variable name:"),
    ("BEGIN { @x = $_a; }", "btc:1:15: '$_' is an invalid variable name:"),
    ("BEGIN { @_a = 1; }", "btc:1:10: '@_' is an invalid variable name:"),
    ("BEGIN { @x = $0; }", "btc:1:15: '$0' is too small:"),
    ('BEGIN { @x = "a\\qb"; }', "btc:1:17: 'q' unsupported escape:"),
    ('BEGIN { @x = "a\\0"; }', "btc:1:17: '0' unsupported escape:"),
    ("BEGIN { @x = 99999999999999999999; }", "btc:1:33: overflow:"),
    ('BEGIN { @x = "abc', 'btc:1:17: "abc" invalid EOF:'),
    ("BEGIN { @x = 1 ", "btc:1:15: syntax error:"),
])
def test_lexical_error_messages(src, header):
    assert error_text(src, D).splitlines()[0] == header


def test_line_too_long():
    src = 'BEGIN { @x = "' + "a" * 1100 + '" }'
    err = errors(src, D)[0]
    assert err.message == "line too long"
    assert err.span.col == 14 + 1024


def test_eof_after_newline_is_column_zero():
    err = errors("BEGIN {\n", D)[0]
    assert err.message == "syntax error"
    assert (err.span.line, err.span.col) == (2, 0)


def test_all_errors_are_reported_one_per_rule():
    src = "BEGIN { @a = 1+2 }\nEND { @b = }\nkprobe:f { @c = 3 4 }\nkprobe:g { @ok = 1 }\n"
    errs = errors(src, D)
    assert [(e.message, e.span.line, e.span.col) for e in errs] == [
        ("syntax error", 1, 14), ("syntax error", 2, 12), ("syntax error", 3, 19)]
    rendered = error_text(src, D)
    assert rendered.count("syntax error") == 3


def test_lexical_and_syntax_errors_together():
    errs = errors('BEGIN { @x = "\\q" }\nEND { @y = 1+2 }', D)
    assert [e.message for e in errs] == ["'q' unsupported escape", "syntax error"]


def test_unterminated_comment_is_an_error():
    err = errors("BEGIN { } /* never closed", D)[0]
    assert err.message == "end of file during comment"


def test_prefix_incdec_statements_after_a_closed_statement():
    assert body("BEGIN { ++@x; @a = $y++; --$z }", D) == (
        ast.ExprStmt(expr=ast.IncDec(target=M("x"), op="++", prefix=True)),
        ast.Assign(target=M("a"), value=ast.IncDec(target=V("y"), op="++", prefix=False)),
        ast.ExprStmt(expr=ast.IncDec(target=V("z"), op="--", prefix=True)),
    )
    # Without a `;`, `++` continues the previous expression (no separator in btrace).
    assert errors("BEGIN { @a = 1 ++@b }", D)[0].message == "syntax error"
