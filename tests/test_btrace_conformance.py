"""OpenBSD btrace conformance (default dialect): the rules checked against btrace's own
regression suite (regress/usr.sbin/btrace) and btrace.c / bt_parse.y, pinned with our own
small programs. Every run is a real `btc` run on the kernel; outputs are compared exactly."""
from __future__ import annotations

import pytest

from btc.driver import params_shape
from btc.ir.builtins import function_names, variable_names
from btc.parser.syntax_errors import BT_WORDS
from tests.kernel import require_bpf
from tests.run_util import run_btc


@pytest.fixture
def bpf():
    require_bpf()


def run_file(tmp_path, name: str, src: str, *args: str):
    """Run `src` from a file in tmp_path (errors name the file as given on the command line)."""
    path = tmp_path / name
    path.write_text(src)
    return run_btc(str(path), *args, timeout=120)


def stdout_of(tmp_path, src: str, *args: str) -> str:
    res = run_file(tmp_path, "t.bt", src, *args)
    assert res.returncode == 0, res.stderr
    return res.stdout


# ------------------------------------------------------------------ parse errors


def test_syntax_error_header_ends_with_a_colon(tmp_path):
    # bt_parse.y yyerror: "FILE:LINE:COL: MESSAGE:\n", the line, the caret (TAB = 8 columns)
    res = run_file(tmp_path, "oops.bt", "END\n{\n\tprint(1) 2;\n}\n")
    assert res.returncode != 0
    assert res.stdout == ""
    path = str(tmp_path / "oops.bt")
    assert res.stderr == f"{path}:3:11: syntax error:\n\tprint(1) 2;\n" + " " * 17 + "^\n"


def test_unknown_word_is_the_offending_token(tmp_path):
    # btrace's lexer turns an unknown word into a STRING token, which no statement starts
    # with: the error is on that word, not on what follows it
    res = run_file(tmp_path, "w.bt", "BEGIN\n{\n\tbar ;\n}\n")
    path = str(tmp_path / "w.bt")
    assert res.stderr == f"{path}:3:4: syntax error:\n\tbar ;\n" + " " * 10 + "^\n"


def test_known_word_keeps_the_error_on_the_next_token():
    res = run_btc("-e", "BEGIN { @x = nsecs 5; }")
    assert res.stderr == "btc:1:20: syntax error:\nBEGIN { @x = nsecs 5; }\n" + " " * 19 + "^\n"


@pytest.mark.parametrize("call,col", [("zero(7)", 6), ('clear("ab")', 10), ("zero(pid)", 8),
                                      ("clear($1)", 8)])
def test_clear_and_zero_of_a_non_variable_are_syntax_errors(call, col):
    # btrace's grammar takes only a variable there: the error is on the argument's last char
    prog = f"BEGIN {{ {call}; }}"
    res = run_btc("-e", prog, "1")
    assert res.returncode != 0
    assert res.stderr == f"btc:1:{8 + col}: syntax error:\n{prog}\n" + " " * (7 + col) + "^\n"


def test_every_error_of_a_file_is_reported(tmp_path):
    res = run_file(tmp_path, "two.bt", "BEGIN {\n\tzero(1);\n}\nEND {\n\tclear(22);\n}\n")
    path = str(tmp_path / "two.bt")
    assert res.stderr == (f"{path}:2:7: syntax error:\n\tzero(1);\n" + " " * 13 + "^\n"
                          f"{path}:5:9: syntax error:\n\tclear(22);\n" + " " * 15 + "^\n")


def test_bt_words_match_the_btrace_builtin_registry():
    # syntax_errors.py keeps its own copy (importing the registry costs ~100 ms)
    assert BT_WORDS == frozenset(variable_names("btrace") + function_names("btrace")
                                 + ["BEGIN", "END"])


# ------------------------------------------------------------------ BEGIN / END, exit


