"""Start-up time of `btc run -e 'BEGIN { exit() }'`: cold (compiling), from the compile cache,
and from a compiled object, against `bpftrace -e 'BEGIN { exit() }'`, in one interleaved run.

Each round runs every variant once, in turn, so machine load hits them alike; the table gives
the best and the median wall time and CPU time (user + system) per variant. Each btc variant
runs twice: as the installed `btc` script, and as `python -S -m btc.cli` with the source tree
and site-packages on PYTHONPATH (no `.pth` files: what a regular, non-editable install costs).
Bytecode is written to a temporary PYTHONPYCACHEPREFIX, as `pip install` would. Needs root.

    python benchmarks/bench_startup.py [--rounds N] [--markdown] [--before DIR]

--before DIR adds the same three starts run from another btc tree (for an A/B against an
earlier commit: `git archive HEAD | tar -x -C DIR`), as `python -S -m btc.cli` and as
`python -m btc.cli` with DIR first on PYTHONPATH, next to this tree's starts run the same way.
"""
from __future__ import annotations

import argparse
import os
import resource
import shutil
import site
import statistics
import subprocess
import sys
import tempfile
import time

PROGRAM = "BEGIN { exit() }"
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def btc_command() -> list[str]:
    """The installed `btc` script next to this interpreter (what users run), else -m."""
    script = os.path.join(os.path.dirname(sys.executable), "btc")
    if os.path.exists(script):
        return [script]
    return [sys.executable, "-m", "btc.cli"]


def variants(work: str) -> dict[str, tuple[list[str], dict]]:
    btc = btc_command()
    base = dict(os.environ)
    base.pop("BTC_NO_CACHE", None)
    # Measure btc as installed (pip compiles bytecode): with PYTHONDONTWRITEBYTECODE and no
    # .pyc files, every start would compile btc's sources first. The prefix keeps the tree clean.
    base.pop("PYTHONDONTWRITEBYTECODE", None)
    base["PYTHONPYCACHEPREFIX"] = os.path.join(work, "pycache")
    cold = dict(base, BTC_NO_CACHE="1")
    cached = dict(base, BTC_CACHE_DIR=os.path.join(work, "cache"))
    obj = os.path.join(work, "exit.o")
    subprocess.run(btc + ["compile", "-e", PROGRAM, "-o", obj], check=True, env=cold)
    subprocess.run(btc + ["run", "-e", PROGRAM], check=True, env=cached,
                   stdout=subprocess.DEVNULL)  # fills the cache
    out = {
        "btc cold (compile)": (btc + ["run", "-e", PROGRAM], cold),
        "btc cached": (btc + ["run", "-e", PROGRAM], cached),
        "btc object": (btc + ["run", obj], base),
    }
    bpftrace = shutil.which("bpftrace")
    if bpftrace:
        out["bpftrace"] = ([bpftrace, "-e", PROGRAM], base)
    out["python -c pass (floor)"] = ([sys.executable, "-c", "pass"], base)
    # `python -m` instead of the console script (runpy's imports instead of the script's)
    out["btc object, python -m btc.cli"] = ([sys.executable, "-m", "btc.cli", "run", obj], base)
    # The btc variants without `site`'s .pth files (the editable-install finder of
    # `pip install -e`, ~35 ms, and this sandbox's own): a regular install, minus the sandbox.
    plain = [sys.executable, "-S", "-m", "btc.cli"]
    path = os.pathsep.join([ROOT, *site.getsitepackages()])
    for name, (argv, env) in list(out.items()):
        if name.startswith("btc") and "python -m" not in name:
            out[name + ", python -S"] = (plain + argv[len(btc):], dict(env, PYTHONPATH=path))
    out["python -S -c pass (floor)"] = ([sys.executable, "-S", "-c", "pass"], base)
    return out


