"""Probe resolution in both dialects: forms, aliases, units, displays, plans and errors."""
from __future__ import annotations

import os
import shutil

import pytest

from btc.diagnostics import BtcError, Span
from btc.probes import ProbeSpec, resolve, resolve_all
from btc.probes import _tracefs
from btc.probes.base import PROG_PERF_EVENT, PROG_RAW_TRACEPOINT, PROG_TRACEPOINT
from btc.probes.syscall_raw import raw_location, raw_variant

SPAN = Span("t.bt", 3, 5, 3, 25)


@pytest.fixture(scope="module", autouse=True)
def tracefs():
    try:
        return _tracefs.tracefs_root()
    except BtcError as e:
        pytest.skip(f"tracefs unavailable: {e.message}")


def one(text: str, dialect: str) -> ProbeSpec:
    spec = resolve(text, SPAN, dialect)
    assert isinstance(spec, ProbeSpec), spec
    return spec


def error(text: str, dialect: str) -> BtcError:
    with pytest.raises(BtcError) as info:
        resolve(text, SPAN, dialect)
    assert info.value.span == SPAN
    return info.value


# ---- BEGIN / END -------------------------------------------------------------------------

@pytest.mark.parametrize("dialect", ["btrace", "bpftrace"])
@pytest.mark.parametrize("word,kind", [("BEGIN", "begin"), ("END", "end")])
def test_begin_end(dialect, word, kind):
    s = one(word, dialect)
    assert (s.provider, s.display, s.section, s.prog_type) == (kind, word, "raw_tp", PROG_RAW_TRACEPOINT)
    assert s.attach_plan() == {"kind": kind}
    assert s.argn_kind == "none" and s.argn(0) is None and not s.is_return


def test_lowercase_begin_is_bpftrace_only():
    assert one("begin", "bpftrace").provider == "begin"
    assert error("begin", "btrace").message == "probe 'begin' not found"


# ---- profile / interval ------------------------------------------------------------------

@pytest.mark.parametrize("text,unit,value,freq,plan_value", [
    ("profile:hz:99", "hz", 99, True, 99),
    ("profile:s:2", "s", 2, False, 2_000_000_000),
    ("profile:ms:10", "ms", 10, False, 10_000_000),
    ("profile:us:500", "us", 500, False, 500_000),
])
def test_profile_units(text, unit, value, freq, plan_value):
    for dialect in ("btrace", "bpftrace"):
        s = one(text, dialect)
        assert (s.provider, s.unit, s.value) == ("profile", unit, value)
        assert s.prog_type == PROG_PERF_EVENT and s.section == "perf_event"
        assert s.attach_plan() == {"kind": "perf_event", "type": 1, "config": 0, "freq": freq,
                                   "value": plan_value, "cpus": "all"}


def test_timer_display_per_dialect():
    # btrace prints the kernel's fixed names; bpftrace the spec with aliases expanded
    assert one("profile:hz:99", "btrace").display == "profile:hz:97"
    assert one("interval:s:1", "btrace").display == "interval:hz:1"
    assert one("p:hz:99", "bpftrace").display == "profile:hz:99"
    assert one("i:s:1", "bpftrace").display == "interval:s:1"


def test_interval_fires_on_one_cpu():
    s = one("interval:ms:100", "btrace")
    assert s.attach_plan()["cpus"] == "one" and s.attach_plan()["value"] == 100_000_000


@pytest.mark.parametrize("text,message", [
    ("profile:xx:1", "Invalid unit: xx"),
    ("interval:m:1", "Invalid unit: m"),
    ("profile:hz:0", "Number is invalid: 0"),
    ("interval:s:0", "Number is invalid: 0"),
    ("profile:hz:1000001", "Number is too large: 1000001"),
])
def test_btrace_timer_errors(text, message):
    assert error(text, "btrace").message == message


def test_btrace_hz_limit_is_inclusive():
    assert one("profile:hz:1000000", "btrace").value == 1_000_000


@pytest.mark.parametrize("text,message", [
    ("profile:hz:0", "profile frequency should be a positive integer"),
    ("p:hz:-1", "profile frequency should be a positive integer"),
    ("interval:s:0", "interval frequency should be a positive integer"),
    ("profile:xx:1", "xx is not an accepted unit of time"),
    ("profile:hz", "profile probe type requires 2 arguments"),
    ("interval:ms:1:2", "interval probe type requires 2 arguments"),
    ("profile:hz:abc", "profile probe must have an integer frequency"),
])
def test_bpftrace_timer_errors(text, message):
    assert error(text, "bpftrace").message == message


