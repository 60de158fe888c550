"""btc against bpftrace on the same scripts in the same run (issue 6).

Rows: per-event cost (a false filter, a count per comm, a sum per tid, a histogram, and the
empty probe as the floor), program sizes, start-up, compile time of a generated
1,000-statement script, reading and printing a 1,000,000-key map, and printf events per second
delivered with the lost count. Prints a Markdown table; `--write` also replaces the section
"Per-event cost vs bpftrace" of benchmarks/RESULTS.md.

Method (the same for both tools, each run as its own process, as a user would):
  * per-event: start the tool on `tracepoint:syscalls:sys_enter_getpid`, wait until its
    program runs (the kernel's run_cnt, read with BPF statistics switched on only while
    waiting), time a native loop of getpid() (btc.runtime.bench.native) several times, stop the
    tool; the unattached loop is timed just before and after. Tools alternate within a round;
    the figure is the median over rounds of (attached - unattached) ns per call.
  * sizes: bpf_prog_info of the running program (xlated instructions, JIT bytes, verified).
  * start-up: from spawning the tool to its program's first run.
  * compile: `btc compile` (cache off) vs `bpftrace --emit-elf` (a dry run that stops after
    code generation), both as whole processes.
  * 1M-key map: both tools count `@m[nsecs]` for 1,000,000 getpid() calls, get SIGINT, and
    print the map; timed from the signal to the end of the output. bpftrace needs
    BPFTRACE_MAP_KEYS_MAX; btc has no such option yet, so this script starts btc through a
    launcher that raises the metadata's max_entries for user maps before loading (the same
    kernel map, the same read and print path).
  * printf: getpid() as fast as possible for 3 s under `printf("%d %s\\n", tid, comm)`, the
    tool's stdout read through a pipe; events/s = lines received during those 3 s / 3 s; the
    lost count is the sum of every "Lost N events" line the tool prints (stdout or stderr).

Needs root, bpftrace (install: `apt-get install -y bpftrace`, or pass --install) and x86-64.
"""
from __future__ import annotations

import argparse
import ctypes
import datetime
import os
import platform
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from btc.runtime import abi, kernel_objects, syscalls  # noqa: E402
from btc.runtime.bench import native  # noqa: E402
from btc.runtime.bench.machine import machine_info  # noqa: E402

GETPID_NR = 39  # x86-64 (asm/unistd_64.h)
TP = "tracepoint:syscalls:sys_enter_getpid"
SCRIPTS = {
    "empty probe": TP + " { }",
    "false filter": TP + " /pid == 1/ { @c = count(); }",
    "count per comm": TP + " { @[comm] = count(); }",
    "sum per tid": TP + " { @s[tid] = sum(pid); }",
    "histogram": TP + " { @h = hist(tid); }",
}
SECTION = "## Per-event cost vs bpftrace"
SAMPLES = 6  # timed driver runs per attached session (and as many unattached around it)
BTC_LAUNCHER = r"""
import os, sys
from btc.runtime import elf_loader
from btc.runtime.objfile import parse_object as _parse
keys = int(os.environ.get("BTC_BENCH_MAP_KEYS_MAX", "0"))
def parse_object(data):
    obj = _parse(data)
    for m in obj.meta.get("maps", []):
        if keys and not m.get("internal") and m.get("key") is not None:
            m["max_entries"] = keys
    return obj
elf_loader.parse_object = parse_object
from btc.cli import main
sys.exit(main(sys.argv[1:]))
"""


def btc_argv(script: str, extra: list[str] | None = None) -> list[str]:
    return [sys.executable, "-c", BTC_LAUNCHER, "--dialect", "bpftrace", "-q", *(extra or []),
            "-e", script]


def bpftrace_argv(script: str) -> list[str]:
    return ["bpftrace", "-q", "-e", script]


TOOLS = {"btc": btc_argv, "bpftrace": bpftrace_argv}


# --- the driver and the "is it attached yet" probe --------------------------------------------
class Loop:
    def __init__(self) -> None:
        self.loop = native.build(GETPID_NR)
        if self.loop is None:
            sys.exit("this benchmark needs the native getpid loop (x86-64, executable memory)")

    def ns_per_call(self, n: int) -> float:
        t0 = time.perf_counter_ns()
        self.loop(n)
        return (time.perf_counter_ns() - t0) / n


