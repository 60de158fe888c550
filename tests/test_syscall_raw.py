"""`--syscall-attach`: syscall probes as raw sys_enter/sys_exit programs that check the
syscall number (issue #6). The same programs run with `tracepoint` and `raw` must print the
same thing on the real kernel; `--emit ir` and the object's plans show which was chosen."""
from __future__ import annotations

import json
import os
import platform
import shlex
import signal
import sys

import pytest

from btc import cli, cli_parser, driver
from btc.probes import syscall_raw
from btc.probes.syscalls import syscall_number
from btc.runtime.meta_read import read_meta
from kernel import require_bpf
from run_util import Tracer, run_btc

pytestmark = pytest.mark.skipif(platform.machine() != "x86_64",
                                reason="raw syscall variants are x86-64 only")

# Known syscalls with distinctive arguments, so that filters pick them out of the noise of
# Python's start-up: a failing openat (O_CREAT in a missing directory, mode 0o1234: -ENOENT), two reads of 7777 and 5 bytes
# from /dev/zero, three getppid calls.
DRIVER = (
    "import os\n"
    "for _ in range(3): os.getppid()\n"
    "try: os.open('/nonexistent/btc-raw', os.O_RDONLY | os.O_CLOEXEC | os.O_CREAT, 0o1234)\n"
    "except OSError: pass\n"
    "fd = os.open('/dev/zero', os.O_RDONLY)\n"
    "os.read(fd, 7777); os.read(fd, 5); os.close(fd)\n"
)
DRIVER_CMD = shlex.join([sys.executable, "-S", "-c", DRIVER])

BPFTRACE = r"""
tracepoint:syscalls:sys_enter_getppid /pid == cpid/ { @ppid[probe, args.__syscall_nr] = count(); }
tracepoint:syscalls:sys_enter_openat /pid == cpid && args.mode == 668/ {
  @want[tid] = 1;
  printf("open %s flags=%d mode=%d nr=%d\n", str(args.filename), args.flags, args.mode,
         args.__syscall_nr);
}
tracepoint:syscalls:sys_exit_openat /@want[tid]/ {
  printf("open ret=%d nr=%d %s\n", args.ret, args.__syscall_nr, probe);
  delete(@want[tid]);
}
tracepoint:syscalls:sys_enter_read /pid == cpid && (args.count == 7777 || args.count == 5)/ {
  printf("read count=%d\n", args.count);
}
tracepoint:syscalls:sys_exit_read /pid == cpid && (args.ret == 7777 || args.ret == 5)/ {
  printf("read ret=%d\n", args.ret);
}
tracepoint:raw_syscalls:sys_enter /pid == cpid && args.id == 0 && args.args[2] == 7777/ {
  printf("raw enter id=%d count=%d %s\n", args.id, args.args[2], probe);
}
tracepoint:raw_syscalls:sys_exit /pid == cpid && args.id == 0 && args.ret == 5/ {
  printf("raw exit id=%d ret=%d\n", args.id, args.ret);
}
"""

BTRACE = r"""
syscall:openat:entry /arg3 == 668/ { @want[tid] = 1; printf("open flags=%d mode=%d\n", arg2, arg3); }
syscall:openat:return /@want[tid]/ { printf("open ret=%d\n", retval); delete(@want[tid]); }
syscall:read:entry /arg2 == 7777/ { printf("read count=%d %s\n", arg2, probe); }
syscall:read:return /retval == 7777/ { printf("read ret=%d %s\n", retval, probe); }
"""


def _run(dialect: str, mode: str, program: str) -> str:
    out = run_btc("run", "--dialect", dialect, "--syscall-attach", mode, "-c", DRIVER_CMD,
                  "-e", program, timeout=120)
    assert out.returncode == 0, out.stderr
    return out.stdout


def _printed(out: str) -> str:
    return "\n".join(line for line in out.splitlines() if line and not line.startswith("@"))


def _ir(source: str, mode: str, dialect: str = "bpftrace") -> str:
    return driver.emit(source, "t.bt", dialect, [], "ir", syscall_attach=mode)


def _sections(source: str, mode: str, dialect: str = "bpftrace") -> list[str]:
    lines = _ir(source, mode, dialect).splitlines()
    return [line.split(" section=")[1].split()[0] for line in lines if line.startswith("fn ")]


