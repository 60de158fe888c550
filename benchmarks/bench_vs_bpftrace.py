"""btc against bpftrace on the same scripts in the same run (issue 6).

Rows: per-event cost (a false filter, a count per comm, a sum per tid, a histogram, and the
empty probe as the floor) for btc with syscall probes as perf tracepoints (the default for one
syscall) and as raw sys_enter programs (`--syscall-attach raw`), and for bpftrace; what the
empty program costs a syscall it does not trace, in each mode; a count per comm on
raw_syscalls (btc's default makes it raw); program sizes; start-up; start to exit of a
program on every sys_enter_* tracepoint; compile time of a generated 1,000-statement script,
reading and printing a 1,000,000-key map, and printf events per second delivered with the
lost count. Prints a Markdown table; `--write` also replaces the section "Per-event cost vs
bpftrace" of benchmarks/RESULTS.md.

Method (the same for both tools, each run as its own process, as a user would):
  * per-event: start the tool on `tracepoint:syscalls:sys_enter_getpid`, wait until its
    program runs (the kernel's run_cnt, read with BPF statistics switched on only while
    waiting), time a native loop of getpid() (btc.runtime.bench.native) several times, stop the
    tool; the unattached loop is timed just before and after. Tools alternate within a round;
    the figure is the median over rounds of (attached - unattached) ns per call.
  * untraced syscall: in the same sessions of the empty probe, a native getppid() loop is timed
    the same way (attached vs unattached): what tracing getpid costs every other syscall.
  * start to exit: `tracepoint:syscalls:sys_enter_* { @[probe] = count(); } interval:s:1
    { exit(); }` from spawn to the process's exit (btc's default attaches one raw sys_enter
    dispatcher for all of them, bpftrace one perf event per tracepoint).
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

GETPID_NR, GETPPID_NR = 39, 110  # x86-64 (asm/unistd_64.h)
TP = "tracepoint:syscalls:sys_enter_getpid"
RAW_TP = "tracepoint:raw_syscalls:sys_enter"
SCRIPTS = {
    "empty probe": TP + " { }",
    "false filter": TP + " /pid == 1/ { @c = count(); }",
    "count per comm": TP + " { @[comm] = count(); }",
    "sum per tid": TP + " { @s[tid] = sum(pid); }",
    "histogram": TP + " { @h = hist(tid); }",
    "raw_syscalls count per comm": RAW_TP + " { @[comm] = count(); }",
}
# the tools each script runs under: btc's default ("btc") and its other syscall attach mode
ROW_TOOLS = {name: ("btc", "btc raw", "bpftrace") for name in SCRIPTS}
ROW_TOOLS["raw_syscalls count per comm"] = ("btc", "btc tracepoint", "bpftrace")
UNTRACED_ROW = "empty probe"  # the sessions that also time a syscall the probe does not trace
EVERY_ENTER = "tracepoint:syscalls:sys_enter_* { @[probe] = count(); } interval:s:1 { exit(); }"
EXIT_TOOLS = ("btc", "btc tracepoint", "bpftrace")
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


TOOLS = {"btc": btc_argv,
         "btc raw": lambda script: btc_argv(script, ["--syscall-attach", "raw"]),
         "btc tracepoint": lambda script: btc_argv(script, ["--syscall-attach", "tracepoint"]),
         "bpftrace": bpftrace_argv}
OUTPUT_TOOLS = ("btc", "bpftrace")  # the map and printf rows


_T0 = time.perf_counter()


def _progress(msg: str) -> None:
    print(f"[{time.perf_counter() - _T0:6.1f} s] {msg}", file=sys.stderr)


# --- the driver and the "is it attached yet" probe --------------------------------------------
class Loop:
    def __init__(self, nr: int = GETPID_NR) -> None:
        self.loop = native.build(nr)
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
    """Poll until a (raw) tracepoint program held by `proc` runs when getpid() is called;
    returns (seconds waited, sizes and program type). Statistics are on only inside this
    function."""
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
                    if info.type not in (abi.ProgType.TRACEPOINT, abi.ProgType.RAW_TRACEPOINT):
                        continue
                    loop.loop(4)
                    info = kernel_objects.prog_info(fd)
                    if info.run_cnt > 0:
                        return time.perf_counter() - t0, {
                            "xlated": info.xlated_prog_len // 8, "jited": info.jited_prog_len,
                            "verified": info.verified_insns,
                            "type": abi.ProgType(info.type).name}
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
def per_event(loop: Loop, other: Loop, rounds: int, n: int) -> dict:
    res: dict = {name: {t: {"delta": [], "startup": [], "sizes": None, "base": [],
                            "untraced": [], "ubase": []} for t in ROW_TOOLS[name]}
                 for name in SCRIPTS}
    for r in range(rounds):
        for name, script in SCRIPTS.items():
            tools = list(ROW_TOOLS[name])
            tools = tools if r % 2 == 0 else tools[::-1]
            for tool in tools:
                _session(res[name][tool], tool, script, loop,
                         other if name == UNTRACED_ROW else None, n)
        _progress(f"  per-event round {r + 1}/{rounds} done")
    return res


def _session(cell: dict, tool: str, script: str, loop: Loop, other: Loop | None,
             n: int) -> None:
    """One attached session: the getpid loop (and `other`, a syscall the script does not
    trace) timed attached, against unattached runs just before and after."""
    loops = [loop] + ([other] if other else [])
    base: dict = {id(lp): [lp.ns_per_call(n) for _ in range(SAMPLES // 2)] for lp in loops}
    proc, startup, sizes = start(tool, script, loop)
    try:
        attached: dict = {id(lp): [] for lp in loops}
        for _ in range(SAMPLES):
            for lp in loops:
                attached[id(lp)].append(lp.ns_per_call(n))
    finally:
        stop(proc)
    for lp in loops:
        base[id(lp)] += [lp.ns_per_call(n) for _ in range(SAMPLES // 2)]
    delta = lambda lp: statistics.median(attached[id(lp)]) - statistics.median(base[id(lp)])  # noqa
    cell["delta"].append(delta(loop))
    cell["base"].append(statistics.median(base[id(loop)]))
    if other:
        cell["untraced"].append(delta(other))
        cell["ubase"].append(statistics.median(base[id(other)]))
    cell["startup"].append(startup)
    cell["sizes"] = sizes


def start_to_exit(reps: int) -> dict:
    """Spawn to exit of EVERY_ENTER (its 1 s interval included), tools alternating."""
    out: dict = {t: {"seconds": [], "lines": None, "error": None} for t in EXIT_TOOLS}
    for r in range(reps):
        for tool in EXIT_TOOLS if r % 2 == 0 else EXIT_TOOLS[::-1]:
            t0 = time.perf_counter()
            p = subprocess.run(TOOLS[tool](EVERY_ENTER), capture_output=True, timeout=600,
                               preexec_fn=_unpin)
            cell = out[tool]
            if p.returncode != 0:
                cell["error"] = p.stderr.decode(errors="replace").strip()[-200:]
                continue
            cell["seconds"].append(time.perf_counter() - t0)
            cell["lines"] = p.stdout.count(b"\n")
        _progress(f"  start-to-exit round {r + 1}/{reps} done")
    return out


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
    for tool in OUTPUT_TOOLS:
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
    for tool in OUTPUT_TOOLS:
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
             bpftrace_version: str, ex: dict | None = None) -> str:
    now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    lines = [
        SECTION, "",
        f"Rerun: `cd /work/main && python benchmarks/bench_vs_bpftrace.py --rounds {args.rounds} "
        f"--iterations {args.iterations} --write` (root; bpftrace from the distribution: "
        "`apt-get install -y bpftrace`, or `--install`; 3.5 minutes on 2 CPUs at load "
        "average 1-2, 4.5 at 10, 7 at 13: the per-event rows 1.5-2.5, the sys_enter_* "
        "start-to-exit row 1.5 "
        "(`--skip exit` leaves it out, `--skip events,compile,map,printf` runs it alone)).", "",
        f"{now}; kernel {m['kernel']} {m['arch']}, {m['cpus_online']} CPUs ({m['cpu_model']}, "
        f"{'VM' if m['virtualized'] else 'bare metal?'}), JIT {m['jit']}, load average "
        f"{' '.join(m['loadavg'])} at the start; {bpftrace_version}; btc bpftrace dialect. "
        f"Driver: native getpid() loop pinned to CPU {DRIVER_CPU}, {args.iterations} calls x {SAMPLES} "
        f"per attached session (median) against {SAMPLES} unattached runs around it, {args.rounds} rounds, tools alternating.", "",
    ]
    if pe is not None:
        lines += _per_event_table(pe) + [""] + _ratio_table(pe)
    lines += ["", "| other row | btc | bpftrace |", "|---|---|---|"]
    fmt = lambda v: f"{v:.2f} s" if isinstance(v, float) else str(v)  # noqa
    lines.append(f"| compile a generated {args.statements}-statement script (whole process, "
                 f"median of {args.compile_reps}) | {fmt(comp['btc'])} | {fmt(comp['bpftrace'])} |")
    if ex:
        lines.append(_exit_row(ex, args.exit_reps))
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


def _columns(pe: dict, name: str) -> dict[str, tuple[str, dict]]:
    """{"tracepoint"|"raw"|"bpftrace": (tool, cell)}: btc's cells go under the attach mode
    their program really had (the type of the program that ran); "btc" is the default's."""
    cols = {}
    for tool, cell in pe[name].items():
        if tool == "bpftrace":
            cols["bpftrace"] = (tool, cell)
        else:
            raw = (cell["sizes"] or {}).get("type") == "RAW_TRACEPOINT"
            cols["raw" if raw else "tracepoint"] = (tool, cell)
    return cols


