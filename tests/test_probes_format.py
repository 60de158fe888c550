"""tracefs format parsing: synthetic text (always runs) and the running kernel's files."""
from __future__ import annotations

import pytest

from btc.diagnostics import BtcError
from btc.probes import _tracefs, parse_format, tracepoint_format
from btc.probes.tracefs_format import c_decl, parse_field_line

SAMPLE = """name: block_rq_issue
ID: 2104
format:
\tfield:unsigned short common_type;\toffset:0;\tsize:2;\tsigned:0;
\tfield:unsigned char common_flags;\toffset:2;\tsize:1;\tsigned:0;
\tfield:unsigned char common_preempt_count;\toffset:3;\tsize:1;\tsigned:0;
\tfield:int common_pid;\toffset:4;\tsize:4;\tsigned:1;

\tfield:dev_t dev;\toffset:8;\tsize:4;\tsigned:0;
\tfield:char rwbs[10];\toffset:34;\tsize:10;\tsigned:0;
\tfield:const char * name;\toffset:48;\tsize:8;\tsigned:0;
\tfield:__data_loc char[] cmd;\toffset:60;\tsize:4;\tsigned:0;
\tfield:unsigned long args[];\toffset:64;\tsize:0;\tsigned:0;

print fmt: "%d", REC->dev
"""


def test_parse_sample():
    fmt = parse_format(SAMPLE, "block", "")
    assert (fmt.category, fmt.name, fmt.id) == ("block", "block_rq_issue", 2104)
    assert [f.name for f in fmt.common] == ["common_type", "common_flags", "common_preempt_count", "common_pid"]
    assert fmt.field("common_pid").signed and fmt.field("common_pid").size == 4
    dev, rwbs, name, cmd, args = fmt.args
    assert (dev.type_text, dev.offset, dev.size, dev.signed, dev.array_len) == ("dev_t", 8, 4, False, None)
    assert (rwbs.type_text, rwbs.array_len, rwbs.size) == ("char", 10, 10)
    assert (name.type_text, name.size) == ("const char *", 8)
    assert cmd.is_data_loc and cmd.type_text == "__data_loc char[]" and cmd.array_len is None
    assert args.array_len == 0 and args.size == 0
    assert fmt.print_fmt == '"%d", REC->dev'
    assert c_decl(rwbs) == "char rwbs[10]" and c_decl(args) == "unsigned long args[]"
    assert c_decl(cmd) == "__data_loc char[] cmd"


def test_parse_field_without_signed_and_macro_length():
    f = parse_field_line("field:char comm[TASK_COMM_LEN];\toffset:8;\tsize:16;")
    assert (f.name, f.array_len, f.signed) == ("comm", 16, False)


def test_rel_loc_counts_as_dynamic():
    f = parse_field_line("field:__rel_loc char[] msg;\toffset:8;\tsize:4;\tsigned:0;")
    assert f.is_data_loc and f.type_text.startswith("__rel_loc")


@pytest.fixture(scope="module")
def tracefs():
    try:
        return _tracefs.tracefs_root()
    except BtcError as e:
        pytest.skip(f"tracefs unavailable: {e.message}")


def test_sys_enter_read(tracefs):
    fmt = tracepoint_format("syscalls", "sys_enter_read")
    assert fmt.id == int((tracefs / "events/syscalls/sys_enter_read/id").read_text())
    nr, fd, buf, count = fmt.args
    assert (nr.name, nr.offset, nr.size, nr.signed) == ("__syscall_nr", 8, 4, True)
    assert [(a.name, a.offset, a.size) for a in (fd, buf, count)] == [
        ("fd", 16, 8), ("buf", 24, 8), ("count", 32, 8)]
    assert buf.type_text == "char *"
    assert [f.offset for f in fmt.common] == [0, 2, 3, 4]


def test_sys_exit_read(tracefs):
    ret = tracepoint_format("syscalls", "sys_exit_read").field("ret")
    assert (ret.offset, ret.size, ret.signed) == (16, 8, True)


def test_sched_switch(tracefs):
    fmt = tracepoint_format("sched", "sched_switch")
    prev_comm = fmt.field("prev_comm")
    assert (prev_comm.offset, prev_comm.size, prev_comm.array_len, prev_comm.type_text) == (8, 16, 16, "char")
    assert fmt.field("prev_pid").signed and fmt.field("next_pid").offset > prev_comm.offset


def test_raw_syscalls_sys_enter(tracefs):
    fmt = tracepoint_format("raw_syscalls", "sys_enter")
    ident, args = fmt.args
    assert (ident.name, ident.offset, ident.size, ident.signed) == ("id", 8, 8, True)
    assert (args.name, args.offset, args.size, args.array_len) == ("args", 16, 48, 6)


def test_a_data_loc_field(tracefs):
    found = None
    for cat, name in _tracefs.available_events():
        text = (tracefs / "events" / cat / name / "format").read_text() if cat in ("block", "irq") else ""
        if "__data_loc" in text:
            found = (cat, name)
            break
    if found is None:
        pytest.skip("no block/irq tracepoint with a __data_loc field on this kernel")
    fmt = tracepoint_format(*found)
    locs = [f for f in fmt.args if f.is_data_loc]
    assert locs and all(f.size == 4 for f in locs)


def test_every_format_parses(tracefs):
    fields = 0
    for cat, name in _tracefs.available_events()[::7]:
        fmt = tracepoint_format(cat, name)
        assert fmt.common and all(f.size >= 0 for f in fmt.fields)
        fields += len(fmt.fields)
    assert fields > 0


def test_format_is_cached(tracefs):
    assert tracepoint_format("sched", "sched_switch") is tracepoint_format("sched", "sched_switch")


def test_missing_tracepoint(tracefs):
    with pytest.raises(BtcError, match="tracepoint not found: nope:nope"):
        tracepoint_format("nope", "nope")
    with pytest.raises(BtcError):
        tracepoint_format("..", "x")


def test_mounts_tracefs_when_missing(tracefs):
    """In a private mount namespace without tracefs, resolving a tracepoint mounts it."""
    import os
    import shutil
    import subprocess
    import sys

    if os.geteuid() != 0 or not shutil.which("unshare"):
        pytest.skip("needs root and unshare(1)")
    if str(tracefs) != "/sys/kernel/tracing":
        pytest.skip(f"tracefs lives at {tracefs}; this test remounts /sys/kernel/tracing")
    code = ("from btc.probes import resolve; "
            "print(resolve('tracepoint:sched:sched_switch', None, 'btrace').display)")
    script = f"umount {tracefs} 2>/dev/null; test ! -d {tracefs}/events && {sys.executable} -c \"{code}\""
    done = subprocess.run(["unshare", "-m", "sh", "-c", script], capture_output=True, text=True,
                          cwd=os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    if done.returncode != 0 and "unshare" in done.stderr:
        pytest.skip(f"unshare refused: {done.stderr.strip()}")
    assert done.stdout.strip() == "tracepoint:sched:sched_switch", done.stderr