def _prog_fd(prog_id: int) -> int:
    return syscalls.bpf_raw(abi.BpfCmd.PROG_GET_FD_BY_ID, abi.AttrGetId(start_id=prog_id))


def _prog_ids_of(pid: int) -> set[int]:
    """BPF programs a process holds, from /proc/PID/fdinfo (`prog_id:` lines): other
    programs on the same tracepoint (another tracer, a test suite) must not count."""
    ids = set()
    base = f"/proc/{pid}/fdinfo"
    try:
        names = os.listdir(base)
    except OSError:
        return ids
    for name in names:
        try:
            with open(f"{base}/{name}") as f:
                for line in f:
                    if line.startswith("prog_id:"):
                        ids.add(int(line.split()[1]))
        except (OSError, ValueError):
            pass
    return ids


def wait_attached(proc: subprocess.Popen, loop: Loop,
                  timeout: float = 60.0) -> tuple[float, dict]:
    """Poll until a TRACEPOINT program held by `proc` runs when getpid() is called; returns
    (seconds waited, sizes). Statistics are on only inside this function."""
    t0 = time.perf_counter()
    stats_fd = kernel_objects.enable_stats()
    try:
        while time.perf_counter() - t0 < timeout:
            if proc.poll() is not None:
                raise RuntimeError(f"{proc.args[:3]} exited with {proc.returncode}")
            for pid in sorted(_prog_ids_of(proc.pid)):
                fd = _prog_fd(pid)
                if fd < 0:
                    continue
                try:
                    info = kernel_objects.prog_info(fd)
                    if info.type != abi.ProgType.TRACEPOINT:
                        continue
                    loop.loop(4)
                    info = kernel_objects.prog_info(fd)
                    if info.run_cnt > 0:
                        return time.perf_counter() - t0, {
                            "xlated": info.xlated_prog_len // 8, "jited": info.jited_prog_len,
                            "verified": info.verified_insns}
                finally:
                    syscalls.close(fd)
            time.sleep(0.002)
    finally:
        syscalls.close(stats_fd)
    raise RuntimeError(f"{proc.args[:3]} did not attach within {timeout} s")


def start(tool: str, script: str, loop: Loop, env: dict | None = None,
          stdout=subprocess.DEVNULL) -> tuple[subprocess.Popen, float, dict]:
    t0 = time.perf_counter()
    err = tempfile.TemporaryFile()
    proc = subprocess.Popen(TOOLS[tool](script), stdout=stdout, stderr=err,
                            env={**os.environ, **(env or {})}, preexec_fn=_unpin)
    proc.err_file = err  # read by stop(); stdout stays with whoever reads it
    _, sizes = wait_attached(proc, loop)
    return proc, time.perf_counter() - t0, sizes


def stop(proc: subprocess.Popen) -> str:
    """SIGINT, wait for the exit (without touching stdout: a LineCounter may be reading it)."""
    proc.send_signal(signal.SIGINT)
    try:
        proc.wait(timeout=300)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
    proc.err_file.seek(0)
    text = proc.err_file.read().decode("utf-8", "replace")
    proc.err_file.close()
    return text


_ALL_CPUS = set(range(os.cpu_count() or 1))


def _unpin() -> None:
    os.sched_setaffinity(0, _ALL_CPUS - {DRIVER_CPU} or _ALL_CPUS)


DRIVER_CPU = max(_ALL_CPUS)