# ---- syscall (btrace) ----------------------------------------------------------------------

def test_syscall_entry():
    s = one("syscall:read:entry", "btrace")
    assert (s.provider, s.display, s.category, s.name, s.syscall) == (
        "syscall", "syscall:read:entry", "syscalls", "sys_enter_read", "read")
    assert s.section == "tracepoint/syscalls/sys_enter_read" and s.prog_type == PROG_TRACEPOINT
    assert s.attach_plan() == {"kind": "tracepoint", "category": "syscalls", "name": "sys_enter_read"}
    assert s.argn_kind == "tp_slot" and not s.is_return and s.retval is None
    a0, a2 = s.argn(0), s.argn(2)
    assert (a0.name, a0.offset, a0.size) == ("fd", 16, 8)
    assert (a2.name, a2.offset) == ("count", 32)
    assert s.argn(3) is None
    if os.uname().machine == "x86_64":
        assert s.syscall_nr == 0


def test_syscall_return():
    s = one("syscall:read:return", "btrace")
    assert s.name == "sys_exit_read" and s.is_return
    assert (s.retval.offset, s.retval.size, s.retval.signed, s.retval.via) == (16, 8, True, "ctx")
    assert s.argn(0) is None


def test_syscall_keyword_named_probe():
    # `exit` is a keyword elsewhere but a plain word inside a probe spec
    assert one("syscall:exit:entry", "btrace").name == "sys_enter_exit"


def test_syscall_renamed_tracepoint():
    s = one("syscall:stat:entry", "btrace")
    assert s.name == "sys_enter_newstat" and s.display == "syscall:stat:entry"


def test_syscall_errors():
    e = error("syscall:reda:entry", "btrace")
    assert e.message == "probe 'syscall:reda:entry' not found"
    assert e.hint == "did you mean 'syscall:read:entry'?"
    assert error("syscall:read:exit", "btrace").message == "probe 'syscall:read:exit' not found"
    # a Linux syscall without tracepoints
    assert error("syscall:uselib:entry", "btrace").message == "probe 'syscall:uselib:entry' not found"
    assert error("syscall:read", "btrace").message == "probe 'syscall:read' not found"
    assert error("syscall:read:entry:x", "btrace").message == "probe 'syscall:read:entry:x' not found"


def test_syscall_wildcard_expands():
    specs = resolve("syscall:getp*:entry", SPAN, "btrace")
    names = {s.syscall for s in specs}
    assert {"getpid", "getppid", "getpgid"} <= names
    assert all(s.display == f"syscall:{s.syscall}:entry" for s in specs)


def test_syscall_is_not_a_bpftrace_provider():
    e = error("syscall:read:entry", "bpftrace")
    assert e.message == "Invalid probe type: syscall"
    assert e.hint == "use tracepoint:syscalls:sys_enter_read"


def test_raw_syscall_variant():
    s = one("syscall:write:entry", "btrace")
    r = raw_variant(s, "x86_64")
    assert r.section == "raw_tp/sys_enter" and r.prog_type == PROG_RAW_TRACEPOINT
    assert r.attach_plan() == {"kind": "raw_tracepoint", "name": "sys_enter",
                               "syscall_nr": s.syscall_nr, "tracepoint": "syscalls:sys_enter_write"}
    # record slot i (ctx+16+8*i) -> syscall argument register i: di si dx r10 r8 r9
    assert [raw_location(r, 16 + 8 * i, 8) for i in range(6)] == \
        [(0, 112), (0, 104), (0, 96), (0, 56), (0, 72), (0, 64)]
    assert raw_location(r, 8, 4) == (8, None)  # __syscall_nr = ctx[1]
    ret = raw_variant(one("syscall:write:return", "btrace"), "x86_64")
    assert ret.section == "raw_tp/sys_exit"
    assert raw_location(ret, 16, 8) == (8, None)  # ret = ctx[1]
    assert raw_location(ret, 8, 4) == (0, 120)  # __syscall_nr = regs->orig_ax


# ---- tracepoint ------------------------------------------------------------------------------