def test_begin_and_end_with_comments(bpf, tmp_path):
    src = "// top\nBEGIN\n{\n\t// inside\n\tprintf(\"first\\n\");\n}\n/* x */\nEND\n{\n\tprintf(\"last\\n\");\n}\n"
    assert stdout_of(tmp_path, src) == "first\nlast\n"


def test_exit_in_begin_still_runs_end(bpf, tmp_path):
    # btrace.c 1.99: exit() makes rule_eval return "halt"; rules_teardown still evaluates END
    src = 'BEGIN { printf("a\\n"); exit(); printf("b\\n"); }\nEND { printf("c\\n"); }\n'
    assert stdout_of(tmp_path, src) == "a\nc\n"


def test_exit_in_end_stops_end(bpf, tmp_path):
    # ... and the maps assigned at top level still print after it (rules_teardown)
    src = 'BEGIN { @n[1] = 3; print(@n); }\nEND { printf("x\\n"); print(@n); exit(); printf("y\\n"); }\n'
    assert stdout_of(tmp_path, src) == "@n[1]: 3\nx\n@n[1]: 3\n@n[1]: 3\n"


def test_if_with_and_without_braces(bpf, tmp_path):
    src = ("BEGIN {\n\t@v = 0;\n\tif (@v)\n\t\tprintf(\"no\\n\");\n\tif (3) {\n\t\tprintf(\"yes \");"
           "\n\t\t@v = 8;\n\t\tprintf(\"%d\\n\", @v);\n\t}\n}\n")
    assert stdout_of(tmp_path, src) == "yes 8\n"


# ------------------------------------------------------------------ maps


def test_print_shows_the_map_as_it_is_at_that_statement(bpf, tmp_path):
    # btrace evaluates BEGIN/END statement by statement: later updates must not leak into
    # an earlier print(), and zero()/clear() act where they are written
    src = ("BEGIN {\n\t@c[3] = count();\n\tprint(@c);\n\t@c[3] = count();\n\tprint(@c);\n"
           "\tzero(@c);\n\t@c[4] = count();\n\tprint(@c);\n\tclear(@c);\n\tprint(@c);\n"
           "\t@c[5] = count();\n}\n")
    assert stdout_of(tmp_path, src) == (
        "@c[3]: 1\n@c[3]: 2\n@c[4]: 1\n@c[3]: 0\n@c[5]: 1\n")


def test_count_sum_min_max_and_plain_values_share_a_map(bpf, tmp_path):
    # btrace stores every map value as a C long; count()/sum()/min()/max() update it in
    # place, a missing entry counting as 0 (btrace.c stmt_insert)
    src = ("BEGIN {\n\t@m[1] = count();\n\t@m[2] = 40;\n\t@m[1] = count();\n\t@m[2] = sum(2);\n"
           "\t@m[3] = 6;\n\t@m[3] = min(4);\n\t@m[3] = max(5);\n\t@m[4] = min(9);\n"
           "\t@m[5] = max(-3);\n\tprintf(\"%d %d\\n\", @m[1], @m[2]);\n}\n")
    assert stdout_of(tmp_path, src) == (
        "2 42\n@m[2]: 42\n@m[3]: 5\n@m[1]: 2\n@m[4]: 0\n@m[5]: 0\n")


def test_print_top_from_a_variable(bpf, tmp_path):
    # btrace reads print()'s top count at run time (btrace.c stmt_print)
    src = ("BEGIN {\n\t@m[1] = 10;\n\t@m[2] = 30;\n\t@m[3] = 20;\n\t@n = 2;\n\tprint(@m, @n);\n"
           "\t$k = 1;\n\tprint(@m, $k + 1);\n\tprint(@m, 1);\n\tclear(@m);\n}\n")
    assert stdout_of(tmp_path, src) == "@m[2]: 30\n@m[3]: 20\n" * 2 + "@m[2]: 30\n"