def _plans(source: str, mode: str, dialect: str = "bpftrace") -> list[dict]:
    obj = driver.compile_source(source, "t.bt", dialect, [], syscall_attach=mode)
    return [p["attach"] for p in read_meta(obj)["programs"]]


# ------------------------------------------------------------------ on the kernel


def test_bpftrace_fields_are_the_same_raw_and_as_tracepoints():
    require_bpf()
    tp, raw = _run("bpftrace", "tracepoint", BPFTRACE), _run("bpftrace", "raw", BPFTRACE)
    assert raw == tp
    assert "open /nonexistent/btc-raw flags=524352 mode=668 nr=257\n" in raw
    assert "open ret=-2 nr=257 tracepoint:syscalls:sys_exit_openat\n" in raw
    for line in ("read count=7777", "read ret=7777", "read count=5", "read ret=5"):
        assert line + "\n" in raw
    assert "raw enter id=0 count=7777 tracepoint:raw_syscalls:sys_enter\n" in raw
    assert "raw exit id=0 ret=5\n" in raw
    assert "@ppid[tracepoint:syscalls:sys_enter_getppid, 110]: 3\n" in raw


def test_btrace_argn_and_retval_are_the_same_raw_and_as_tracepoints():
    require_bpf()
    # @want (printed at exit) holds the tids of every process that returned from openat
    # (btrace inserts a missing key when it reads it): not this test's business
    tp, raw = (_printed(_run("btrace", mode, BTRACE)) for mode in ("tracepoint", "raw"))
    assert raw == tp
    lines = raw.splitlines()
    assert "open flags=524352 mode=668" in lines and "open ret=-2" in lines
    assert "read count=7777 syscall:read:entry" in lines
    assert "read ret=7777 syscall:read:return" in lines


def test_a_lone_raw_program_checks_the_number_itself():
    # one program per hook: attached on its own, not behind the runtime's dispatcher
    require_bpf()
    prog = ("tracepoint:syscalls:sys_exit_getppid /pid == cpid/ "
            "{ @[args.ret > 0, args.__syscall_nr] = count(); }")
    assert _sections(prog, "raw") == ["raw_tp/sys_exit"]
    tp, raw = _run("bpftrace", "tracepoint", prog), _run("bpftrace", "raw", prog)
    assert raw == tp and "@[1, 110]: 3\n" in raw


def test_a_compiled_object_keeps_its_raw_plan(tmp_path):
    require_bpf()
    obj = str(tmp_path / "raw.o")
    prog = "tracepoint:syscalls:sys_enter_getppid /pid == cpid/ { @ = count(); }"
    res = run_btc("compile", "--dialect", "bpftrace", "--syscall-attach", "raw", "-e", prog,
                  "-o", obj)
    assert res.returncode == 0, res.stderr
    with open(obj, "rb") as f:
        assert read_meta(f.read())["programs"][0]["attach"]["name"] == "sys_enter"
    res = run_btc("run", obj, "-c", DRIVER_CMD)
    assert res.returncode == 0, res.stderr
    assert res.stdout.endswith("@: 3\n")


def test_dash_p_filters_a_raw_program():
    require_bpf()
    me = str(os.getpid())
    tracer = Tracer("run", "--syscall-attach", "raw", "-p", me, "-e",
                    "syscall:getppid:entry { @[pid] = count() }")
    tracer.wait_attached()
    child = os.fork()
    if child == 0:  # another process calling getppid: -p must ignore it
        os.getppid()
        os._exit(0)
    os.waitpid(child, 0)
    os.getppid()
    os.getppid()
    res = tracer.stop(signal.SIGINT)
    assert res.returncode == 0, res.stderr
    assert res.stdout == f"\n@[{me}]: 2\n"


def test_every_syscall_entry_in_auto_is_raw_and_counts_right():
    require_bpf()
    prog = "tracepoint:syscalls:sys_enter_* /pid == cpid/ { @[probe] = count(); }"
    assert set(_sections(prog, "auto")) == {"raw_tp/sys_enter"}
    out = _run("bpftrace", "auto", prog)
    assert "@[tracepoint:syscalls:sys_enter_getppid]: 3\n" in out
    assert "@[tracepoint:syscalls:sys_enter_read]:" in out


