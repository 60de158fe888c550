"""Every pass keeps the IR valid: a corpus of programs through analyze + the pipeline with
the verifier after each pass."""
import pytest

from btc.ir.passes import run_pipeline
from ir_util import analyze_src

BTRACE = [
    'BEGIN { @m["a"] = count(); @n = 5; @h = hist(5); @l = lhist(12, 10, 30, 10) }',
    'syscall:read:return /retval > 0 && @s[tid]/ { @x = 3 == 1 + 2; @y = retval / 2 % 7 }',
    'BEGIN { $t = (1, "x"); print($t); print($t.1); $t = (2, "longer"); @t = $t }',
    'syscall:open:entry { $n = $n + 1; @c[comm, pid] = max($n); if (comm == "sh") { exit() } }',
    'END { @x[1] = min(1); printf("%d %s %d\\n", @x[1], "s", $1); print(@x, 3); clear(@x) }',
    'profile:hz:99 { @[kstack] = count(); @u[ustack] = count() }',
    'interval:s:1 { time("%H\\n"); zero(@y); @y[1] = sum(2); delete(@y[1]) }',
    'BEGIN { @a = 0 || 1; @b = 1 && 0; if (1) @d = 2; else @c = 1; }',
]
BPFTRACE = [
    'BEGIN { $x = 1; $x += 2; $x++; @a = $x; @b[1, "x"]++; @c = $x > 2 ? "y" : "no" }',
    'tracepoint:syscalls:sys_enter_openat /args.dfd != 0/ { @[str(args.filename)] = count() }',
    'kprobe:vfs_read { @s = stats(arg2); @v = avg(arg2); @h[pid] = hist(arg2, 3) }',
    'kretprobe:vfs_read /(int64)retval < 0/ { @err[-(int64)retval] = count() }',
    'BEGIN { $i = 0; while ($i < 5) { $i++; if ($i == 3) { continue } @w[$i] = 1 } }',
    'BEGIN { unroll(3) { @u = @u + 1 } @k = (uint8)300; @n = sizeof(uint32); exit(2) }',
    'rawtracepoint:sched_switch { @[arg0 % 8] = lhist(arg1, 0, 100, 10) }',
    'BEGIN { if (strncmp(comm, "bpf", 3) == 0) { printf("%s %lu\\n", comm, nsecs) } }',
    'BEGIN { @m[1] = 2; @h = has_key(@m, 1); delete(@m, 1); print(@m, 1, 2) }',
    'tracepoint:sched:sched_switch { @[args.prev_comm] = count(); @p = args.prev_pid * -1 }',
]


@pytest.mark.parametrize("src", BTRACE)
def test_btrace_corpus(src):
    run_pipeline(analyze_src(src, "btrace", ["7"]), verify=True)


@pytest.mark.parametrize("src", BPFTRACE)
def test_bpftrace_corpus(src):
    run_pipeline(analyze_src(src, "bpftrace", ["7"]), verify=True)


# ---------------------------------------------------------------- generated programs

import random

from btc.diagnostics import BtcError

INTS = ["1", "pid", "nsecs", "$1", "@i[1]", "@i[pid]", "$x", "$t.0", "pid * 3 - 1", "pid / 0",
        "pid % 7", "(pid == 1)", "pid && 0", "0 || tid", "5 - 9"]
STRS = ['"s"', "comm", "probe", '"longer string"']
STMTS = ["@i[{i}] = {i}", "$x = {i}", 'printf("%d %s\\n", {i}, {s})', "print({i})",
         'if ({i}) {{ @z = {i} }} else {{ @w[{s}] = count() }}', "@h = hist({i})",
         "@s[{s}, {i}] = sum({i})", "@mn = min({i})", "$t = ({i}, {s})", "@str = {s}",
         'if ({s} == "s") {{ exit() }}', "@l = lhist({i}, 0, 100, 10)", "delete(@i[{i}])"]
PROBES = {"btrace": ["BEGIN", "syscall:read:entry", "syscall:read:return", "END"],
          "bpftrace": ["BEGIN", "tracepoint:sched:sched_switch", "rawtracepoint:sched_switch"]}


def generated(seed: int, dialect: str) -> str:
    rnd = random.Random(seed)
    rules = []
    for probe in rnd.sample(PROBES[dialect], rnd.randint(1, 3)):
        body = ["$x = 1", '$t = (1, "s")'] + [
            rnd.choice(STMTS).format(i=rnd.choice(INTS), s=rnd.choice(STRS))
            for _ in range(rnd.randint(1, 5))]
        filt = f" /{rnd.choice(INTS)}/" if rnd.random() < 0.4 else ""
        text = " ".join(st if st.endswith("}") else st + ";" for st in body)
        rules.append(f"{probe}{filt} {{ {text} }}")
    # bpftrace needs every map read to be stored somewhere
    rules.append("END { @i[1] = 1 }" if "END" not in " ".join(rules) else "")
    return "\n".join(rules)


@pytest.mark.parametrize("seed", range(40))
def test_generated_programs_keep_valid_ir(seed):
    dialect = ("btrace", "bpftrace")[seed % 2]
    src = generated(seed, dialect)
    try:
        prog = analyze_src(src, dialect, ["5"])
    except BtcError as e:  # user errors are fine; compiler bugs are not
        assert "internal error" not in e.message, src
        return
    run_pipeline(prog, verify=True)
