"""Builtin variables and functions: availability per probe and dialect, types, messages."""
from btc.ir.types import INT64, UINT32, UINT64, IntType, StrType
from ir_util import analyze_src, errors_of, ir, messages, stmts_of, where


def value_of(src, dialect="btrace", params=None):
    """The value stored by the first statement (`@x = EXPR`)."""
    return stmts_of(analyze_src(src, dialect, params))[0].value


def test_arg_in_begin_is_an_error_per_use_btrace():
    errs = errors_of('BEGIN { printf("%d\\n", arg0); @x = arg1 }')
    assert [e.message for e in errs] == [
        "the arg0 builtin cannot be used with BEGIN or END probes",
        "the arg1 builtin cannot be used with BEGIN or END probes",
    ]
    assert where(errs[0]) == (1, 24, 1, 28)
    assert where(errs[1]) == (1, 36, 1, 40)


def test_arg_in_end_btrace():
    assert messages("END { @x = arg3 }") == ["the arg3 builtin cannot be used with BEGIN or END probes"]


def test_syscall_args_are_context_slots():
    v = value_of("syscall:read:entry { @x = arg2 }")
    # arg2 of sys_enter_read is the 8-byte slot at ctx+16+8*2; btrace stores longs
    assert isinstance(v, ir.Cast) and v.expr == ir.CtxLoad(offset=32, type=UINT64)
    assert v.type == INT64


def test_arg_beyond_the_probe_reads_zero_btrace():
    assert value_of("syscall:read:entry { @x = arg9 }") == ir.Const(value=0, type=INT64)


def test_argn_on_tracepoint_bpftrace_suggests_args():
    errs = errors_of("tracepoint:sched:sched_switch { @x = arg0 }", "bpftrace")
    assert errs[0].message == ("The arg0 builtin can only be used with 'kprobe', 'uprobe' and "
                               "'rawtracepoint' probes")
    assert errs[0].hint == "use args.NAME for tracepoint fields"


def test_retval_only_on_return_probes():
    assert messages("syscall:read:entry { @x = retval }") == [
        "the retval builtin can only be used with return probes"]
    assert messages("BEGIN { @x = retval }", "bpftrace") == [
        "The retval builtin can only be used with 'kretprobe' and 'uretprobe' probes"]
    v = value_of("syscall:read:return { @x = retval }")
    assert v == ir.CtxLoad(offset=16, type=INT64)


def test_args_field_and_closest_hint():
    v = value_of("tracepoint:sched:sched_switch { @x = args.prev_pid }", "bpftrace")
    assert isinstance(v, ir.Cast) and isinstance(v.expr, ir.CtxLoad)
    assert v.expr.type == IntType(32, True)
    errs = errors_of("tracepoint:sched:sched_switch { @x = args.prev_pidd }", "bpftrace")
    assert errs[0].message.startswith("Can't find field 'prev_pidd'")
    assert errs[0].hint == "did you mean 'prev_pid'?"


def test_char_array_field_is_a_string():
    v = value_of("tracepoint:sched:sched_switch { @x = args.prev_comm }", "bpftrace")
    assert v == ir.CtxLoad(offset=v.offset, type=StrType(16))


def test_builtin_types():
    prog = analyze_src('BEGIN { printf("%d %d %d %s %d\\n", pid, tid, cpu, comm, nsecs) }', "bpftrace")
    assert prog.printfs[0].arg_types == (UINT32, UINT32, UINT32, StrType(16), UINT64)


def test_nsecs_clock_per_dialect():
    btrace = analyze_src('BEGIN { printf("%d", nsecs) }')
    bpf = analyze_src('BEGIN { printf("%d", nsecs) }', "bpftrace")
    assert stmts_of(btrace)[0].args[0].clock == "realtime"
    assert stmts_of(bpf)[0].args[0].clock == "boot"
    mono = analyze_src('BEGIN { printf("%d", nsecs(monotonic)) }', "bpftrace")
    assert stmts_of(mono)[0].args[0].clock == "monotonic"


def test_probe_is_a_string_constant_of_the_display_text():
    prog = analyze_src('syscall:read:entry, syscall:write:entry { printf("%s\\n", probe) }')
    shown = [f.body[0].args[0].value for f in prog.functions]
    assert shown == [b"syscall:read:entry", b"syscall:write:entry"]
    assert len(prog.printfs) == 2  # string[19] and string[20]


def test_unknown_identifier_gets_a_hint():
    errs = errors_of("BEGIN { @x = piid }", "bpftrace")
    assert errs[0].message == "Unknown identifier: 'piid'"
    assert errs[0].hint == "did you mean 'pid'?"
    assert where(errs[0]) == (1, 14, 1, 18)


def test_unknown_function_gets_a_hint():
    errs = errors_of("BEGIN { @x = cuont() }", "bpftrace")
    assert (errs[0].message, errs[0].hint) == ("Unknown function: cuont", "did you mean 'count'?")
    assert where(errs[0]) == (1, 14, 1, 21)


def test_unknown_probe_is_reported_with_the_other_errors():
    errs = errors_of("syscall:raed:entry { @x = 1 } BEGIN { @y = arg0 }")
    assert errs[0].message == "probe 'syscall:raed:entry' not found"
    assert errs[1].message == "the arg0 builtin cannot be used with BEGIN or END probes"


def test_username_and_ctx_compile():
    prog = analyze_src("kprobe:vfs_read { @[username] = count(); @c = ctx }", "bpftrace")
    assert [m.name for m in prog.maps] == ["@", "@c"]


def test_func_is_the_probed_function_or_an_error():
    assert messages("BEGIN { @[func] = count() }", "bpftrace") == [
        "func is only available in uprobe, uretprobe, kprobe, kretprobe, fentry and fexit "
        "probes, not in begin"]


def test_str_of_positional_btrace_caps_length():
    prog = analyze_src('BEGIN { printf("%s", str($1, 500)) }', params=["abc"])
    assert prog.params == ((1, StrType(128)),)
    assert messages("BEGIN { @x = str(pid) }") == [
        "str() only accepts a positional parameter ($1, $2, ...)"]


def test_str_of_pointer_bpftrace():
    prog = analyze_src('rawtracepoint:sched_switch { printf("%s", str(arg1, 20)) }', "bpftrace")
    arg = stmts_of(prog)[0].args[0]
    assert isinstance(arg, ir.StrRead) and not arg.user and arg.type == StrType(21)
    assert arg.ptr == ir.CtxLoad(offset=8, type=UINT64)


def test_aggregation_outside_map_assignment():
    assert messages("BEGIN { $x = count() }", "bpftrace") == [
        "count() should be directly assigned to a map"]


def test_data_loc_string_field():
    v = value_of("tracepoint:sched:sched_process_exec { @x = args.filename }", "bpftrace")
    assert isinstance(v, ir.CtxDataLoc) and v.type == StrType(64)


def test_has_key():
    prog = analyze_src("BEGIN { @m[1] = 1; @x = has_key(@m, 1) }", "bpftrace")
    v = stmts_of(prog)[1].value
    assert isinstance(v, ir.MapHasKey) and v.map == "@m" and v.key == ir.Const(value=1, type=INT64)