@pytest.mark.parametrize("dialect,text", [
    ("btrace", "tracepoint:sched:sched_switch"),
    ("bpftrace", "tracepoint:sched:sched_switch"),
    ("bpftrace", "t:sched:sched_switch"),
])
def test_tracepoint(dialect, text):
    s = one(text, dialect)
    assert s.display == "tracepoint:sched:sched_switch"
    assert s.section == "tracepoint/sched/sched_switch" and s.argn_kind == "tp_field"
    assert s.attach_plan() == {"kind": "tracepoint", "category": "sched", "name": "sched_switch"}
    names = [a.name for a in s.args]
    assert names[:2] == ["prev_comm", "prev_pid"] and "common_pid" not in names
    assert s.argn(1).name == "prev_pid" and s.argn(1).offset == 24 and s.argn(1).signed


def test_tracepoint_wildcards():
    specs = resolve("tracepoint:sched:sched_sw*", SPAN, "bpftrace")
    assert "tracepoint:sched:sched_switch" in [s.display for s in specs]
    assert all(s.category == "sched" for s in specs)
    every = resolve_all("tracepoint:*", SPAN, "bpftrace")
    assert len(every) == len(_tracefs.available_events())
    by_name = resolve("t:*:sched_switch", SPAN, "bpftrace")
    assert [s.display for s in by_name] == ["tracepoint:sched:sched_switch"]


def test_tracepoint_errors():
    assert error("tracepoint:nope:nope", "bpftrace").message == "tracepoint not found: nope:nope"
    assert error("tracepoint:sched:nope*", "bpftrace").message == "tracepoints not found: sched:nope*"
    assert error("tracepoint:sched", "bpftrace").message == \
        "tracepoint probe type requires 2 arguments, found 1"
    assert error("tracepoint:sched:nope", "btrace").message == "probe 'tracepoint:sched:nope' not found"
    e = error("tracepoint:sched:sched_swich", "btrace")
    assert e.hint == "did you mean 'sched:sched_switch'?"


# ---- rawtracepoint ---------------------------------------------------------------------------

@pytest.mark.parametrize("text", ["rawtracepoint:sched_switch", "rt:sched_switch"])
def test_rawtracepoint(text):
    s = one(text, "bpftrace")
    assert (s.display, s.section, s.argn_kind) == ("rawtracepoint:sched_switch", "raw_tp/sched_switch", "raw")
    assert s.attach_plan() == {"kind": "raw_tracepoint", "name": "sched_switch"}
    if os.path.exists("/sys/kernel/btf/vmlinux"):
        assert len(s.args) == 4  # preempt, prev, next, prev_state
    assert s.argn(1).offset == 8 and s.argn(1).size == 8


def test_rawtracepoint_errors():
    assert error("rawtracepoint:nope", "bpftrace").message == "rawtracepoint not found: nope"
    assert error("rawtracepoint:a:b", "btrace").message == "probe 'rawtracepoint:a:b' not found"


# ---- kprobe / kretprobe ------------------------------------------------------------------------

def test_btrace_kprobe():
    s = one("kprobe:vfs_read:entry", "btrace")
    assert (s.provider, s.display, s.section) == ("kprobe", "kprobe:vfs_read:entry", "kprobe/vfs_read")
    assert s.attach_plan() == {"kind": "kprobe", "function": "vfs_read", "offset": 0, "retprobe": False}
    r = one("kprobe:vfs_read:return", "btrace")
    assert (r.provider, r.display, r.section, r.is_return) == (
        "kretprobe", "kprobe:vfs_read:return", "kretprobe/vfs_read", True)
    assert error("kprobe:vfs_read:exit", "btrace").message == "probe 'kprobe:vfs_read:exit' not found"


@pytest.mark.parametrize("text,display,func,off", [
    ("kprobe:vfs_read", "kprobe:vfs_read", "vfs_read", 0),
    ("k:vfs_read", "kprobe:vfs_read", "vfs_read", 0),
    ("kprobe:vfs_read+0x10", "kprobe:vfs_read+16", "vfs_read", 16),
    ("kprobe:ext4:ext4_file_open", "kprobe:ext4_file_open", "ext4_file_open", 0),
])
def test_bpftrace_kprobe(text, display, func, off):
    s = one(text, "bpftrace")
    assert (s.display, s.name, s.offset, s.argn_kind) == (display, func, off, "regs")
    if os.uname().machine == "x86_64":
        assert [a.offset for a in s.args] == [112, 104, 96, 88, 72, 64]