# --- rows ---------------------------------------------------------------------------------------
def per_event(loop: Loop, rounds: int, n: int) -> dict:
    res: dict = {name: {t: {"delta": [], "startup": [], "sizes": None} for t in TOOLS}
                 for name in SCRIPTS}
    for r in range(rounds):
        for name, script in SCRIPTS.items():
            tools = list(TOOLS) if r % 2 == 0 else list(TOOLS)[::-1]
            for tool in tools:
                base = [loop.ns_per_call(n) for _ in range(SAMPLES // 2)]
                proc, startup, sizes = start(tool, script, loop)
                try:
                    attached = [loop.ns_per_call(n) for _ in range(SAMPLES)]
                finally:
                    stop(proc)
                base += [loop.ns_per_call(n) for _ in range(SAMPLES // 2)]
                cell = res[name][tool]
                cell["delta"].append(statistics.median(attached) - statistics.median(base))
                cell["startup"].append(startup)
                cell["sizes"] = sizes
                cell.setdefault("base", []).append(statistics.median(base))
        print(f"  per-event round {r + 1}/{rounds} done", file=sys.stderr)
    return res


def compile_time(reps: int, statements: int) -> dict:
    body = "\n".join(f"  @x[{i}] = {i};" for i in range(statements))
    text = f"{TP}\n{{\n{body}\n}}\n"
    with tempfile.TemporaryDirectory() as d:
        src = os.path.join(d, "gen.bt")
        with open(src, "w") as f:
            f.write(text)
        cmds = {
            "btc": [sys.executable, "-m", "btc.cli", "compile", "--dialect", "bpftrace", src,
                    "-o", os.path.join(d, "btc.o")],
            "bpftrace": ["bpftrace", "--emit-elf", os.path.join(d, "bt.o"), src],
        }
        out = {}
        for tool, argv in cmds.items():
            times = []
            for _ in range(reps):
                t0 = time.perf_counter()
                p = subprocess.run(argv, capture_output=True, env={**os.environ, "BTC_NO_CACHE": "1"},
                                   cwd=ROOT)
                times.append(time.perf_counter() - t0)
                if p.returncode != 0:
                    out[tool] = f"failed: {p.stderr.decode(errors='replace').strip()[:200]}"
                    break
            else:
                out[tool] = statistics.median(times)
    return out


LOST_RE = re.compile(rb"^Lost (\d+) events$", re.M)


class LineCounter(threading.Thread):
    """Counts the lines a tool prints (and its `Lost N events` lines, wherever they are)."""

    def __init__(self, pipe) -> None:
        super().__init__(daemon=True)
        self.pipe, self.lines, self.last = pipe, 0, 0.0
        self.text_tail = b""
        self.lost = 0
        self._partial = b""  # the unfinished last line of the previous chunk

    def run(self) -> None:
        while True:
            chunk = self.pipe.read1(1 << 16) if hasattr(self.pipe, "read1") else self.pipe.read(1 << 16)
            if not chunk:
                self.lost += sum(int(m) for m in LOST_RE.findall(self._partial))
                return
            self.lines += chunk.count(b"\n")
            self.last = time.perf_counter()
            self.text_tail = (self.text_tail + chunk)[-4096:]
            text = self._partial + chunk
            cut = text.rfind(b"\n") + 1
            if b"Lost " in text:  # the regex alone would slow this reader down
                self.lost += sum(int(m) for m in LOST_RE.findall(text, 0, cut))
            rest = text[cut:]
            self._partial = rest if len(rest) < 64 else b"-"  # too long to be a Lost line


def big_map(loop: Loop, keys: int) -> dict:
    script = TP + " { @m[nsecs] = count(); }"
    env = {"BPFTRACE_MAP_KEYS_MAX": str(keys + keys // 8),
           "BTC_BENCH_MAP_KEYS_MAX": str(keys + keys // 8)}
    out = {}
    for tool in TOOLS:
        proc, _, _ = start(tool, script, loop, env, stdout=subprocess.PIPE)
        counter = LineCounter(proc.stdout)
        counter.start()
        loop.loop(keys)
        t0 = time.perf_counter()
        err = stop(proc)
        counter.join()
        out[tool] = {"seconds": counter.last - t0 if counter.lines else None,
                     "lines": counter.lines, "stderr": err.strip()[-300:]}
    return out


def printf_rate(loop: Loop, seconds: float) -> dict:
    """Saturate the tool for `seconds` (getpid() in chunks, as fast as the loop goes); the
    rate counts lines that reached the pipe during that window, so neither the tool's exit
    nor its final flush is timed."""
    script = TP + ' { printf("%d %s\\n", tid, comm); }'
    out = {}
    for tool in TOOLS:
        proc, _, _ = start(tool, script, loop, stdout=subprocess.PIPE)
        counter = LineCounter(proc.stdout)
        counter.start()
        fired, t0 = 0, time.perf_counter()
        while time.perf_counter() - t0 < seconds:
            loop.loop(10_000)
            fired += 10_000
        window = time.perf_counter() - t0
        in_window = counter.lines
        while True:  # let it finish what it has, until the output is idle for half a second
            seen = counter.lines
            time.sleep(0.5)
            if counter.lines == seen:
                break
        err = stop(proc)
        counter.join()
        lost = counter.lost + sum(int(m) for m in re.findall(r"Lost (\d+) events", err))
        out[tool] = {"fired": fired, "seconds": window, "per_second": in_window / window,
                     "delivered": counter.lines, "lost_reported": lost}
    return out


# --- report -----------------------------------------------------------------------------------
def _med(xs: list[float]) -> str:
    return f"{statistics.median(xs):+.0f} [{min(xs):+.0f}..{max(xs):+.0f}]" if xs else "-"


def markdown(m: dict, args, pe: dict, comp: dict, bm: dict | None, pf: dict | None,
             bpftrace_version: str) -> str:
    now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    lines = [
        SECTION, "",
        f"Rerun: `cd /work/main && python benchmarks/bench_vs_bpftrace.py --rounds {args.rounds} "
        f"--iterations {args.iterations} --write` (root; bpftrace from the distribution: "
        "`apt-get install -y bpftrace`, or `--install`).", "",
        f"{now}; kernel {m['kernel']} {m['arch']}, {m['cpus_online']} CPUs ({m['cpu_model']}, "
        f"{'VM' if m['virtualized'] else 'bare metal?'}), JIT {m['jit']}, load average "
        f"{' '.join(m['loadavg'])} at the start; {bpftrace_version}; btc bpftrace dialect. "
        f"Driver: native getpid() loop pinned to CPU {DRIVER_CPU}, {args.iterations} calls x {SAMPLES} "
        f"per attached session (median) against {SAMPLES} unattached runs around it, {args.rounds} rounds, tools alternating.", "",
    ]
    if pe is not None:
        lines += _per_event_table(pe)
    lines += ["", "| other row | btc | bpftrace |", "|---|---|---|"]
    fmt = lambda v: f"{v:.2f} s" if isinstance(v, float) else str(v)  # noqa
    lines.append(f"| compile a generated {args.statements}-statement script (whole process, "
                 f"median of {args.compile_reps}) | {fmt(comp['btc'])} | {fmt(comp['bpftrace'])} |")
    if bm:
        cell = lambda c: (f"{c['seconds']:.2f} s ({c['lines']} lines)" if c["seconds"]  # noqa
                          else f"no output ({c['stderr'][:80]})")
        lines.append(f"| read and print a {args.map_keys:,}-key count map (SIGINT to last line) "
                     f"| {cell(bm['btc'])} | {cell(bm['bpftrace'])} |")
    if pf:
        cell = lambda c: (f"{c['per_second']:,.0f}/s delivered; {c['delivered']:,} of "  # noqa
                          f"{c['fired']:,} fired in {c['seconds']:.1f} s printed, lost reported:"
                          f" {c['lost_reported']:,}")
        lines.append(f"| printf events per second, saturated for {args.printf_seconds:g} s "
                     f"| {cell(pf['btc'])} | {cell(pf['bpftrace'])} |")
    lines += ["", "Notes:",
              "* Both tools run as separate processes; the driver's CPU is kept free of them.",
              "* btc has no option for map sizes (bpftrace: BPFTRACE_MAP_KEYS_MAX); the 1M-key row"
              " starts btc through a launcher that raises max_entries of keyed user maps.",
              "* A per-event delta includes the tool's process being idle on the other CPU; the "
              "printf row is the one where the reader's speed matters.",
              "* printf: \"fired\" shows how fast the traced process could still run. A tool "
              "whose output path blocks or wakes its reader on every event slows the traced "
              "process down instead of dropping events; one with a slow reader drops them.",
              "* Start-up here is spawn to the first run of the program (compile cache warm for "
              "btc); the Start-up section has the breakdown.",
              "* Per-probe detail for btc (empty program, filter alone, in-program time from "
              "BPF statistics): `btc bench --dialect bpftrace -e '<script>'`.", ""]
    return "\n".join(lines)


def _per_event_table(pe: dict) -> list[str]:
    lines = [
        "Per-event cost on `tracepoint:syscalls:sys_enter_getpid`: ns added per getpid() call, "
        "median [min..max] over rounds (unattached loop: "
        f"{statistics.median(pe['empty probe']['btc']['base']):.0f} ns/call); program size "
        "as xlated instructions / JIT bytes / verifier-processed instructions; start-up = "
        "spawn to the program's first run, median seconds.", "",
        "| script | btc +ns/event | bpftrace +ns/event | btc size | bpftrace size | "
        "btc start-up s | bpftrace start-up s |",
        "|---|---|---|---|---|---|---|",
    ]
    for name, script in SCRIPTS.items():
        b, t = pe[name]["btc"], pe[name]["bpftrace"]
        size = lambda s: f"{s['xlated']} / {s['jited']} / {s['verified']}" if s else "-"  # noqa
        lines.append(f"| {name}: `{script[len(TP) + 1:]}` | {_med(b['delta'])} | "
                     f"{_med(t['delta'])} | {size(b['sizes'])} | {size(t['sizes'])} | "
                     f"{statistics.median(b['startup']):.2f} | "
                     f"{statistics.median(t['startup']):.2f} |")
    return lines


def write_section(text: str) -> None:
    path = os.path.join(ROOT, "benchmarks", "RESULTS.md")
    try:
        with open(path) as f:
            old = f.read()
    except OSError:
        old = "# Benchmark results\n"
    start = old.find(SECTION)
    if start < 0:
        new = old.rstrip("\n") + "\n\n" + text
    else:
        nxt = old.find("\n## ", start + len(SECTION))
        new = old[:start] + text + ("" if nxt < 0 else "\n" + old[nxt + 1:])
    with open(path, "w") as f:
        f.write(new.rstrip("\n") + "\n")


def ensure_bpftrace(install: bool) -> str:
    if shutil.which("bpftrace") is None:
        if not install:
            sys.exit("bpftrace is not installed: apt-get install -y bpftrace (or pass --install)")
        subprocess.run(["apt-get", "install", "-y", "bpftrace"], check=True)
    return subprocess.run(["bpftrace", "--version"], capture_output=True,
                          text=True).stdout.strip()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--iterations", type=int, default=200_000)
    ap.add_argument("--statements", type=int, default=1000)
    ap.add_argument("--compile-reps", type=int, default=3)
    ap.add_argument("--map-keys", type=int, default=1_000_000)
    ap.add_argument("--printf-seconds", type=float, default=3.0)
    ap.add_argument("--skip", default="",
                    help="comma list of rows to skip: events,compile,map,printf")
    ap.add_argument("--install", action="store_true", help="apt-get install bpftrace if missing")
    ap.add_argument("--write", action="store_true", help="update benchmarks/RESULTS.md")
    args = ap.parse_args()
    if platform.machine() != "x86_64":
        sys.exit("this benchmark's driver is x86-64 only")
    version = ensure_bpftrace(args.install)
    skip = set(filter(None, args.skip.split(",")))
    m = machine_info()
    os.sched_setaffinity(0, {DRIVER_CPU})
    loop = Loop()
    print("per-event rows ...", file=sys.stderr)
    pe = per_event(loop, args.rounds, args.iterations) if "events" not in skip else None
    print("compile time ...", file=sys.stderr)
    comp = compile_time(args.compile_reps, args.statements) if "compile" not in skip \
        else {"btc": "skipped", "bpftrace": "skipped"}
    print("1M-key map ...", file=sys.stderr)
    bm = big_map(loop, args.map_keys) if "map" not in skip else None
    print("printf rate ...", file=sys.stderr)
    pf = printf_rate(loop, args.printf_seconds) if "printf" not in skip else None
    text = markdown(m, args, pe, comp, bm, pf, version)
    print(text)
    if args.write:
        write_section(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
