"""`btc run` options on the live kernel: compile-time warnings, -v verifier logs, privileges,
-o/-q/-c, and option parsing after the program file."""
from __future__ import annotations

import io
import os
import struct
import subprocess
import sys

import pytest

from kernel import require_bpf
from run_util import run_btc

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@pytest.fixture(autouse=True)
def _bpf():
    require_bpf()


def test_compile_warning_is_printed_and_the_run_goes_on(tmp_path):
    prog = 'BEGIN { printf("a %ld|\\n", 5); printf("b\\n") }'
    warning = f"btc:1:16: %l: invalid directive:\n{prog}\n               ^\n"
    res = run_btc("-e", prog)
    assert res.returncode == 0, res.stderr
    assert res.stdout == "a b\n"  # btrace stops that printf at the bad directive
    assert res.stderr.startswith(warning)
    res = run_btc("compile", "-e", prog, "-o", str(tmp_path / "w.o"))
    assert (res.returncode, res.stderr) == (0, warning)


def _break_first_insn(obj: bytes, section: str) -> bytes:
    from elftools.elf.elffile import ELFFile

    sec = ELFFile(io.BytesIO(obj)).get_section_by_name(section)
    out = bytearray(obj)
    off = sec["sh_offset"]
    while out[off] == 0x18:  # skip ld_imm64s (the -p slot's address): they carry relocations
        off += 16
    out[off:off + 8] = struct.pack("<BBhi", 0x79, 5 << 4, 0, 0)  # r0 = *(u64 *)(r5 + 0)
    return bytes(out)


def test_dash_v_prints_the_whole_verifier_log(tmp_path):
    good = tmp_path / "g.o"
    res = run_btc("compile", "-e", "syscall:getppid:entry { @x = 1 }", "-o", str(good))
    assert res.returncode == 0, res.stderr
    bad = tmp_path / "bad.o"
    bad.write_bytes(_break_first_insn(good.read_bytes(), "tracepoint/syscalls/sys_enter_getppid"))
    quiet = run_btc("run", str(bad))
    loud = run_btc("run", str(bad), "-v")
    summary = "the BPF verifier rejected syscall:getppid:entry: R5 !read_ok"
    assert quiet.returncode == loud.returncode == 1
    assert summary in quiet.stderr and "processed 2 insns" not in quiet.stderr
    assert summary in loud.stderr and "processed 2 insns" in loud.stderr
    assert "2: (79) r0 = *(u64 *)(r5 +0)" in loud.stderr


def test_without_privileges_one_plain_line_and_status_1():
    if os.geteuid() != 0:
        pytest.skip("needs root to drop to user nobody")
    # import first: the interpreter's files may not be readable by `nobody`
    code = ("import os, sys\n"
            "import btc.cli, btc.runtime.privileges, btc.runtime.session\n"
            "btc.cli._parse_args(['run', '-e', 'x'])  # argparse's lazy imports (gettext)\n"
            "os.setgroups([]); os.setgid(65534); os.setuid(65534)\n"
            "sys.exit(btc.cli.main(['-e', 'BEGIN { printf(\"hi\\\\n\") }']))\n")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True,
                         env={**os.environ, "PYTHONPATH": ROOT, "BTC_NO_CACHE": "1"}, timeout=60)
    if out.returncode == 0:
        pytest.skip("unprivileged bpf() is allowed on this system")
    assert (out.returncode, out.stdout) == (1, "")
    assert out.stderr.count("\n") == 1
    assert out.stderr.startswith("btc: tracing needs root, or the CAP_BPF and CAP_PERFMON")
    assert "sudo" in out.stderr


def test_quiet_output_file_and_child_command(tmp_path):
    path = tmp_path / "out.txt"
    res = run_btc("--dialect", "bpftrace", "-q", "-o", str(path), "-c", "/bin/true", "-e",
                  "tracepoint:syscalls:sys_exit_execve /pid == cpid/ { @[comm] = count(); }")
    assert (res.returncode, res.stdout, res.stderr) == (0, "", "")
    assert path.read_text() == "\n\n@[true]: 1\n"


def test_options_after_the_file_and_params_after_double_dash(tmp_path):
    prog = tmp_path / "p.bt"
    prog.write_text('BEGIN { printf("%s|%s|%d\\n", str($1), str($2), $#) }\n')
    res = run_btc(str(prog), "x", "-o", str(tmp_path / "o.txt"), "--", "-q", "-5")
    assert (res.returncode, res.stdout, res.stderr) == (0, "", "")
    assert (tmp_path / "o.txt").read_text() == "x|-q|3\n"


def test_dash_p_filters_probes_but_not_the_interval_timer():
    # interval fires in whatever task is on the CPU: filtering it by pid would stop the run
    sleeper = subprocess.Popen(["sleep", "30"])
    try:
        res = run_btc("-p", str(sleeper.pid), "-e",
                      "syscall:getppid:entry { @[pid] = count() } "
                      "interval:ms:300 { printf(\"tick\\n\"); exit() }", timeout=30)
    finally:
        sleeper.kill()
        sleeper.wait()
    assert res.returncode == 0, res.stderr
    assert res.stdout.startswith("tick\n"), res.stdout
    assert "@[" not in res.stdout  # nothing but the sleeper may be counted, and it never calls getppid
