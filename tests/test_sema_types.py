"""Type checking: arithmetic per dialect, strings, positional parameters, printf, histograms."""
import pytest

from btc.ir.types import BOOL, INT64, UINT64, StrType
from ir_util import analyze_src, errors_of, ir, messages, stmts_of, where


def value_of(src, dialect="btrace", params=None):
    return stmts_of(analyze_src(src, dialect, params))[0].value


def test_division_signedness_per_dialect():
    b = value_of("BEGIN { @x = pid / 2 }")
    assert isinstance(b, ir.Binary) and b.signed and b.type == INT64
    bp = value_of("BEGIN { @x = pid / 2 }", "bpftrace")
    assert isinstance(bp, ir.Binary) and not bp.signed


def test_c_promotion_in_bpftrace():
    e = value_of("BEGIN { $a = pid - 1; @x = $a }", "bpftrace")
    assert e.type == INT64  # u32 promotes to a signed 64-bit value
    e = value_of("BEGIN { $a = nsecs - 1; @x = $a }", "bpftrace")
    assert e.type == UINT64
    e = value_of("BEGIN { @x = pid < 1 }", "bpftrace")
    assert e.type == BOOL and e.signed  # int64 comparison after promotion


def test_operands_are_widened_explicitly():
    e = value_of("BEGIN { @x = pid + 1 }", "bpftrace")
    assert isinstance(e.lhs, ir.Cast) and e.lhs.type == UINT64


def test_logical_operators_per_dialect():
    b = value_of("BEGIN { @x = pid && tid }")
    bp = value_of("BEGIN { @x = pid && tid }", "bpftrace")
    assert isinstance(b, ir.Logical) and not b.short_circuit
    assert isinstance(bp, ir.Logical) and bp.short_circuit


def test_btrace_flat_precedence_reaches_the_ir():
    e = value_of("BEGIN { @x = 3 == 1 + 2 }")
    assert e.op == "+" and e.lhs.op == "=="


def test_string_comparison():
    e = value_of('BEGIN { @x = comm == "bash" }')
    assert isinstance(e, ir.StrCmp) and e.op == "=="
    assert messages('BEGIN { @x = comm < "bash" }', "bpftrace") == [
        "Type mismatch for '<': comparing 'string[16]' with 'string[5]'"]
    assert messages('BEGIN { @x = pid + "a" }') == [
        "operation '+' unsupported on strings (uint32 and string[2])"]


def test_string_in_a_filter_is_true_when_not_empty():
    prog = analyze_src('BEGIN /comm/ { @x = 1 }')
    f = prog.functions[0].filter
    assert isinstance(f, ir.StrCmp) and f.op == "!=" and f.rhs.value == b""


def test_too_many_operands_btrace():
    errs = errors_of("BEGIN { @a = 1 + 2 + 3 + 4 + 5 + 6 }")
    assert errs[0].message == "too many operands (>5) in expression"
    assert len(errs) == 1
    analyze_src("BEGIN { @a = 1 + 2 + 3 + 4 + 5 }")
    analyze_src("BEGIN { @a = 1 + 2 + 3 + 4 + 5 + 6 }", "bpftrace")


def test_positional_parameters_typed_by_use():
    prog = analyze_src('BEGIN { @x = $1 + 1; printf("%s", str($2)) }', "bpftrace", ["5", "abc"])
    assert prog.params == ((1, INT64), (2, StrType(64)))
    errs = errors_of("BEGIN { @x = $1 + 1 }", "bpftrace", ["abc"])
    assert errs[0].message == '$1 used numerically but given "abc". Try using str($1).'


def test_btrace_non_numeric_positional_is_a_string():
    prog = analyze_src('BEGIN { printf("%s", $1) }', params=["abc"])
    assert prog.params == ((1, StrType(64)),)
    prog = analyze_src('BEGIN { printf("%d", $1) }', params=["0x1f"])
    assert prog.params == ((1, INT64),)


def test_param_count():
    assert value_of("BEGIN { @n = $# }") == ir.ParamCount(type=INT64)


def test_printf_bpftrace_checks():
    errs = errors_of('BEGIN { printf("%d %d\\n", 1) }', "bpftrace")
    assert errs[0].message == "printf: Not enough arguments for format string (1 supplied, 2 expected)"
    assert where(errs[0]) == (1, 9, 1, 29)
    assert messages('BEGIN { printf("x\\n", 2) }', "bpftrace") == [
        "printf: Too many arguments for format string (1 supplied, 0 expected)"]
    errs = errors_of('BEGIN { printf("%d\\n", comm) }', "bpftrace")
    assert errs[0].message == "printf: %d specifier expects a value of type integer (string supplied)"
    assert where(errs[0]) == (1, 24, 1, 28)
    assert messages('BEGIN { printf("%s\\n", 1) }', "bpftrace") == [
        "printf: %s specifier expects a value of type string (integer supplied)"]


