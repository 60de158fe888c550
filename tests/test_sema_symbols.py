"""Maps and locals: one key and one value type per map, no mixed aggregations, local scope."""
from btc.ir.types import INT64, UINT64, AggType, IntType, StrType, TupleType
from ir_util import analyze_src, errors_of, ir, messages, stmts_of, where


def test_map_types_are_unified_across_the_program():
    prog = analyze_src('BEGIN { @m["ab"] = 1 } END { @m["abcdef"] = pid }', "bpftrace")
    m = prog.map("@m")
    assert (m.key, m.value) == (StrType(7), INT64)
    # the shorter key literal is widened to the map's key type
    assert stmts_of(prog)[0].key == ir.StrConst(value=b"ab", type=StrType(7))


def test_map_read_before_its_store_gets_the_stored_type():
    prog = analyze_src("BEGIN { printf(\"%s\", @s) } END { @s = comm }", "bpftrace")
    assert prog.map("@s").value == StrType(16)
    assert prog.printfs[0].arg_types == (StrType(16),)


def test_unsigned_values_stay_unsigned_in_bpftrace_and_become_longs_in_btrace():
    assert analyze_src("BEGIN { @x = nsecs }", "bpftrace").map("@x").value == UINT64
    assert analyze_src("BEGIN { @x = nsecs }").map("@x").value == INT64


def test_value_type_mismatch_names_both_types():
    errs = errors_of('BEGIN { @x = 1; @x = "s" }', "bpftrace")
    assert errs[0].message == ("Type mismatch for @x: trying to assign value of type 'string[2]' "
                               "when map already contains a value of type 'int64'")
    assert where(errs[0]) == (1, 17, 1, 25)


def test_key_type_mismatch():
    assert messages('BEGIN { @q[1] = 1; @q["a"] = 2 }', "bpftrace") == [
        "Argument mismatch for @q: trying to access with arguments: 'string[2]' when map "
        "expects arguments: 'int64'"]
    assert messages("BEGIN { @q[1] = 1; @q = 2 }", "bpftrace") == [
        "Argument mismatch for @q: trying to access with no arguments when map expects "
        "arguments: 'int64'"]


def test_aggregations_cannot_mix():
    # (btrace lets count/sum/min/max share a map: test_btrace_conformance)
    errs = errors_of("BEGIN { @m[1] = count(); @m[2] = sum(3) }", "bpftrace")
    assert errs[0].message == ("Type mismatch for @m: trying to assign value of type 'sum(int64)' "
                               "when map already contains a value of type 'count(uint64)'")
    assert messages("BEGIN { @m = count(); @m = 1 }", "bpftrace")[0].startswith(
        "Type mismatch for @m: trying to assign value of type 'int64'")


def test_hist_parameters_are_part_of_the_type():
    assert messages("BEGIN { @h = hist(1); @h = hist(2, 3) }", "bpftrace") == [
        "Type mismatch for @h: trying to assign value of type 'hist(int64, bits=3)' when map "
        "already contains a value of type 'hist(int64)'"]


def test_tuple_key_btrace():
    errs = errors_of("BEGIN { @t[(1, 2)] = 1; $t = (1, 2); @u[$t] = 1 }")
    assert [e.message for e in errs] == ["tuple cannot be used as map key"] * 2
    assert where(errs[0])[:2] == (1, 12)


def test_tuple_key_bpftrace_is_the_multi_key():
    prog = analyze_src("BEGIN { @m[(1, 2)] = 1; @m[3, 4] = 2 }", "bpftrace")
    assert prog.map("@m").key == TupleType((INT64, INT64))


def test_btrace_locals_are_hidden_per_rule_maps():
    prog = analyze_src("BEGIN { $x = 1 } END { $x = 2; @y = $x }")
    hidden = [m for m in prog.maps if m.hidden]
    assert [(m.name, m.key, m.print_at_exit) for m in hidden] == [
        ("@__l0_x", None, False), ("@__l1_x", None, False)]
    read = prog.functions[1].body[1].value
    assert read == ir.MapGet(map="@__l1_x", key=None, insert_missing=False, type=INT64)


def test_btrace_unset_local_reads_zero():
    prog = analyze_src("BEGIN { @y = $never }")
    assert stmts_of(prog)[0].value == ir.Const(value=0, type=INT64)


def test_bpftrace_locals_are_per_event_and_must_be_set_first():
    prog = analyze_src("BEGIN { $x = 1; @y = $x }", "bpftrace")
    assert stmts_of(prog)[0] == ir.LocalSet(name="x", value=ir.Const(value=1, type=INT64))
    assert not any(m.hidden for m in prog.maps)
    errs = errors_of("BEGIN { @y = $x; $x = 1 }", "bpftrace")
    assert errs[0].message == "Undefined or undeclared variable: $x"
    assert where(errs[0]) == (1, 14, 1, 16)


def test_local_type_mismatch():
    assert messages('BEGIN { $y = 1; $y = "a" }', "bpftrace") == [
        "Type mismatch for $y: trying to assign value of type 'string[2]' when variable "
        "already contains a value of type 'int64'"]


def test_undefined_map_bpftrace_but_not_btrace():
    assert messages("BEGIN { @y = @nope }", "bpftrace") == ["Undefined map: @nope"]
    prog = analyze_src("BEGIN { @y = @nope[1] }")
    assert prog.map("@nope").value == INT64


def test_aggregation_value_signedness():
    prog = analyze_src("BEGIN { @s = sum(nsecs); @c = count(); @n = min(-1) }", "bpftrace")
    assert prog.map("@s").value == AggType("sum", UINT64)
    assert prog.map("@c").value == AggType("count", UINT64)
    assert prog.map("@n").value == AggType("min", IntType(64, True))
