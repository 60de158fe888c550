"""btc bench pieces that need no kernel: statistics, variant splicing, the native loop."""
import functools
import os

import pytest

from btc import driver
from btc.runtime.bench import native
from btc.probes.syscalls import syscall_number
from btc.runtime.bench.drivers import (builtin_driver, syscall_mode, syscall_name_for,
                                       untraced_syscall_for)
from btc.runtime.bench.stats import quantile, summarize
from btc.runtime.bench.variants import _filter_spans, _splice, build
from btc.runtime.meta_read import read_meta


def test_summary_median_quartiles_extremes():
    s = summarize([5, 1, 3, 2, 4])
    assert (s.median, s.q1, s.q3, s.lo, s.hi, s.n) == (3, 2, 4, 1, 5, 5)
    assert quantile([0.0, 10.0], 0.25) == 2.5


def test_splice_wraps_each_filter_and_keeps_the_rest():
    src = "BEGIN { }\nsyscall:getpid:entry\n/pid == 5 && comm == \"x\"/\n{ @c = count() }\n" \
          "syscall:getppid:entry / tid>1 /{}\n"
    spans = _filter_spans(src, driver.parse(src, "t", "btrace"))
    assert [t for _a, _b, t in spans.values()] == ['pid == 5 && comm == "x"', "tid>1"]
    out = _splice(src, spans, "&&", 3, "btrace")
    assert '/(pid == 5 && comm == "x") && $3/' in out
    assert "/ (tid>1) && $3 /{}" in out
    assert out.startswith("BEGIN { }\nsyscall:getpid:entry\n")


def test_build_makes_empty_filter_and_program_variants():
    src = 'syscall:getpid:entry /pid == 123/ { @c = count() } BEGIN { }'
    (pb,) = build(src, "btc", "btrace", ["7"], driver.parse, driver.compile_source)
    assert pb.filter_text == "pid == 123"
    assert set(pb.variants) == {"empty", "filter", "program"}
    assert pb.variants["filter"].params == ["7", "0"]
    assert pb.variants["program"].params == ["7", "1"]
    funcs = {p["func"] for p in read_meta(pb.variants["empty"].obj)["programs"]}
    assert pb.variants["empty"].func in funcs


def test_build_without_filter_has_no_filter_row():
    (pb,) = build("tracepoint:syscalls:sys_enter_getpid { @c = count() }", "stdin", "bpftrace",
                  [], driver.parse, driver.compile_source)
    assert set(pb.variants) == {"empty", "program"} and pb.filter_text is None


def test_driver_choice():
    assert syscall_name_for({"kind": "tracepoint", "category": "syscalls",
                             "name": "sys_exit_read"}) == "read"
    assert syscall_name_for({"kind": "raw_tracepoint", "name": "sys_enter"}) == "getpid"
    assert syscall_name_for({"kind": "perf_event"}) is None
    # no built-in driver for calls that could harm the process, whatever their arguments
    assert builtin_driver({"kind": "tracepoint", "category": "syscalls",
                           "name": "sys_enter_exit_group"}, lambda n: 231) is None


def _raw(nr):
    return {"kind": "raw_tracepoint", "name": "sys_enter", "syscall_nr": nr}


def test_raw_syscall_plans_pick_their_drivers():
    getpid, getppid = syscall_number("getpid"), syscall_number("getppid")
    assert syscall_name_for(_raw(getppid), syscall_number) == "getppid"
    assert syscall_name_for(_raw(syscall_number("exit_group")), syscall_number) is None
    assert untraced_syscall_for(_raw(getpid), syscall_number) == "getppid"
    assert untraced_syscall_for(_raw(getppid), syscall_number) == "getpid"
    tp = {"kind": "tracepoint", "category": "syscalls", "name": "sys_exit_getpid"}
    assert untraced_syscall_for(tp, syscall_number) == "getppid"
    assert syscall_mode(tp) == "tracepoint" and syscall_mode(_raw(getpid)) == "raw"
    # probes on every syscall have no untraced syscall
    for every in ({"kind": "tracepoint", "category": "raw_syscalls", "name": "sys_enter"},
                  {"kind": "raw_tracepoint", "name": "sys_exit"}):
        assert untraced_syscall_for(every, syscall_number) is None
    assert untraced_syscall_for({"kind": "perf_event"}, syscall_number) is None


def _kinds(pb):
    return {name: next(p["attach"]["kind"] for p in read_meta(v.obj)["programs"]
                       if p["func"] == v.func) for name, v in pb.variants.items()}


def test_empty_variant_attaches_as_the_probe_does():
    raw = functools.partial(driver.compile_source, syscall_attach="raw")
    (pb,) = build("tracepoint:syscalls:sys_enter_getpid /pid == 1/ { @c = count() }", "stdin",
                  "bpftrace", [], driver.parse, raw)
    assert pb.attach["kind"] == "raw_tracepoint"
    assert set(_kinds(pb).values()) == {"raw_tracepoint"}
    # a rule the raw variant cannot serve (a whole args.args) stays a tracepoint; so does its
    # empty program, though `PROBE { }` alone would be raw
    (pb,) = build("tracepoint:raw_syscalls:sys_enter { @[args.args] = count() }", "stdin",
                  "bpftrace", [], driver.parse, raw)
    assert pb.attach["kind"] == "tracepoint"
    assert set(_kinds(pb).values()) == {"tracepoint"}


@pytest.mark.skipif(os.uname().machine != "x86_64", reason="the native loop is x86-64 only")
def test_native_loop_runs_the_syscall():
    loop = native.build(39)  # getpid on x86-64
    assert loop is not None
    assert loop(1000) == 0  # the count register reached zero: every iteration ran
    loop.close()