def test_a_whole_args_array_keeps_the_tracepoint_and_runs():
    require_bpf()
    prog = ("tracepoint:raw_syscalls:sys_enter /pid == cpid && args.id == 0 && "
            "args.args[2] == 7777/ { @[args.args] = count(); }")
    assert _sections(prog, "raw") == ["tracepoint/raw_syscalls/sys_enter"]
    out = _run("bpftrace", "raw", prog)
    assert ",7777,0,0,0]]: 1\n" in out


# ------------------------------------------------------------------ the choice


def test_kstack_keeps_the_tracepoint_ustack_does_not():
    # a raw program's kernel stack would start in the BPF program and bpf_trace_run2
    prog = "tracepoint:syscalls:sys_enter_getppid { @[kstack(3)] = count(); } " \
           "tracepoint:syscalls:sys_enter_getpid { @u[ustack] = count(); }"
    assert _sections(prog, "raw") == ["tracepoint/syscalls/sys_enter_getppid",
                                      "raw_tp/sys_enter"]


def test_auto_keeps_a_single_syscall_on_its_tracepoint():
    prog = "tracepoint:syscalls:sys_enter_getpid { @ = count(); }"
    assert _sections(prog, "auto") == ["tracepoint/syscalls/sys_enter_getpid"]
    assert _sections(prog, "tracepoint") == ["tracepoint/syscalls/sys_enter_getpid"]
    assert _sections(prog, "raw") == ["raw_tp/sys_enter"]


def test_raw_syscalls_are_raw_in_auto_only_tracepoint_keeps_them():
    prog = "tracepoint:raw_syscalls:sys_enter { @ = count(); } " \
           "tracepoint:raw_syscalls:sys_exit { @x = count(); }"
    assert _sections(prog, "auto") == ["raw_tp/sys_enter", "raw_tp/sys_exit"]
    assert _sections(prog, "tracepoint") == ["tracepoint/raw_syscalls/sys_enter",
                                             "tracepoint/raw_syscalls/sys_exit"]
    assert [p.get("syscall_nr") for p in _plans(prog, "auto")] == [None, None]


def test_coverage_counts_per_direction_over_all_rules():
    # all exits (one rule) + one entry: exits are raw, the lone entry stays a tracepoint
    prog = "tracepoint:syscalls:sys_exit_* { @ = count(); } " \
           "tracepoint:syscalls:sys_enter_getpid { @e = count(); }"
    got = _sections(prog, "auto")
    assert set(got[:-1]) == {"raw_tp/sys_exit"}
    assert got[-1] == "tracepoint/syscalls/sys_enter_getpid"


def test_btrace_syscall_provider_follows_the_same_policy():
    prog = "syscall:read:return { @ = count() }"
    assert _sections(prog, "auto", "btrace") == ["tracepoint/syscalls/sys_exit_read"]
    assert _sections(prog, "raw", "btrace") == ["raw_tp/sys_exit"]
    assert set(_sections("syscall:*:entry { @ = count() }", "auto", "btrace")) == \
        {"raw_tp/sys_enter"}


def test_the_plan_carries_the_number_and_the_tracepoint():
    plans = _plans("tracepoint:syscalls:sys_enter_getpid { @ = count(); } "
                   "tracepoint:syscalls:sys_exit_newstat { @x = count(); }", "raw")
    assert plans == [
        {"kind": "raw_tracepoint", "name": "sys_enter", "syscall_nr": 39,
         "tracepoint": "syscalls:sys_enter_getpid"},
        {"kind": "raw_tracepoint", "name": "sys_exit", "syscall_nr": syscall_number("stat"),
         "tracepoint": "syscalls:sys_exit_newstat"},
    ]
    json.dumps(plans)  # plain data for .btc.meta


def test_the_number_check_comes_first_in_the_filter():
    ir = _ir("tracepoint:syscalls:sys_exit_read /args.ret > 0/ { @ = count(); }", "raw")
    filt = next(line for line in ir.splitlines() if line.strip().startswith("filter"))
    # sys_exit: the number is regs->orig_ax (pt_regs + 120), the return value ctx[1]
    assert filt.strip().startswith("filter (&& (== load(ctx+0->+120):int64 0:int64)")
    assert "load(ctx+8):int64 0:int64" in filt


