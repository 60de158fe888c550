"""Front-end speed: parse + analyze + passes on a generated 1,000-probe script.

Run from the project root:  python benchmarks/bench_frontend.py [--probes N] [--dialect D] [--cpu]
Prints one Markdown table row per dialect (best of 5 runs, imports and first-use caches such as
tracefs format reads warmed by one untimed run).
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from btc.ir import analyze  # noqa: E402
from btc.ir.passes import run_pipeline  # noqa: E402
from btc.parser import parse  # noqa: E402
from btc.probes import syscall_tracepoints  # noqa: E402

RUNS = 5


def make_script(n: int, dialect: str) -> str:
    """n rules, one probe each, over the syscall tracepoints (entry and return)."""
    names = sorted(syscall_tracepoints())
    rules = []
    for i in range(n):
        name = names[(i // 2) % len(names)]
        when = "entry" if i % 2 == 0 else "return"
        if dialect == "btrace":
            probe = f"syscall:{name}:{when}"
            value = "retval" if when == "return" else "arg0"
        else:
            probe = f"tracepoint:syscalls:sys_{'enter' if when == 'entry' else 'exit'}_{name}"
            value = "args.ret" if when == "return" else "args.__syscall_nr"
        rules.append(
            f"{probe} /pid != {i} && 1 + 1 == 2/ {{\n"
            f"  @calls[comm, {i}] = count();\n"
            f"  @total = sum({value});\n"
            f"  if ({i} > 500) {{ @big[tid] = {value} * 2 + {i}; }}\n"
            f'  printf("%s %d\\n", comm, {value});\n'
            f"}}\n")
    return "".join(rules)


CLOCK = time.perf_counter  # --cpu: time.process_time (less sensitive to a loaded machine)


def run_once(src: str, dialect: str) -> tuple[float, float, float]:
    t0 = CLOCK()
    tree = parse(src, "bench.bt", dialect)
    t1 = CLOCK()
    prog = analyze(tree, [])
    t2 = CLOCK()
    run_pipeline(prog)
    t3 = CLOCK()
    return t1 - t0, t2 - t1, t3 - t2


def bench(n: int, dialect: str) -> str:
    src = make_script(n, dialect)
    run_once(src, dialect)  # warm caches (grammar, tracefs formats)
    best = min((run_once(src, dialect) for _ in range(RUNS)), key=sum)
    parse_s, analyze_s, passes_s = best
    return (f"| {dialect} | {n} | {parse_s * 1000:.0f} | {analyze_s * 1000:.0f} | "
            f"{passes_s * 1000:.0f} | {sum(best) * 1000:.0f} |")


def machine() -> str:
    """One line describing where the numbers come from (CPUs, kernel, CPU model, load)."""
    import os
    import platform

    model = "unknown CPU"
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            model = next((line.split(":", 1)[1].strip() for line in f
                          if line.startswith("model name")), model)
    except OSError:
        pass
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    return (f"{os.cpu_count()} CPUs, {model}, Linux {platform.release()}, "
            f"Python {platform.python_version()}, load average {load:.2f}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--probes", type=int, default=1000)
    ap.add_argument("--dialect", choices=("btrace", "bpftrace", "both"), default="both")
    ap.add_argument("--cpu", action="store_true",
                    help="measure CPU time of the process instead of wall time")
    args = ap.parse_args()
    global CLOCK
    if args.cpu:
        CLOCK = time.process_time
    print(f"<!-- {machine()}; {'CPU' if args.cpu else 'wall'} time -->")
    print("| dialect | probes | parse ms | analyze ms | passes ms | total ms |")
    print("|---|---|---|---|---|---|")
    for d in ("btrace", "bpftrace") if args.dialect == "both" else (args.dialect,):
        print(bench(args.probes, d))


if __name__ == "__main__":
    main()
