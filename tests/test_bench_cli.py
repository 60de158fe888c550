"""`btc bench` end to end on the real kernel: every row printed, JSON parses, statistics off
afterwards. Structure only, no timing thresholds; few iterations keep it fast."""
import json
import os

import pytest

from btc.cli import main
from btc.runtime import kernel_objects, syscalls
from btc.runtime.attach import attach_tracepoint
from btc.runtime.bench.stats import stats_fds_open
from kernel import count_into_array, require_bpf, require_path

FAST = ["--rounds", "2", "--iterations", "2000"]
COUNT = "tracepoint:syscalls:sys_enter_getpid { @c = count() }"


@pytest.fixture(autouse=True)
def _kernel():
    require_bpf()
    require_path("/sys/kernel/tracing/events/syscalls/sys_enter_getpid",
                 "the syscalls:sys_enter_getpid tracepoint")


def _bench(capsys, *argv):
    rc = main(["bench", *argv])
    out, err = capsys.readouterr()
    assert rc == 0, err
    return out


def test_text_report_has_machine_attach_type_and_every_row(capsys):
    out = _bench(capsys, "--dialect", "bpftrace", "-e", COUNT, *FAST)
    assert "kernel " + os.uname().release in out
    assert "CPUs online" in out
    assert "attach type: tracepoint syscalls/sys_enter_getpid (BPF_PROG_TYPE_TRACEPOINT)" in out
    assert "driver: native loop of getpid()" in out or "ctypes loop of getpid()" in out
    assert "syscall attach: perf tracepoint of this syscall" in out
    assert "untraced call: native loop of getppid()" in out or "ctypes loop of getppid()" in out
    rows = [ln[2:16].strip() for ln in out.splitlines() if ln[2:16].strip() in
            ("empty program", "filter false", "program", "untraced call")]
    assert rows == ["empty program", "program", "untraced call"]
    header = next(ln for ln in out.splitlines() if ln.strip().startswith("row "))
    for column in ("end-to-end +ns", "in program (stats)", "minus empty", "jited B"):
        assert column in header
    assert "filter false" not in out  # no filter, no filter row


def test_filter_row_and_json(capsys):
    out = _bench(capsys, "-e", "syscall:getpid:entry /pid == 123/ { @c = count() }", "-f",
                 "json", *FAST)
    doc = json.loads(out)
    assert doc["machine"]["kernel"] == os.uname().release
    assert doc["machine"]["cpus_online"] >= 1
    (probe,) = doc["probes"]
    assert probe["filter"] == "pid == 123"
    assert probe["attach_type"].startswith("tracepoint syscalls/sys_enter_getpid")
    rows = {r["row"]: r for r in probe["rows"]}
    assert list(rows) == ["empty", "filter", "program", "untraced"]
    for r in (rows["empty"], rows["filter"], rows["program"]):
        assert r["e2e_delta_ns"]["n"] == 2
        assert r["stats_run_time_ns"]["median"] > 0
        assert r["events_per_run"] >= 2000  # the driver fired the probe on every iteration
        assert r["insns"]["xlated_insns"] > 0 and r["insns"]["jited_bytes"] > 0
        assert r["insns"]["verified_insns"] > 0
    assert rows["filter"]["e2e_vs_empty_ns"] is not None
    assert rows["filter"]["stats_minus_empty_ns"] is not None
    assert rows["program"]["insns"]["xlated_insns"] > rows["empty"]["insns"]["xlated_insns"]


def _untraced(doc: dict) -> dict:
    (probe,) = doc["probes"]
    return next(r for r in probe["rows"] if r["row"] == "untraced")


def test_untraced_row_tracepoint_mode(capsys):
    """On a perf tracepoint the program does not run for other syscalls: its price to them
    is the slow path alone."""
    doc = json.loads(_bench(capsys, "--dialect", "bpftrace", "--syscall-attach", "tracepoint",
                            "-e", COUNT, "-f", "json", *FAST))
    assert doc["settings"]["syscall_attach"] == "tracepoint"
    (probe,) = doc["probes"]
    assert probe["attach_mode"] == "tracepoint" and probe["attach"]["kind"] == "tracepoint"
    row = _untraced(doc)
    assert "getppid()" in row["driver"] and row["label"] == "untraced call"
    assert row["e2e_delta_ns"]["n"] == 2 and row["baseline_ns"]["median"] > 0
    # the program ran only for other processes' getpid() calls, never for the loop's getppid()
    assert row["events_per_run"] < 1000
    if row["events_per_run"] == 0:  # no in-program time from other processes' calls
        assert row["stats_run_time_ns"] is None
    assert row["insns"] == next(r for r in probe["rows"] if r["row"] == "program")["insns"]