def test_raw_programs_grow_only_by_the_check_and_the_register_reads():
    from btc.runtime.objfile import parse_object

    def sizes(mode: str) -> list[int]:
        obj = driver.compile_source(BPFTRACE, "t.bt", "bpftrace", [], syscall_attach=mode)
        return [len(f.code) // 8 for f in parse_object(obj).functions.values()]

    # registers are read through ctx[0] with bpf_probe_read_kernel: `load(ctx+0->+OFF)`
    reads = [text.count("->+") for text in _ir(BPFTRACE, "raw").split("\nfn ")[1:]]
    for tp, raw, n in zip(sizes("tracepoint"), sizes("raw"), reads):
        assert raw <= tp + 4 + 8 * n, (tp, raw, n)


def test_probe_builtin_and_function_names_do_not_change():
    prog = "tracepoint:syscalls:sys_enter_getpid { print(probe); }"
    tp, raw = _ir(prog, "tracepoint"), _ir(prog, "raw")
    def name(text: str) -> str:
        return next(line.split()[1] for line in text.splitlines() if line.startswith("fn "))

    assert name(tp) == name(raw) == "p0_tracepoint_syscalls_sys_enter_getpid"
    assert "display='tracepoint:syscalls:sys_enter_getpid'" in raw


def test_no_raw_variant_on_other_machines():
    from btc.probes import resolve_all

    spec = resolve_all("tracepoint:syscalls:sys_enter_getpid", None, "bpftrace")[0]
    assert syscall_raw.raw_variant(spec, "aarch64") is None
    assert syscall_raw.raw_variant(spec, "x86_64").section == "raw_tp/sys_enter"


def test_the_cache_keeps_the_modes_apart(tmp_path, monkeypatch):
    monkeypatch.setenv("BTC_CACHE_DIR", str(tmp_path))
    monkeypatch.delenv("BTC_NO_CACHE", raising=False)
    prog = "tracepoint:syscalls:sys_enter_getpid { @ = count(); }"
    tp = driver.compile_cached(prog, "t.bt", "bpftrace", [], syscall_attach="tracepoint")
    raw = driver.compile_cached(prog, "t.bt", "bpftrace", [], syscall_attach="raw")
    assert read_meta(tp)["programs"][0]["attach"]["kind"] == "tracepoint"
    assert read_meta(raw)["programs"][0]["attach"]["kind"] == "raw_tracepoint"
    assert len(list(tmp_path.glob("*.o"))) == 2


# ------------------------------------------------------------------ the option


@pytest.mark.parametrize("argv", [
    ["run", "--syscall-attach", "raw", "-e", "P"],
    ["run", "f.bt", "--syscall-attach", "tracepoint", "1"],
])
def test_fast_path_takes_the_option_as_argparse(argv):
    fast = cli._fast_run_args(list(argv))
    assert fast is not None
    assert vars(fast) == vars(cli_parser.parse_args(list(argv)))


def test_a_bad_mode_is_argparse_s_error():
    assert cli._fast_run_args(["run", "--syscall-attach", "perf", "f"]) is None
    out = run_btc("compile", "--syscall-attach", "perf", "-e", "BEGIN {}")
    assert out.returncode == 2 and "invalid choice: 'perf'" in out.stderr
    assert "Traceback" not in out.stderr


def test_compile_and_bench_take_the_option():
    for command in ("compile", "bench"):
        ns = cli_parser.parse_args([command, "--syscall-attach", "raw", "-e", "P"])
        assert ns.syscall_attach == "raw"


# ------------------------------------------------------------------ one pt_regs read

# Three or more registers read in filters, bodies, branches and a loop, next to a `for` (a
# callback of its own: bpftrace allows no `args` in it), on sys_enter and sys_exit, for
# syscalls: and raw_syscalls.
MANY_ARGS = r"""
tracepoint:syscalls:sys_enter_openat /pid == cpid && args.mode == 668 && args.flags > 0 &&
                                      args.dfd != 0/ {
  if (args.mode > 600) { printf("open %d %d %d\n", args.dfd, args.flags, args.mode); }
  else { printf("open? %d\n", args.flags); }
  @open[args.flags, args.mode, args.__syscall_nr] = count();
}
tracepoint:syscalls:sys_enter_read /pid == cpid && (args.count == 7777 || args.count == 5)/ {
  $i = 0;
  while ($i < 2) { printf("read %d %d %d %d\n", $i, args.fd, args.count, args.buf != 0); $i++; }
  for ($kv : @open) { printf("for %d\n", $kv.0.2); }
  printf("after for %d\n", args.fd);
}
tracepoint:syscalls:sys_exit_read /pid == cpid && args.ret == 5/ {
  if (args.__syscall_nr == 0) { printf("read ret=%d nr=%d\n", args.ret, args.__syscall_nr); }
}
tracepoint:raw_syscalls:sys_enter /pid == cpid && args.id == 0 && args.args[2] == 7777/ {
  printf("raw %d %d %d %d\n", args.args[0], args.args[1] != 0, args.args[2], args.id);
  if (args.args[2] > 7000) { printf("raw big %d\n", args.args[0] + args.args[2]); }
}
tracepoint:raw_syscalls:sys_exit /pid == cpid && args.id == 0 && args.ret == 5/ {
  printf("raw exit id=%d ret=%d\n", args.id, args.ret);
}
"""

BTRACE_MANY = r"""
syscall:openat:entry /arg3 == 668 && arg2 > 0/ {
  if (arg0 != 0) { printf("open %d %d %d\n", arg0, arg2, arg3); }
}
syscall:read:entry /arg2 == 7777/ { printf("read %d %d %d\n", arg0, arg1 != 0, arg2); }
syscall:read:return /retval == 7777/ { printf("read ret=%d\n", retval); }
"""

PROBE_READ_KERNEL = 113  # include/uapi/linux/bpf.h: BPF_FUNC_probe_read_kernel
GET_CURRENT_PID_TGID = 14


def _insns(code: bytes) -> list[tuple[int, int, int]]:
    """(opcode, src_reg, imm) of every instruction (the second half of ld_imm64 too)."""
    return [(code[i], code[i + 1] >> 4, int.from_bytes(code[i + 4:i + 8], "little", signed=True))
            for i in range(0, len(code), 8)]


def _helper_calls(code: bytes) -> list[tuple[int, int]]:
    """(instruction index, helper id) of each helper call (BPF_JMP|BPF_CALL, src_reg 0)."""
    return [(i, imm) for i, (op, src, imm) in enumerate(_insns(code)) if op == 0x85 and src == 0]


def _functions(source: str, dialect: str = "bpftrace") -> dict[str, bytes]:
    from btc.runtime.objfile import parse_object

    obj = driver.compile_source(source, "t.bt", dialect, [], syscall_attach="raw")
    return {name: f.code for name, f in parse_object(obj).functions.items()}


def _reads(code: bytes) -> int:
    return sum(1 for _, h in _helper_calls(code) if h == PROBE_READ_KERNEL)


def test_many_registers_print_the_same_raw_and_as_tracepoints():
    require_bpf()
    tp, raw = _run("bpftrace", "tracepoint", MANY_ARGS), _run("bpftrace", "raw", MANY_ARGS)
    assert raw == tp
    assert "open -100 524352 668\n" in raw and "@open[524352, 668, 257]: 1\n" in raw
    assert "read 1 3 7777 1\n" in raw and "read 0 3 5 1\n" in raw
    assert "for 257\nafter for 3\n" in raw
    assert "read ret=5 nr=0\n" in raw
    assert "raw 3 1 7777 0\n" in raw and "raw big 7780\n" in raw
    assert "raw exit id=0 ret=5\n" in raw


def test_btrace_many_argn_print_the_same_raw_and_as_tracepoints():
    require_bpf()
    tp, raw = (_printed(_run("btrace", mode, BTRACE_MANY)) for mode in ("tracepoint", "raw"))
    assert raw == tp
    lines = raw.splitlines()
    # AT_FDCWD's register: -100 in its low 32 bits, the upper half is up to the caller
    assert any(line.startswith("open ") and line.endswith(" 524352 668") for line in lines)
    assert "read 3 1 7777" in lines and "read ret=7777" in lines


def test_registers_are_read_once_per_program():
    funcs = _functions(MANY_ARGS)
    probes = [code for name, code in funcs.items() if "_for" not in name]
    # openat entry: 4 registers, one copy; read entry: one copy; sys_exit_read: the number
    # is the check's constant, only the check reads orig_ax (ret is ctx[1]); raw sys_enter:
    # one copy; raw sys_exit: `args.id` (orig_ax) twice, one copy
    assert [_reads(code) for code in probes] == [1, 1, 1, 1, 1]


def test_the_register_copy_follows_the_number_check_and_cheap_tests():
    code = _functions(MANY_ARGS)["p0_tracepoint_syscalls_sys_enter_openat"]
    insns, calls = _insns(code), _helper_calls(code)
    first_read = next(i for i, h in calls if h == PROBE_READ_KERNEL)
    # `pid == cpid` (get_current_pid_tgid) and `nr == 257` (a jump on the constant) first
    assert any(h == GET_CURRENT_PID_TGID and i < first_read for i, h in calls)
    assert any(op in (0x15, 0x55) and imm == 257 for op, _, imm in insns[:first_read])


def test_a_copy_covers_only_the_registers_read():
    # rdx, rsi and rdi (pt_regs 96..120): one 24-byte copy; a lone read stays 8 bytes
    src = "tracepoint:syscalls:sys_enter_read { @[args.fd, args.buf, args.count] = count(); }"
    assert _ir(src, "raw").count("->+") == 3
    asm = driver.emit(src, "t.bt", "bpftrace", [], "asm", syscall_attach="raw")
    assert asm.count("call 113") == 1 and "w2 = 24" in asm and "+= 96" in asm
    one = driver.emit("tracepoint:syscalls:sys_enter_read { @[args.count] = count(); }", "t.bt",
                      "bpftrace", [], "asm", syscall_attach="raw")
    assert one.count("call 113") == 1 and "w2 = 8" in one


def test_a_register_read_once_keeps_its_own_read_in_a_branch():
    # one read site: no copy hoisted out of the branch, events that skip it read nothing
    src = "tracepoint:syscalls:sys_enter_read { if (pid == 1) { @ = sum(args.count); } }"
    code = _functions(src)["p0_tracepoint_syscalls_sys_enter_read"]
    calls = _helper_calls(code)
    assert [h for _, h in calls if h == PROBE_READ_KERNEL] == [PROBE_READ_KERNEL]
    first_read = next(i for i, h in calls if h == PROBE_READ_KERNEL)
    assert any(h == GET_CURRENT_PID_TGID and i < first_read for i, h in calls)


def test_a_compiled_object_with_a_register_copy_runs(tmp_path):
    # `btc compile` objects carry the -p test ahead of the filter; the copy follows both
    require_bpf()
    obj = str(tmp_path / "many.o")
    res = run_btc("compile", "--dialect", "bpftrace", "--syscall-attach", "raw", "-e",
                  MANY_ARGS, "-o", obj)
    assert res.returncode == 0, res.stderr
    res = run_btc("run", obj, "-c", DRIVER_CMD, timeout=120)
    assert res.returncode == 0, res.stderr
    assert res.stdout == _run("bpftrace", "tracepoint", MANY_ARGS)


def test_dash_p_with_a_register_copy():
    require_bpf()
    me = str(os.getpid())
    tracer = Tracer("run", "--dialect", "bpftrace", "--syscall-attach", "raw", "-p", me, "-e",
                    "tracepoint:syscalls:sys_enter_read /args.count == 4321/ "
                    "{ printf(\"%d %d %d\\n\", args.fd > 0, args.buf != 0, args.count); }")
    tracer.wait_attached()
    fd = os.open("/dev/zero", os.O_RDONLY)
    try:
        child = os.fork()
        if child == 0:  # another process: -p must ignore it
            os.read(fd, 4321)
            os._exit(0)
        os.waitpid(child, 0)
        os.read(fd, 4321)
    finally:
        os.close(fd)
    res = tracer.stop(signal.SIGINT)
    assert res.returncode == 0, res.stderr
    assert [line for line in res.stdout.splitlines()[1:] if line] == ["1 1 4321"]


def test_bench_s_false_filter_rejects_before_the_copy():
    # btc bench's "filter" row runs `(F) && $K` with $K = 0: when F reads no register the
    # copy (for the body) comes after $K's test, so the row measures F alone
    src = ("tracepoint:syscalls:sys_enter_read /(pid > 0) && $1/ "
           "{ @ = sum(args.fd + args.count + args.buf); }")
    asm = driver.emit(src, "t.bt", "bpftrace", ["0"], "asm", syscall_attach="raw")
    body = asm[asm.index("p0_tracepoint_syscalls_sys_enter_read:"):]
    k_test = body.index("r1 = *(u64 *)(r1 + 0)")  # $1, the first .rodata slot
    assert body.count("call 113") == 1 and body.index("call 113") > k_test
