"""Raw syscall programs grouped behind one dispatcher (btc/runtime/syscall_dispatch.py): the
grouping rules, and real runs on the kernel whose counts must equal the perf-tracepoint
mode's for a driver that makes known numbers of getpid/getppid calls (python -S makes no
other getpid/getppid call, so the counts are exact)."""
from __future__ import annotations

import io
import os
import re
import signal
import subprocess
import sys
import tempfile
import time

import pytest

from kernel import require_bpf
from run_util import Tracer, run_btc

from btc.runtime import syscall_dispatch
from btc.runtime.syscall_dispatch import Group

N_GETPID, N_GETPPID = 3000, 1700
DRIVER = (f'{sys.executable} -S -c "import os; [os.getpid() for _ in range({N_GETPID})]; '
          f'[os.getppid() for _ in range({N_GETPPID})]"')
TWO = ("tracepoint:syscalls:sys_enter_getpid, tracepoint:syscalls:sys_enter_getppid "
       "/pid == cpid/ { @[probe] = count(); }")
WILD = "tracepoint:syscalls:sys_enter_* /pid == cpid/ { @[probe] = count(); }"
EXITS = ("tracepoint:syscalls:sys_exit_getpid, tracepoint:syscalls:sys_exit_getppid "
         "/pid == cpid/ { @[probe] = count(); @r[probe] = sum(args.ret > 0); }")
SAME = ("tracepoint:syscalls:sys_enter_getpid /pid == cpid/ { @a = count(); } "
        "tracepoint:syscalls:sys_enter_getppid /pid == cpid/ { @c = count(); } "
        "tracepoint:syscalls:sys_enter_getpid /pid == cpid/ { @b = count(); }")


# --- grouping (no kernel) ------------------------------------------------------------------
def _raw(func: str, hook: str, nr: int | None = None) -> dict:
    plan = {"kind": "raw_tracepoint", "name": hook}
    if nr is not None:
        plan["syscall_nr"] = nr
    return {"func": func, "attach": plan}


def test_plan_groups_first_program_of_each_number_at_its_place():
    probes = [_raw("p0", "sys_enter"), _raw("p1", "sys_enter", 39), _raw("p2", "sys_exit", 39),
              _raw("p3", "sys_enter", 110), _raw("p4", "sys_enter", 39),
              _raw("p5", "sys_exit", 110), {"func": "p6", "attach": {"kind": "tracepoint"}}]
    steps = syscall_dispatch.plan(probes)
    names = [s.hook if isinstance(s, Group) else s["func"] for s in steps]
    assert names == ["p0", "sys_enter", "sys_exit", "p4", "p6"]
    enter, exit_ = steps[1], steps[2]
    assert [p["func"] for p in enter.members] == ["p1", "p3"] and enter.numbers() == [39, 110]
    assert [p["func"] for p in exit_.members] == ["p2", "p5"]


def test_plan_leaves_a_single_number_alone():
    x32_getpid = 0x40000000 | 39  # would need a 2**30-entry table
    probes = [_raw("p0", "sys_enter", 39), _raw("p1", "sys_enter", 39), _raw("p2", "sys_exit", 7),
              _raw("p3", "sys_enter", x32_getpid)]
    assert syscall_dispatch.plan(probes) == probes


def test_dispatcher_checks_the_number_bound_before_the_tail_call():
    code = syscall_dispatch.dispatcher_insns("sys_enter", 5, 111)
    insns = [code[i:i + 8] for i in range(0, len(code), 8)]
    assert insns[0][0] == 0x79 and insns[0][1] == 0x13  # r3 = *(u64 *)(r1 + 8)
    assert insns[1][0] == 0x25 and int.from_bytes(insns[1][4:], "little") == 110
    assert any(i[0] == 0x85 and i[4] == 12 for i in insns)  # call bpf_tail_call


# --- real runs -----------------------------------------------------------------------------
def _run(prog: str, mode: str) -> str:
    res = run_btc("run", "--dialect", "bpftrace", "--syscall-attach", mode, "-e", prog,
                  "-c", DRIVER, timeout=120)
    assert res.returncode == 0, res.stderr
    return res.stdout


def _counts(out: str) -> dict[str, int]:
    return {m.group(1): int(m.group(2)) for m in re.finditer(r"^(@.*): (\d+)$", out, re.M)}


def test_two_syscalls_count_as_in_tracepoint_mode():
    require_bpf()
    raw, tp = _run(TWO, "raw"), _run(TWO, "tracepoint")
    assert raw == tp
    counts = _counts(raw)
    assert counts["@[tracepoint:syscalls:sys_enter_getpid]"] == N_GETPID
    assert counts["@[tracepoint:syscalls:sys_enter_getppid]"] == N_GETPPID


def test_two_exits_count_as_in_tracepoint_mode():
    require_bpf()
    raw, tp = _run(EXITS, "raw"), _run(EXITS, "tracepoint")
    assert raw == tp
    counts = _counts(raw)
    assert counts["@[tracepoint:syscalls:sys_exit_getpid]"] == N_GETPID
    assert counts["@r[tracepoint:syscalls:sys_exit_getppid]"] == N_GETPPID  # ret > 0


