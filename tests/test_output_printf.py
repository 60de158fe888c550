"""printf in both dialects: btrace's reparsing printf (E7) and bpftrace's typed printf."""
import pytest

from btc.runtime.output import check_printf, format_printf
from btc.runtime.output.printf_bpftrace import bpftrace_printf
from btc.runtime.output.printf_btrace import btrace_printf
from test_output_support import I64, ikey, skey


def _desc(fmt, kinds):
    fields, off = [], 0
    for kind in kinds:
        td = I64 if kind == "int" else {"k": "str", "size": 16}
        fields.append({"off": off, "t": td})
        off += 8 if kind == "int" else 16
    return {"fmt": fmt, "args": {"k": "tuple", "size": off, "fields": fields},
            "arg_kinds": kinds, "span": [1, 1]}


def _payload(values):
    return b"".join(ikey(v) if isinstance(v, int) else skey(v) for v in values)


def _bt(fmt, *args):
    return btrace_printf(fmt.encode(), [a.encode() for a in args],
                         [a.lstrip("-").isdigit() for a in args])


def test_e7_btrace_reuse_and_reparse():
    out = []
    for fmt, args in [("%d-%d\\n", [1, 2, 3]), ("%5s|%-3d|%c\\n", ["ab", "7", 65]),
                      ("%x\\n", ["0x1f"])]:
        kinds = ["int" if isinstance(a, int) else "str" for a in args]
        text, warnings = format_printf(_desc(fmt, kinds), _payload(args), "btrace")
        assert warnings == []
        out.append(text)
    assert "".join(out) == "1-2\n3-0\n   ab|7  |A\n1f\n"


def test_btrace_escapes_processed_again():
    # the lexer already turned "\\n" into backslash + n: printf makes it a newline
    assert _bt("a\\tb\\101\\x42\\\\\\n") == ("a\tbAB\\\n", [])
    assert _bt("x\\qy") == ("xqy", ["btrace: unknown escape sequence `\\q'"])
    assert _bt("x\\") == ("x", ["btrace: null escape sequence"])


def test_btrace_length_modifier_is_invalid_directive():
    assert _bt("a %ld b %d\n", "1", "2") == ("a ", ["btrace: %l: invalid directive"])
    assert _bt("%5lu", "1") == ("", ["btrace: %5l: invalid directive"])


def test_btrace_numeric_warnings():
    assert _bt("%d %d %d|", "abc", "12x", "") == (
        "0 12 0|", ["btrace: abc: expected numeric value", "btrace: 12x: not completely converted"])
    assert _bt("%d", "99999999999999999999") == (
        "9223372036854775807", ["btrace: 99999999999999999999: Result too large"])


def test_btrace_conversions():
    assert _bt("%i %o %u %x %X", "-5", "8", "-1", "255", "255") == (
        "-5 10 18446744073709551615 ff FF", [])
    assert _bt("%#o %#x %#x %+d % d %05d %-5d| %.3d %.0d|", "8", "255", "0", "5", "5", "-42",
               "3", "7", "0") == ("010 0xff 0 +5  5 -0042 3    | 007 |", [])
    assert _bt("%e %E %f %F %g %G", "1.5", "1.5", "2.25", "2.25", "0.0001", "1e20") == (
        "1.500000e+00 1.500000E+00 2.250000 2.250000 0.0001 1E+20", [])
    assert _bt("%a %A %.1a %a", "1", "-3", "1.5", "0") == ("0x1p+0 -0X1.8P+1 0x1.8p+0 0x0p+0", [])
    assert _bt("%d %d %c", "'A", '"', "hello") == ("65 0 h", [])
    assert _bt("%s|%5.2s|%-4s|", "abc", "xyz", "q") == ("abc|   xy|q   |", [])
    assert _bt("100%%") == ("100%", [])


def test_btrace_star_width_precision():
    assert _bt("%*d|%-*d|%.*s|", "5", "42", "4", "1", "2", "hello") == ("   42|1   |he|", [])
    assert _bt("%*d|", "-4", "7") == ("7   |", [])
    assert _bt("%.*s|%.*a|", "-1", "hello", "-2", "1") == ("hello|0x1p+0|", [])
    # a non-numeric '*' argument is not consumed and counts as 0
    assert _bt("%*s|", "ab") == ("ab|", [])


def test_btrace_missing_args_and_no_conversion():
    assert _bt("%d|%s|%c|", "1") == ("1||\0|", [])
    assert _bt("plain\\n", "1", "2") == ("plain\n", [])
    assert _bt("%d,", "1", "2", "3") == ("1,2,3,", [])


def test_btrace_b_conversion():
    assert _bt("%b|", "a\\tb\\0101") == ("a\tbA|", [])
    assert _bt("%b|after", "x\\cy") == ("x", [])


def test_btrace_missing_format_character():
    assert _bt("abc %", "1") == ("abc ", ["btrace: missing format character"])


def test_bpftrace_printf_ints():
    assert bpftrace_printf("%d|%ld|%u|%lu|%hhd|%hu|%x|%08lx|%-5d|%5d|\n",
                           [2**33 + 5, -1, -1, -1, 255, 65537, 255, 255, 3, 3]) == (
        "5|-1|4294967295|18446744073709551615|-1|1|ff|000000ff|3    |    3|\n")
    assert bpftrace_printf("%p %p %c %llX %zu %.3d", [0, 4096, 65, 255, 7, 5]) == (
        "(nil) 0x1000 A FF 7 005")


def test_bpftrace_printf_strings_and_trailer():
    assert bpftrace_printf("[%s] [%6s] [%-6s] [%.2s]", [b"abc", b"abc", b"abc", b"abc"]) == (
        "[abc] [   abc] [abc   ] [ab]")
    assert bpftrace_printf("%s!", [b"x" * 5], frozenset({0})) == "xxxxx..!"


def test_bpftrace_percent():
    assert bpftrace_printf("100%% %d%%\n", [5]) == "100% 5%\n"
    assert bpftrace_printf("50%%\n", []) == "50%\n"


def test_bpftrace_format_printf_event():
    text, warnings = format_printf(_desc("hi %d %s\n", ["int", "str"]), _payload([7, "ab"]),
                                   "bpftrace")
    assert (text, warnings) == ("hi 7 ab\n", [])


@pytest.mark.parametrize("fmt, kinds, errors", [
    ("%d %s\n", ["int", "str"], []),
    ("%d\n", ["str"], ["printf: %d specifier expects a value of type integer (string supplied)"]),
    ("%s\n", ["int"], ["printf: %s specifier expects a value of type string (integer supplied)"]),
    ("%d %d\n", ["int"], ["printf: Not enough arguments for format string (1 supplied, 2 expected)"]),
    ("%d\n", ["int", "int"], ["printf: Too many arguments for format string (2 supplied, 1 expected)"]),
    ("%f\n", ["int"], ["printf: Too many arguments for format string (1 supplied, 0 expected)"]),
    ("%-08.3lld %hhx %zu %p %c", ["int"] * 5, []),
    ("%5lu\n", ["str"], ["printf: %lu specifier expects a value of type integer (string supplied)"]),
    ("%s %s", ["ksym", "kstack"], []),
    ("%r %rx", ["buffer", "buffer"], []),
    ("100%%\n", [], []),
])
def test_check_printf(fmt, kinds, errors):
    assert check_printf(fmt, kinds) == errors
