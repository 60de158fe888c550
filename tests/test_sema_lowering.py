"""Lowering to IR: one function per probe, explicit statements, dialect semantics, exit order."""
from btc.ir.types import INT64, AggType, StrType
from ir_util import analyze_src, errors_of, ir, messages, stmts_of, where


def test_each_probe_of_a_rule_is_a_function():
    prog = analyze_src("syscall:read:entry, syscall:write:entry /pid/ { @[probe] = count() }")
    assert [f.name for f in prog.functions] == ["p0_syscall_read_entry", "p0_syscall_write_entry"]
    assert all(f.filter is not None and f.rule_index == 0 for f in prog.functions)
    assert prog.functions[0].probe.section == "tracepoint/syscalls/sys_enter_read"


def test_duplicate_function_names_get_a_suffix():
    prog = analyze_src("syscall:read:entry, syscall:read:entry { @x = 1 }")
    assert [f.name for f in prog.functions] == ["p0_syscall_read_entry", "p0_syscall_read_entry_1"]


def test_begin_twice():
    errs = errors_of("BEGIN { @a = 1 } BEGIN { @b = 1 }")
    assert errs[0].message == "Cannot register multiple probes of the same type: 'BEGIN'"
    assert where(errs[0])[:2] == (1, 18)
    assert messages("END { @a = 1 } END { @b = 1 }", "bpftrace") == ["More than one END probe defined"]


def test_aggregations_become_mapagg():
    prog = analyze_src("BEGIN { @c[comm] = count(); @h = hist(5); @l = lhist(5, 0, 10, 1) }")
    c, h, l = stmts_of(prog)
    assert c == ir.MapAgg(map="@c", key=ir.BuiltinRead(name="comm", type=StrType(16)), value=None)
    assert h == ir.MapAgg(map="@h", key=None, value=ir.Const(value=5, type=INT64))
    assert prog.map("@l").value == AggType("lhist", INT64, lhist=(0, 10, 1))


def test_missing_key_read_inserts_in_btrace_only():
    b = stmts_of(analyze_src("BEGIN { @x[1] = 1; @y = @x[2] }"))[1].value
    bp = stmts_of(analyze_src("BEGIN { @x[1] = 1; @y = @x[2] }", "bpftrace"))[1].value
    assert b.insert_missing and not bp.insert_missing


def test_action_statements():
    prog = analyze_src('BEGIN { @m[1] = 1; print(@m); print(@m, 3); print(5); clear(@m); zero(@m); '
                       'time("%H\\n"); exit() }')
    # btrace BEGIN is cut after each print/clear/zero of a map (lower._split_special)
    body = sum((f.body for f in prog.functions), ())[1:]
    assert len(prog.functions) == 5
    assert body == (ir.PrintMap(map="@m"), ir.PrintMap(map="@m", top=3),
                    ir.PrintValue(print_id=0, value=ir.Const(value=5, type=INT64)),
                    ir.ClearMap(map="@m"), ir.ZeroMap(map="@m"), ir.Time(fmt_id=0), ir.Exit())
    assert prog.time_formats == ("%H\n",) and prog.prints == (INT64,)


def test_time_default_and_required_format():
    assert analyze_src("BEGIN { time() }", "bpftrace").time_formats == ("%H:%M:%S\n",)
    assert messages("BEGIN { time() }") == ["time() requires a format string"]


def test_print_with_div_and_exit_code_bpftrace():
    prog = analyze_src("BEGIN { @m[1] = count(); print(@m, 2, 10); exit(3) }", "bpftrace")
    assert stmts_of(prog)[1:] == (ir.PrintMap(map="@m", top=2, div=10),
                                 ir.Exit(code=ir.Const(value=3, type=INT64)))


def test_clear_zero_need_a_map():
    errs = errors_of("BEGIN { clear($x); zero(@y[1]) }")
    assert [e.message for e in errs] == ["invalid variable type for clear(@x)",
                                         "invalid variable type for zero(@y)"]
    assert messages("BEGIN { clear(1) }", "bpftrace") == ["clear() expects a map to be provided"]


def test_delete_forms():
    prog = analyze_src("BEGIN { @m[1, 2] = 1; delete(@m[1, 2]); delete(@m, (1, 2)) }", "bpftrace")
    d1, d2 = stmts_of(prog)[1:]
    assert d1 == d2 and isinstance(d1, ir.MapDelete) and isinstance(d1.key, ir.TupleNew)