def test_kretprobe():
    s = one("kr:vfs_read", "bpftrace")
    assert (s.provider, s.display, s.is_return) == ("kretprobe", "kretprobe:vfs_read", True)
    if os.uname().machine == "x86_64":
        assert s.retval.offset == 80
    assert error("kretprobe:vfs_read+4", "bpftrace").message == "Offset not allowed"


def test_kprobe_support_matches_kernel():
    s = one("kprobe:vfs_read", "bpftrace")
    have = os.path.exists("/sys/bus/event_source/devices/kprobe/type") or \
        os.path.exists(_tracefs.tracefs_root() / "kprobe_events")
    reason = s.kernel_support()
    assert (reason is None) == have
    if reason:
        assert "kprobe" in reason


# ---- uprobe / uretprobe --------------------------------------------------------------------------

def _bash() -> str:
    path = shutil.which("bash")
    if not path:
        pytest.skip("no bash binary to probe")
    return path


def test_uprobe_symbol_offset():
    from elftools.elf.elffile import ELFFile

    bash = os.path.realpath(_bash())
    s = one(f"uprobe:{bash}:main", "bpftrace")
    with open(bash, "rb") as f:
        elf = ELFFile(f)
        syms = [sec for sec in (elf.get_section_by_name(".dynsym"), elf.get_section_by_name(".symtab")) if sec]
        addrs = [sym["st_value"] for sec in syms for sym in sec.iter_symbols() if sym.name == "main"]
        if not addrs:
            pytest.skip("bash has no `main` symbol")
        seg = next(x for x in elf.iter_segments() if x["p_type"] == "PT_LOAD"
                   and x["p_vaddr"] <= addrs[0] < x["p_vaddr"] + x["p_memsz"])
    expected = addrs[0] - seg["p_vaddr"] + seg["p_offset"]
    assert s.attach_plan() == {"kind": "uprobe", "path": bash, "offset": expected,
                               "retprobe": False, "pid": None}
    assert (s.display, s.section, s.argn_kind) == (f"uprobe:{bash}:main", "uprobe", "regs")
    plus = one(f"u:{bash}:main+4", "bpftrace")
    assert plus.offset == expected + 4


def test_uprobe_path_lookup_and_uretprobe():
    _bash()
    s = one("ur:bash:main", "bpftrace")
    assert s.provider == "uretprobe" and s.is_return and s.section == "uretprobe"
    assert os.path.isabs(s.path) and s.attach_plan()["retprobe"] is True


def test_uprobe_errors():
    bash = _bash()
    assert error("uprobe:/nonexistent/x:f", "bpftrace").message == \
        "uprobe target file '/nonexistent/x' does not exist or is not executable"
    assert error(f"uprobe:{bash}:no_such_function_xyz", "bpftrace").message.startswith(
        "Could not resolve symbol: ")
    assert error("uprobe:/bin/sh", "bpftrace").message == "uprobe probe type requires 2 arguments"
    assert error(f"uretprobe:{bash}:main+4", "bpftrace").message == "Offset not allowed"


# ---- fentry, software, hardware, usdt, unknown providers ------------------------------------------

@pytest.mark.parametrize("text,kind", [("fentry:vfs_read", "fentry"), ("f:vfs_read", "fentry"),
                                       ("kfunc:vfs_read", "fentry"), ("fexit:vfs_read", "fexit"),
                                       ("fr:vfs_read", "fexit"), ("kretfunc:vfs_read", "fexit")])
def test_fentry(text, kind):
    if not os.path.exists("/sys/kernel/btf/vmlinux"):
        pytest.skip("no kernel BTF")
    s = one(text, "bpftrace")
    assert (s.provider, s.display, s.section) == (kind, f"{kind}:vfs_read", f"{kind}/vfs_read")
    plan = s.attach_plan()
    assert plan["kind"] == "fentry" and plan["retprobe"] == (kind == "fexit") and plan["btf_id"] > 0
    assert len(s.args) == 4 and s.is_return == (kind == "fexit")
    if kind == "fexit":
        assert s.retval.offset == 32 and s.retval.via == "btf"