def test_raw_mode_rows_and_untraced_row(capsys):
    """--syscall-attach raw: every row is a raw sys_enter program, the empty one included, and
    the untraced row's program runs (and rejects the number) on every call of the loop."""
    doc = json.loads(_bench(capsys, "--dialect", "bpftrace", "--syscall-attach", "raw", "-e",
                            "tracepoint:syscalls:sys_enter_getppid /pid == 1/ { @c = count() }",
                            "-f", "json", *FAST))
    (probe,) = doc["probes"]
    assert probe["attach_mode"] == "raw"
    assert probe["attach"]["kind"] == "raw_tracepoint" and probe["attach"]["name"] == "sys_enter"
    assert "BPF_PROG_TYPE_RAW_TRACEPOINT" in probe["attach_type"]
    assert "getppid()" in probe["driver"]  # the program's number picks its driver
    rows = {r["row"]: r for r in probe["rows"]}
    assert list(rows) == ["empty", "filter", "program", "untraced"]
    for r in (rows["empty"], rows["filter"], rows["program"]):
        assert r["events_per_run"] >= 2000
    # the filter variant has the number check and the filter; raw `{ }` needs no check
    assert rows["filter"]["insns"]["xlated_insns"] > rows["empty"]["insns"]["xlated_insns"]
    untraced = rows["untraced"]
    assert "getpid()" in untraced["driver"]
    assert untraced["events_per_run"] >= 2000 and untraced["stats_run_time_ns"]["median"] > 0


def test_raw_text_report_names_the_mode(capsys):
    out = _bench(capsys, "--dialect", "bpftrace", "--syscall-attach", "raw", "-e", COUNT, *FAST)
    assert "attach type: raw_tracepoint sys_enter (BPF_PROG_TYPE_RAW_TRACEPOINT); syscall " \
           "attach: raw tracepoint + syscall number check" in out
    assert "nr 39" in out and "--syscall-attach raw" in out
    assert "untraced call: native loop of getppid()" in out or "ctypes loop of getppid()" in out


def test_every_syscall_probe_has_no_untraced_row(capsys):
    doc = json.loads(_bench(capsys, "--dialect", "bpftrace", "-e",
                            "tracepoint:raw_syscalls:sys_enter { @c = count() }", "-f", "json",
                            *FAST))
    (probe,) = doc["probes"]
    assert probe["attach_mode"] in ("all-raw", "all-tracepoint")
    assert [r["row"] for r in probe["rows"]] == ["empty", "program"]


def test_statistics_are_off_afterwards(capsys):
    _bench(capsys, "--dialect", "bpftrace", "-e", COUNT, *FAST)
    assert stats_fds_open() == 0
    with open("/proc/sys/kernel/bpf_stats_enabled") as f:
        sysctl = f.read().strip()
    if sysctl != "0":
        pytest.skip("kernel.bpf_stats_enabled is on system-wide: run_cnt cannot tell")
    if _stats_holders():
        pytest.skip(f"processes {_stats_holders()} hold BPF statistics on: run_cnt cannot tell")
    # a program attached now must not be counted: nothing left the statistics on
    from btc.runtime.maps import MapHandle, MapSpec
    from btc.runtime.progs import ProgSpec, load_program

    m = MapHandle.create(MapSpec("bench_t", 2, 4, 8, 1, 0))
    fd = load_program(ProgSpec("bench_t", 5, count_into_array(m.fd)))
    try:
        with attach_tracepoint(fd, "syscalls", "sys_enter_getpid"):
            for _ in range(50):
                os.getpid()
        assert kernel_objects.prog_info(fd).run_cnt == 0
        assert int.from_bytes(m.lookup(b"\0\0\0\0"), "little") >= 50  # it did run
    finally:
        syscalls.close(fd)
        m.close()


def _stats_holders() -> list[int]:
    """Other processes with a BPF_ENABLE_STATS fd open (statistics are global while any is)."""
    pids = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            fds = os.listdir(f"/proc/{pid}/fd")
        except OSError:
            continue
        for fd in fds:
            try:
                if os.readlink(f"/proc/{pid}/fd/{fd}") == "anon_inode:bpf-stats":
                    pids.append(int(pid))
                    break
            except OSError:
                pass
    return pids


def test_command_driver(capsys):
    out = _bench(capsys, "--dialect", "bpftrace", "-e",
                 "tracepoint:syscalls:sys_enter_execve { @c = count() }", "--driver", "/bin/true",
                 "--rounds", "2", "-f", "json")
    (probe,) = json.loads(out)["probes"]
    assert probe["driver"] == "command: /bin/true"
    fired = [r for r in probe["rows"] if r["row"] != "untraced"]
    assert [r["row"] for r in fired] == ["empty", "program"]
    assert all(r["events_per_run"] >= 1 for r in fired)
    # the untraced row keeps its built-in loop of a syscall execve's program never sees
    assert "getpid()" in _untraced({"probes": [probe]})["driver"]


def test_no_driver_is_a_plain_error(capsys):
    rc = main(["bench", "--dialect", "bpftrace", "-e", "profile:hz:99 { @c = count() }", *FAST])
    err = capsys.readouterr().err
    assert rc == 1 and "no built-in driver fires profile:hz:99" in err and "--driver" in err


def test_begin_only_program_has_nothing_to_measure(capsys):
    rc = main(["bench", "-e", "BEGIN { @x = 1 }", *FAST])
    assert rc == 1 and "no per-event probe" in capsys.readouterr().err