def test_wildcard_counts_as_in_tracepoint_mode():
    require_bpf()
    raw, tp = _counts(_run(WILD, "raw")), _counts(_run(WILD, "tracepoint"))
    for name in ("getpid", "getppid"):
        key = f"@[tracepoint:syscalls:sys_enter_{name}]"
        assert raw[key] == tp[key], (raw, tp)
    assert raw["@[tracepoint:syscalls:sys_enter_getpid]"] == N_GETPID
    # the driver's start-up syscalls (execve, mmap, openat...) show in both modes
    assert len(raw) > 10 and len(set(raw) ^ set(tp)) <= 2, (sorted(raw), sorted(tp))


def _session(prog: str):
    """Compile with --syscall-attach raw and run in this process: the Session stays open for
    inspection (the caller closes it)."""
    from btc.runtime import meta_read
    from btc.runtime.session import RunOptions, Session

    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, "p.o")
        res = run_btc("compile", "--dialect", "bpftrace", "--syscall-attach", "raw", "-e", prog,
                      "-o", path)
        assert res.returncode == 0, res.stderr
        obj = open(path, "rb").read()
    out = io.StringIO()
    session = Session(obj, meta_read.read_meta(obj, whole=False), [],
                      RunOptions(cmd=DRIVER), out)
    return session, out


def _prog_gone(prog_id: int, timeout: float = 10.0) -> bool:
    from btc.runtime.kernel_objects import prog_ids

    deadline = time.monotonic() + timeout
    while prog_id in prog_ids():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.1)
    return True


def test_wildcard_is_one_attachment_and_releases_everything():
    require_bpf()
    from btc.runtime.kernel_objects import prog_info

    session, out = _session(WILD)
    try:
        assert session.run() == 0
        groups = [a for a in session.attachments if a.kind == syscall_dispatch.KIND]
        assert len(groups) == 1 and len(session.attachments) == 1, session.attachments
        assert len(groups[0].members) > 100  # every sys_enter_* with a syscall number
        assert groups[0].links == []  # stopped: the link is closed
        dispatcher = prog_info(groups[0].fds[1]).id
    finally:
        session.close()
    assert "@[tracepoint:syscalls:sys_enter_getpid]: " in out.getvalue()
    assert _prog_gone(dispatcher)


def test_two_rules_on_one_syscall_both_count():
    require_bpf()
    session, out = _session(SAME)
    try:
        assert session.run() == 0
        kinds = sorted(a.kind for a in session.attachments)
        assert kinds == ["raw_tracepoint", syscall_dispatch.KIND]  # @b's rule on its own
    finally:
        session.close()
    counts = _counts(out.getvalue())
    assert (counts["@a"], counts["@b"], counts["@c"]) == (N_GETPID, N_GETPID, N_GETPPID)


def _linked_prog_ids(pid: int) -> set[int]:
    """The programs the process's BPF links hold (fdinfo of each link fd)."""
    ids = set()
    for fd in os.listdir(f"/proc/{pid}/fd"):
        try:
            if "bpf_link" not in os.readlink(f"/proc/{pid}/fd/{fd}") and \
                    "bpf-link" not in os.readlink(f"/proc/{pid}/fd/{fd}"):
                continue
            with open(f"/proc/{pid}/fdinfo/{fd}") as f:
                ids |= {int(m) for m in re.findall(r"^prog_id:\s+(\d+)", f.read(), re.M)}
        except OSError:
            continue
    return ids


@pytest.mark.parametrize("how", ["ctrl-c", "exit"])
def test_detaches_cleanly(how):
    require_bpf()
    prog = "tracepoint:syscalls:sys_enter_* { @[probe] = count(); }"
    if how == "exit":
        prog += " interval:ms:1500 { exit(); }"
    t = Tracer("--dialect", "bpftrace", "--syscall-attach", "raw", "-e", prog)
    t.wait_attached()
    linked = _linked_prog_ids(t.proc.pid)
    assert len(linked) == (2 if how == "exit" else 1), linked  # the interval's own link
    os.getppid()
    res = t.stop(signal.SIGINT) if how == "ctrl-c" else _wait(t)
    assert res.returncode == 0, res.stderr
    assert "@[tracepoint:syscalls:sys_enter_getppid]: " in res.stdout
    assert all(_prog_gone(i) for i in linked)


def _wait(t: Tracer) -> subprocess.CompletedProcess:
    out, err = t.proc.communicate(timeout=60)
    return subprocess.CompletedProcess(t.proc.args, t.proc.returncode, out, err)


def test_refused_dispatcher_falls_back_to_one_attachment_each(monkeypatch):
    require_bpf()
    import errno

    from btc.runtime.syscalls import SyscallError

    def refuse(*args):
        raise SyscallError("loading the sys_enter syscall dispatcher", errno.EINVAL)

    monkeypatch.setattr(syscall_dispatch, "_load_dispatcher", refuse)
    session, out = _session(TWO)
    try:
        assert session.run() == 0
        assert [a.kind for a in session.attachments] == ["raw_tracepoint"] * 2
    finally:
        session.close()
    counts = _counts(out.getvalue())
    assert counts["@[tracepoint:syscalls:sys_enter_getpid]"] == N_GETPID