@pytest.mark.parametrize("text,config,count,display", [
    ("software:cs:1000", 3, 1000, "software:cs:1000"),
    ("s:context-switches", 3, 1000, "software:context-switches"),
    ("software:faults", 2, 100, "software:faults"),
    ("s:cpu-clock:5", 0, 5, "software:cpu-clock:5"),
    ("software:bpf-output", 10, 1, "software:bpf-output"),
])
def test_software(text, config, count, display):
    s = one(text, "bpftrace")
    assert s.display == display
    plan = s.attach_plan()
    assert plan.pop("event").startswith("software:")
    assert plan == {"kind": "perf_event", "type": 1, "config": config, "freq": False,
                    "value": count, "cpus": "all"}


def test_hardware():
    s = one("h:cycles:100000", "bpftrace")
    assert s.attach_plan() == {"kind": "perf_event", "type": 0, "config": 0, "freq": False,
                               "value": 100000, "cpus": "all", "event": "hardware:cpu-cycles"}
    assert one("hardware:branches", "bpftrace").attach_plan()["config"] == 4
    has_pmu = any(os.path.exists(f"/sys/bus/event_source/devices/{n}") for n in ("cpu", "cpu_core"))
    assert (s.kernel_support() is None) == has_pmu or os.uname().machine != "x86_64"


def test_counter_errors():
    e = error("software:cs-switches", "bpftrace")
    assert e.message == "cs-switches is not a software probe"
    assert error("hardware:foo", "bpftrace").message == "foo is not a hardware probe"
    assert error("software:cs:x", "bpftrace").message == "software probe can only have an integer count"
    assert error("software", "bpftrace").message == "software probe type requires 1 or 2 arguments"
    assert error("software:cs:1:2", "btrace").message == "probe 'software:cs:1:2' not found"


def test_usdt_errors():
    assert error("usdt:/bin/sh:probe", "bpftrace").message.startswith("Could not find usdt probe *:probe in ")
    assert error("U:/bin/sh:prov:probe", "bpftrace").message.startswith("Could not find usdt probe prov:probe in ")
    assert "does not exist" in error("usdt:/no/such/file:probe", "bpftrace").message
    assert error("usdt:/bin/sh", "bpftrace").message == "usdt probe type requires 2 or 3 arguments"


def test_unknown_provider():
    e = error("tracepont:sched:sched_switch", "bpftrace")
    assert e.message == "Invalid probe type: tracepont" and e.hint == "did you mean 'tracepoint'?"
    e = error("tracepont:sched:sched_switch", "btrace")
    assert e.message == "probe 'tracepont:sched:sched_switch' not found"
    assert e.hint == "did you mean 'tracepoint'?"
    assert error("watchpoint:0x10:8:w", "bpftrace").message == "probe type not supported: watchpoint"


def test_bpftrace_only_providers_are_not_btrace():
    for text in ("uprobe:/bin/sh:main", "fentry:vfs_read:x", "software:cs:1"):
        assert error(text, "btrace").message == f"probe '{text}' not found"


def test_btrace_aliases_do_not_exist():
    assert error("t:sched:sched_switch", "btrace").message == "probe 't:sched:sched_switch' not found"


def test_spec_is_hashable_plain_data():
    a = one("tracepoint:sched:sched_switch", "bpftrace")
    b = one("t:sched:sched_switch", "bpftrace")
    assert a == b and hash(a) == hash(b)
    import json
    json.dumps(a.attach_plan())


def test_uprobe_address_form():
    from btc.probes.uprobe import elf_symbols

    bash = os.path.realpath(_bash())
    syms = elf_symbols(bash)[0]
    if "main" not in syms:
        pytest.skip("bash has no `main` symbol")
    by_name = one(f"uprobe:{bash}:main", "bpftrace")
    by_addr = one(f"uprobe:{bash}:{hex(syms['main'])}", "bpftrace")
    assert by_addr.offset == by_name.offset and by_addr.address == syms["main"]


def test_data_loc_field_reaches_spec_args():
    specs = resolve_all("tracepoint:block:block_rq_issue", SPAN, "bpftrace") \
        if ("block", "block_rq_issue") in _tracefs.event_set() else []
    if not specs:
        pytest.skip("no block:block_rq_issue tracepoint")
    cmd = [a for a in specs[0].args if a.name == "cmd"]
    assert cmd and cmd[0].is_data_loc and cmd[0].size == 4