def test_increments_and_compound_assignments():
    prog = analyze_src("BEGIN { @c++; @c -= 2; @d[1] *= 3; $x = 1; $x <<= 2; @e = $x }", "bpftrace")
    inc, dec, mul, _, shl, _ = stmts_of(prog)
    assert inc == ir.MapAdd(map="@c", key=None, delta=ir.Const(value=1, type=INT64))
    assert isinstance(dec, ir.MapAdd) and dec.delta.op == "-"
    assert isinstance(mul, ir.MapSet) and mul.value.op == "*"
    assert isinstance(mul.value.lhs, ir.MapGet)
    assert isinstance(shl, ir.LocalSet) and shl.value.op == "<<"


def test_printf_formats_are_shared():
    prog = analyze_src('BEGIN { printf("%d\\n", 1); printf("%d\\n", 2); printf("%s\\n", comm) }')
    assert [s.fmt_id for s in stmts_of(prog)] == [0, 0, 1]
    assert prog.printfs[1].arg_types == (StrType(16),)


def test_if_else_chain():
    prog = analyze_src("BEGIN { if (pid == 1) { @a = 1 } else if (pid == 2) { @a = 2 } else { @a = 3 } }",
                       "bpftrace")
    top = stmts_of(prog)[0]
    assert isinstance(top, ir.If) and isinstance(top.orelse[0], ir.If)
    assert top.orelse[0].orelse == (ir.MapSet(map="@a", key=None, value=ir.Const(value=3, type=INT64)),)


def test_loops_bpftrace():
    prog = analyze_src("BEGIN { $i = 0; while ($i < 3) { $i++; if ($i == 2) { break } } "
                       "unroll(2) { @x = 1 } }", "bpftrace")
    _, w, u = stmts_of(prog)
    assert isinstance(w, ir.While) and isinstance(w.body[1].then[0], ir.Break)
    assert u == ir.Unroll(count=2, body=(ir.MapSet(map="@x", key=None, value=ir.Const(value=1, type=INT64)),))
    assert messages("BEGIN { unroll(101) { @x = 1 } }", "bpftrace") == [
        "unroll maximum value is 100"]


def test_exit_order_btrace_top_level_rule():
    src = ("BEGIN { @a[1] = 1; @s = 5; @h = hist(1); if (1) { @inner[1] = 1 } print(@p) }\n"
           "syscall:read:entry /@f[tid]/ { printf(\"%d\", @q[1]); $x = @r[2]; delete(@d[1]) }\n"
           "END { @a[2] = 2; clear(@c) }")
    prog = analyze_src(src)
    assert prog.exit_order == ("@a", "@h", "@q", "@r", "@d")
    assert {m.name for m in prog.maps if m.print_at_exit} == set(prog.exit_order)
    assert not prog.map("@s").print_at_exit and not prog.map("@inner").print_at_exit


def test_exit_order_bpftrace_all_maps_by_name():
    prog = analyze_src("BEGIN { @b = 1; @a[1] = 2; @ = 3; @B = 4; @_x = 5 }", "bpftrace")
    assert prog.exit_order == ("@", "@B", "@_x", "@a", "@b")


def test_print_maps_on_exit_config():
    prog = analyze_src("config = { print_maps_on_exit = 0 } BEGIN { @b = 1 }", "bpftrace")
    assert prog.exit_order == () and not prog.map("@b").print_at_exit


def test_all_errors_are_reported_in_source_order():
    errs = errors_of('BEGIN { @x = piid; @y = cuont(); printf("%d\\n") }', "bpftrace")
    assert [where(e)[:2] for e in errs] == [(1, 14), (1, 25), (1, 34)]


def test_min_max_start_from_zero_in_btrace_only():
    b = analyze_src("BEGIN { @m[1] = min(5); @x[1] = max(-5) }")
    bp = analyze_src("BEGIN { @m[1] = min(5); @x[1] = max(-5) }", "bpftrace")
    assert b.map("@m").value.from_zero and b.map("@x").value.from_zero
    assert not bp.map("@m").value.from_zero and not bp.map("@x").value.from_zero


def test_wildcard_probe_expands_to_one_function_each():
    prog = analyze_src("tracepoint:syscalls:sys_enter_read* { @[probe] = count() }", "bpftrace")
    displays = [f.probe.display for f in prog.functions]
    assert len(displays) >= 2 and "tracepoint:syscalls:sys_enter_read" in displays
    assert [f.body[0].key.value.decode() for f in prog.functions] == displays


def test_positional_parameters_in_probe_specs_bpftrace():
    prog = analyze_src("interval:s:$1 { exit() }", "bpftrace", ["2"])
    assert prog.functions[0].probe.display == "interval:s:2"