def test_multi_key_map_entries(bpf, tmp_path):
    # keys joined by ", " (btrace.c ba2hash); the map assigned at top level prints at exit
    src = 'BEGIN { @[2 + 3, "k"] = count(); print(@); }\nEND { @[5, "k"] = count(); }\n'
    assert stdout_of(tmp_path, src) == "@[5, k]: 1\n@[5, k]: 2\n"


def test_scratch_variables_arithmetic_and_bitwise(bpf, tmp_path):
    src = ("BEGIN {\n\t@a = 12;\n\t@b = 5;\n\tprintf(\"%d %d\\n\", @a + @b, @a & @b);\n}\n"
           "END {\n\t$c = @a - 2 * @b;\n\tprintf(\"%d %d %d\\n\", $c, (@a + $c) / 3, @a | @b);\n}\n")
    assert stdout_of(tmp_path, src) == "17 4\n2 4 13\n"


def test_print_of_values(bpf, tmp_path):
    src = 'BEGIN {\n\t$s = "word";\n\tprint(41 + 1);\n\tprint($s);\n\tprint(comm);\n}\n'
    assert stdout_of(tmp_path, src) == "42\nword\nbtrace\n"


def test_printf_char_conversions(bpf, tmp_path):
    src = 'BEGIN {\n\t$c = 0x42;\n\tprintf("%c%c%c|", $c, 0x43, 68); printf("%d\\n", "7");\n}\n'
    assert stdout_of(tmp_path, src) == "BCD|7\n"


# ------------------------------------------------------------------ str() and $N


def test_str_length_may_use_positional_parameters(bpf, tmp_path):
    src = ('BEGIN {\n\tprintf("%s|%s\\n", str($1, $2), str($1, 1 + $2 * 2));\n'
           '\tprint(str($1, $3 - 1));\n\tprint(str($1));\n}\n')
    long = "x" * 70
    out = stdout_of(tmp_path, src, "abcdefgh", "2", "4")
    assert out == "ab|abcde\nabc\nabcdefgh\n"
    assert stdout_of(tmp_path, src, long, "3", "1") == f"xxx|xxxxxxx\n\n{'x' * 63}\n"


def test_folded_parameters_are_part_of_the_cache_key():
    src = "BEGIN { print(str($1, $2)); }"
    assert params_shape(src, "btrace", ["ab", "1"]) != params_shape(src, "btrace", ["ab", "2"])
    plain = "BEGIN { print($1); }"
    assert params_shape(plain, "btrace", ["1"]) == params_shape(plain, "btrace", ["2"])


def test_str_length_that_is_not_constant_is_an_error():
    res = run_btc("-e", "BEGIN { @n = 2; print(str($1, @n)); }", "abc")
    assert res.returncode != 0
    assert res.stderr.startswith(
        "btc:1:31: str: length must be a constant (integers, $N, + - * /):\n")


# ------------------------------------------------------------------ probes


def test_begin_shares_a_rule_with_an_interval_probe(bpf, tmp_path):
    # one rule, two probes: the body runs for BEGIN and for each tick (the suite's multiprobe
    # case relies on OpenBSD's tick alignment of two timers; these ticks are 500 ms apart)
    src = 'BEGIN,\ninterval:s:1\n{\n\tprintf("tick\\n");\n}\n\ninterval:ms:1500\n{\n\texit();\n}\n'
    assert stdout_of(tmp_path, src) == "tick\ntick\n"


def test_overwritten_entries_print_once_at_exit_with_their_last_value(bpf, tmp_path):
    src = ("BEGIN {\n\t@i = 0;\n\t@v[0] = 5;\n\t@v[1] = 6;\n}\n\ninterval:ms:50\n{\n"
           "\tif (@i >= 3)\n\t\texit();\n\t@i = @i + 1;\n\t@v[0] = 50 + @i;\n\t@v[1] = 10 * @i;\n}\n")
    assert stdout_of(tmp_path, src) == "@v[0]: 53\n@v[1]: 30\n"