def test_printf_bpftrace_accepts_length_modifiers_and_percent():
    prog = analyze_src('BEGIN { printf("%lu %-5s %%\\n", nsecs, comm) }', "bpftrace")
    assert prog.printfs[0].arg_types == (UINT64, StrType(16))


def test_printf_btrace_accepts_anything_and_warns_on_length_modifier():
    prog = analyze_src('BEGIN { printf("%d %s %d\\n", "2", 1, 2, 3) }')
    assert prog.printfs[0].arg_types == (StrType(2), INT64, INT64, INT64)
    assert prog.warnings == ()
    prog = analyze_src('BEGIN { printf("%ld\\n", 1) }')
    assert [w.message for w in prog.warnings] == ["%l: invalid directive"]
    assert where(prog.warnings[0])[:2] == (1, 16)


def test_printf_format_must_be_a_literal():
    assert messages("BEGIN { printf(comm) }", "bpftrace") == [
        "printf: the first argument must be a string literal"]


def test_hist_bits():
    assert messages("BEGIN { @h = hist(1, 9) }", "bpftrace") == ["hist: bits 9 must be 0..5"]
    prog = analyze_src("BEGIN { @h = hist(1, 5) }", "bpftrace")
    assert prog.map("@h").value.bits == 5


@pytest.mark.parametrize("args,msg", [
    ("1, -1, 5, 1", "negative minimum"),
    ("1, 5, 1, 1", "maximum smaller than minimum (max < min)"),
    ("1, 1, 5", "1 missing arguments"),
    ("1, 1, 5, $1", "type invalid"),
    ("1, 1, 5, 1, 2", "too many arguments"),
])
def test_lhist_btrace_messages(args, msg):
    assert messages(f"BEGIN {{ @l = lhist({args}) }}") == [msg]


@pytest.mark.parametrize("args,msg", [
    ("1, 0, 10, 0", "lhist() step must be >= 1 (0 provided)"),
    ("1, -1, 10, 1", "lhist() min must be non-negative (provided min -1)"),
    ("1, 10, 5, 1", "lhist() min must be less than max (provided min 10 and max 5)"),
    ("1, 0, 10, 20", "lhist() step is too large for the given range (provided step 20 for range 10)"),
    ("1, 0, 100000, 1", "lhist() too many buckets, must be <= 1000 (would need 100000)"),
    ("1, 0, 10", "lhist() requires 4 arguments (3 provided)"),
])
def test_lhist_bpftrace_messages(args, msg):
    assert messages(f"BEGIN {{ @l = lhist({args}) }}", "bpftrace") == [msg]


def test_lhist_parameters_recorded():
    prog = analyze_src("BEGIN { @l = lhist(5, 10, 30, 10) }")
    assert prog.map("@l").value.lhist == (10, 30, 10)


def test_ternary_and_casts_bpftrace():
    e = value_of('BEGIN { @x = pid > 1 ? "big" : "s" }', "bpftrace")
    assert e.type == StrType(4) and e.orelse.type == StrType(4)
    assert messages('BEGIN { @x = pid > 1 ? 1 : "s" }', "bpftrace") == [
        "Ternary operator must return the same type: have 'int64' and 'string[2]'"]
    e = value_of("BEGIN { @x = (uint8)300 }", "bpftrace")
    assert isinstance(e, ir.Cast)


def test_tuples():
    prog = analyze_src('BEGIN { $t = (1, "x"); print($t.1) }')
    assert prog.prints == (StrType(2),)
    assert prog.map("@__l0_t").value == ir.TupleType((INT64, StrType(2)))
    assert messages('BEGIN { $t = (1, "x"); print($t.2) }', "bpftrace") == [
        "Invalid tuple index: 2. Found 2 elements in tuple."]


def test_btrace_positional_compared_with_a_string_is_a_string():
    prog = analyze_src("syscall:read:entry /comm == $1/ { @x = 1 }", params=[])
    f = prog.functions[0].filter
    assert isinstance(f, ir.StrCmp) and f.rhs == ir.Param(index=1, type=StrType(64))
    assert prog.params == ((1, StrType(64)),)
    prog = analyze_src("syscall:read:entry /pid == $1/ { @x = 1 }", params=["12"])
    assert prog.params == ((1, INT64),)