def tree_variants(work: str, tree: str, label: str) -> dict[str, tuple[list[str], dict]]:
    """The cold, cached and object starts of the btc in `tree`, with and without `site`."""
    base = dict(os.environ)
    for var in ("BTC_NO_CACHE", "PYTHONDONTWRITEBYTECODE"):
        base.pop(var, None)
    base["PYTHONPYCACHEPREFIX"] = os.path.join(work, "pycache-" + label)
    plain = dict(base, PYTHONPATH=os.pathsep.join([tree, *site.getsitepackages()]))
    with_site = dict(base, PYTHONPATH=tree)
    obj = os.path.join(work, label + "-exit.o")
    cache = os.path.join(work, "cache-" + label)
    starts = {"cold": (["run", "-e", PROGRAM], {"BTC_NO_CACHE": "1"}),
              "cached": (["run", "-e", PROGRAM], {"BTC_CACHE_DIR": cache}),
              "object": (["run", obj], {})}
    out = {}
    for how, interp, env in (("python -m", [sys.executable], with_site),
                             ("python -S", [sys.executable, "-S"], plain)):
        for name, (args, extra) in starts.items():
            out[f"{label}: {name}, {how}"] = (interp + ["-m", "btc.cli"] + args, dict(env, **extra))
    cli = [sys.executable, "-S", "-m", "btc.cli"]
    subprocess.run(cli + ["compile", "-e", PROGRAM, "-o", obj], check=True, env=plain)
    subprocess.run(cli + ["run", "-e", PROGRAM], check=True, stdout=subprocess.DEVNULL,
                   env=dict(plain, BTC_CACHE_DIR=cache))  # fills the cache
    return out


def measure(cmds: dict[str, tuple[list[str], dict]], rounds: int) -> dict[str, list[tuple[float, float]]]:
    """(wall s, CPU s = user + system of the child) per run. CPU time is the steadier figure
    on a loaded machine: waiting for a CPU adds to the wall time only."""
    times: dict[str, list[tuple[float, float]]] = {k: [] for k in cmds}
    for argv, env in cmds.values():  # warm-up: bytecode and page caches
        subprocess.run(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(rounds):
        for name, (argv, env) in cmds.items():
            r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
            t0 = time.perf_counter()
            res = subprocess.run(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
            wall = time.perf_counter() - t0
            r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
            cpu = (r1.ru_utime - r0.ru_utime) + (r1.ru_stime - r0.ru_stime)
            times[name].append((wall, cpu))
            if res.returncode != 0:
                sys.exit(f"{name} failed: {res.stderr.decode(errors='replace')}")
    return times


def report(times: dict[str, list[tuple[float, float]]], markdown: bool) -> str:
    def stats(name: str, i: int) -> tuple[float, float]:
        vals = [t[i] * 1e3 for t in times[name]]
        return min(vals), statistics.median(vals)

    ref = stats("bpftrace", 0) if "bpftrace" in times else None
    lines = []
    if markdown:
        lines += ["| variant | wall best ms | wall median ms | CPU best ms | CPU median ms "
                  "| wall best / bpftrace | wall median / bpftrace |", "|---|---|---|---|---|---|---|"]
    for name in times:
        (wb, wm), (cb, cm) = stats(name, 0), stats(name, 1)
        rb = f"{wb / ref[0]:.2f}" if ref else "–"
        rm = f"{wm / ref[1]:.2f}" if ref else "–"
        if markdown:
            lines.append(f"| {name} | {wb:.0f} | {wm:.0f} | {cb:.0f} | {cm:.0f} | {rb} | {rm} |")
        else:
            lines.append(f"{name:32} wall best {wb:5.0f} median {wm:5.0f}  CPU best {cb:5.0f} "
                         f"median {cm:5.0f} ms  x{rb} (best)  x{rm} (median)")
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=15)
    ap.add_argument("--markdown", action="store_true", help="print a Markdown table")
    ap.add_argument("--before", metavar="DIR", help="also time the btc tree in DIR (A/B)")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="btc-bench-") as work:
        os.chdir(work)  # `python -m` puts the working directory first on sys.path
        cmds = variants(work)
        if args.before:
            cmds.update(tree_variants(work, os.path.abspath(args.before), "before"))
            cmds.update(tree_variants(work, ROOT, "after"))
        times = measure(cmds, args.rounds)
    load = os.getloadavg()[0]
    print(f"{args.rounds} interleaved rounds; btc = {' '.join(btc_command())}; "
          f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, load average {load:.1f} at the end")
    print(report(times, args.markdown))


if __name__ == "__main__":
    main()