def _size(s: dict | None) -> str:
    return f"{s['xlated']} / {s['jited']} / {s['verified']}" if s else "-"


def _script_cell(name: str) -> str:
    script = SCRIPTS[name]
    probe = TP if script.startswith(TP) else RAW_TP
    short = script[len(probe) + 1:]
    return f"{name}: `{short}`" if probe == TP else f"{name}: `{script}`"


def _per_event_table(pe: dict) -> list[str]:
    lines = [
        f"Per-event cost on `{TP}` (last row: `{RAW_TP}`, also fired by getpid()): ns added per "
        "getpid() call, median [min..max] over rounds (unattached loop: "
        f"{statistics.median(pe['empty probe']['btc']['base']):.0f} ns/call). btc runs each "
        "script as a perf tracepoint (`--syscall-attach tracepoint`) and as a raw sys_enter "
        "program that checks the syscall number (`raw`); (default) marks what btc picks "
        "without the option. Program size as xlated instructions / JIT bytes / "
        "verifier-processed instructions; start-up = spawn to the program's first run, "
        "median seconds.", "",
        "| script | btc tracepoint +ns | btc raw +ns | bpftrace +ns | btc size tracepoint | "
        "btc size raw | bpftrace size | btc start-up s (tracepoint / raw) | bpftrace start-up s |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for name in SCRIPTS:
        cols = _columns(pe, name)
        get = lambda k: cols.get(k, (None, None))  # noqa
        delta = lambda k: (_med(get(k)[1]["delta"]) + (" (default)" if get(k)[0] == "btc" else "")  # noqa
                           if get(k)[1] else "-")
        size = lambda k: _size(get(k)[1]["sizes"]) if get(k)[1] else "-"  # noqa
        up = lambda k: f"{statistics.median(get(k)[1]['startup']):.2f}" if get(k)[1] else "-"  # noqa
        lines.append(f"| {_script_cell(name)} | {delta('tracepoint')} | {delta('raw')} | "
                     f"{delta('bpftrace')} | {size('tracepoint')} | {size('raw')} | "
                     f"{size('bpftrace')} | {up('tracepoint')} / {up('raw')} | {up('bpftrace')} |")
    cols = _columns(pe, UNTRACED_ROW)
    ucell = lambda k: _med(cols[k][1]["untraced"]) if k in cols else "-"  # noqa
    ubase = statistics.median(pe[UNTRACED_ROW]["btc"]["ubase"])
    lines.append(f"| untraced syscall: getppid() while the empty probe is on getpid (unattached "
                 f"{ubase:.0f} ns/call) | {ucell('tracepoint')} | {ucell('raw')} | "
                 f"{ucell('bpftrace')} | | | | | |")
    return lines


def _ratio_table(pe: dict) -> list[str]:
    """btc / bpftrace per event, for each mode, whole event and above each tool's empty probe;
    beside it what each mode costs the syscalls it does not trace."""
    med = lambda cell, key="delta": statistics.median(cell[key])  # noqa
    empty = _columns(pe, "empty probe")
    lines = ["Ratios, btc / bpftrace (medians above): whole event, and above each tool's empty "
             "probe (what the program itself adds); the untraced row is the price every "
             "other syscall pays while the probe is attached, ns per call.", "",
             "| script | tracepoint: event | raw: event | tracepoint: above empty | "
             "raw: above empty |", "|---|---|---|---|---|"]
    for name in SCRIPTS:
        if name == "empty probe" or not SCRIPTS[name].startswith(TP):
            continue
        cols = _columns(pe, name)
        bt = med(cols["bpftrace"][1])
        bt_above = bt - med(empty["bpftrace"][1])
        cells = []
        for mode in ("tracepoint", "raw"):
            if mode not in cols:
                cells += ["-", "-"]
                continue
            v = med(cols[mode][1])
            above = v - med(empty[mode][1]) if mode in empty else None
            cells.append(f"{v / bt:.2f}" if bt > 0 else "-")
            cells.append("-" if above is None else f"{above:.0f} / {bt_above:.0f}"
                         + (f" = {above / bt_above:.2f}" if bt_above > 0 else ""))
        lines.append(f"| {name} | {cells[0]} | {cells[2]} | {cells[1]} | {cells[3]} |")
    u = {k: f"+{med(c[1], 'untraced'):.0f}" for k, c in empty.items() if c[1]["untraced"]}
    lines.append(f"| untraced syscall, ns per call (btc / bpftrace) | {u.get('tracepoint', '-')} "
                 f"/ {u.get('bpftrace', '-')} | {u.get('raw', '-')} / {u.get('bpftrace', '-')} "
                 "| | |")
    return lines


def _exit_row(ex: dict, reps: int) -> str:
    def cell(tool: str) -> str:
        c = ex[tool]
        if not c["seconds"]:
            return f"failed ({(c['error'] or '')[:80]})"
        return f"{statistics.median(c['seconds']):.2f} s ({c['lines']} lines)"
    return (f"| start to exit of `{EVERY_ENTER}` (spawn to exit, median of {reps}) | "
            f"default (one raw dispatcher): {cell('btc')}; `--syscall-attach tracepoint`: "
            f"{cell('btc tracepoint')} | {cell('bpftrace')} |")


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
    ap.add_argument("--exit-reps", type=int, default=2,
                    help="runs of the sys_enter_* start-to-exit row per tool")
    ap.add_argument("--skip", default="",
                    help="comma list of rows to skip: events,exit,compile,map,printf")
    ap.add_argument("--install", action="store_true", help="apt-get install bpftrace if missing")
    ap.add_argument("--write", action="store_true", help="update benchmarks/RESULTS.md")
    args = ap.parse_args()
    if platform.machine() != "x86_64":
        sys.exit("this benchmark's driver is x86-64 only")
    version = ensure_bpftrace(args.install)
    skip = set(filter(None, args.skip.split(",")))
    m = machine_info()
    os.sched_setaffinity(0, {DRIVER_CPU})
    loop, other = Loop(), Loop(GETPPID_NR)
    _progress("per-event rows ...")
    pe = per_event(loop, other, args.rounds, args.iterations) if "events" not in skip else None
    _progress("start to exit ...")
    ex = start_to_exit(args.exit_reps) if "exit" not in skip else None
    _progress("compile time ...")
    comp = compile_time(args.compile_reps, args.statements) if "compile" not in skip \
        else {"btc": "skipped", "bpftrace": "skipped"}
    _progress("1M-key map ...")
    bm = big_map(loop, args.map_keys) if "map" not in skip else None
    _progress("printf rate ...")
    pf = printf_rate(loop, args.printf_seconds) if "printf" not in skip else None
    text = markdown(m, args, pe, comp, bm, pf, version, ex)
    print(text)
    _progress("done")
    if args.write:
        write_section(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
