"""`for ($kv : @m)` bodies that share the probe's locals and read its context (bpftrace
dialect). bpftrace 0.22+ passes the addresses of locals assigned before the loop to the
bpf_for_each_map_elem callback, so the body reads and writes them; btc does the same. As in
0.23, `args`, `ctx`, `argN`, `sargN` and `retval` in a body are errors (their values reach the
body through locals); stacks and `probe` work there (btc passes the probe's ctx to the
callback for them). Aggregation values are summed over CPUs.

Hash maps iterate in a seeded order: each program's output is order-independent."""
from __future__ import annotations

import os
import re

import pytest

from ir_util import analyze_src, errors_of, messages, where
from kernel import require_bpf, require_uprobes
from run_util import run_btc
from btc.ir import nodes as ir
from btc.ir.printer import format_program


def _run(prog: str, *args: str) -> str:
    r = run_btc("--dialect", "bpftrace", *args, "-e", prog)
    assert r.returncode == 0, r.stderr
    return r.stdout


def _for_stmt(src: str) -> ir.ForMap:
    body = analyze_src(src, "bpftrace").functions[0].body
    return next(s for s in body if isinstance(s, ir.ForMap))


# ---------------------------------------------------------------- analysis (no kernel)


def test_captures_are_outer_locals_the_body_uses():
    s = _for_stmt('BEGIN { @map[0] = 1; $var1 = 123; $var2 = "abc"; $var3 = "def"; '
                  'for ($kv : @map) { $var1 = 456; print($var3); $own = 1; } }')
    assert s.captures == ("var1", "var3")  # bpftrace's for_loop_variables_multiple
    assert _for_stmt('BEGIN { @map[0] = 1; for ($kv : @map) { $var = 2; print($var); } '
                     '$var = 3; }').captures == ()


def test_ir_text_names_the_shared_locals():
    text = format_program(analyze_src(
        'BEGIN { $n = 0; @m[1] = 1; for ($kv : @m) { $n++; } print($n); }', "bpftrace"))
    assert "  for $kv:(int64, int64) in @m sharing $n" in text, text


def test_shared_local_keeps_one_type():
    s = _for_stmt('BEGIN { $s = "ab"; @m[1] = 1; for ($kv : @m) { $s = "longer"; } }')
    assigned = s.body[0]
    assert isinstance(assigned, ir.LocalSet) and str(assigned.value.type) == "string[7]"


@pytest.mark.parametrize("src, message, span", [
    ("BEGIN {\n  $kv = 1;\n  @map[0] = 1;\n  for ($kv : @map) { }\n}",
     "Loop declaration shadows existing variable: $kv", (4, 8, 4, 11)),
    ("BEGIN { @map[0] = 1; for ($kv : @map) { $var = 2; } print($var); }",
     "Undefined or undeclared variable: $var", None),
    ("BEGIN { @map[0] = 1; for ($kv : @map) { print($kv); } print($kv); }",
     "Undefined or undeclared variable: $kv", None),
    ("BEGIN { @map[0] = hist(10); for ($kv : @map) { } }",
     "Loop expression does not support type: hist_t", None),
    ("BEGIN { @map[0] = lhist(10, 0, 10, 1); for ($kv : @map) { } }",
     "Loop expression does not support type: lhist_t", None),
    ("BEGIN { @map[0] = stats(10); for ($kv : @map) { } }",
     "Loop expression does not support type: stats_t", None),
])
def test_errors_as_bpftrace(src, message, span):
    errs = errors_of(src, "bpftrace")
    assert [e.message for e in errs] == [message]
    if span is not None:
        assert where(errs[0]) == span


# ---------------------------------------------------------------- on the kernel

SHARED = r"""BEGIN {
  $n = 0; $s = "pre"; $unused = 5;
  @m[1] = 10; @m[2] = 20; @m[3] = 30;
  for ($kv : @m) {
    $n += $kv.1;
    @label[$kv.0] = $s;
    $t = $kv.0 * 2;
    @double[$kv.0] = $t;
    if ($kv.0 == 2) { $s = "two"; }
  }
  printf("n=%d s=%s\n", $n, $s);
  $total = 0; $pairs = 0;
  for ($a : @m) { for ($b : @m) { $total += $a.1 * $b.0; $pairs++; } }
  printf("total=%d pairs=%d\n", $total, $pairs);
  clear(@m);
  exit();
}"""


def test_body_reads_and_writes_outer_locals():
    """Writes in the body are seen after the loop; strings too; nested loops share the
    probe's locals through both frames. @label's values depend on the walk order, so only
    the set of labels is checked."""
    require_bpf()
    out = _run(SHARED)
    head, _, maps = out.partition("\n\n\n")
    assert head == "Attaching 1 probe...\nn=60 s=two\ntotal=360 pairs=9"
    assert "@double[1]: 2\n@double[2]: 4\n@double[3]: 6\n" in maps
    labels = [line.split(": ")[1] for line in maps.splitlines() if line.startswith("@label[")]
    assert len(labels) == 3 and set(labels) <= {"pre", "two"} and "pre" in labels


def test_body_locals_are_their_own_scope():
    """A body-local `$x` (a string) and the probe's later `$x` (an integer) are different
    variables, as with bpftrace 0.22+'s block scoping; a shared local whose only read-free
    stores are in the body still has its slot in the probe."""
    require_bpf()
    out = _run('BEGIN { $n = 0; @m[1] = 1; for ($kv : @m) { $x = "abc"; print($x); $n = 5; } '
               '$x = 5; print($x); exit(); }')
    assert out == "Attaching 1 probe...\nabc\n5\n\n\n@m[1]: 1\n"


AGGS = r"""BEGIN {
  @c[1] = count(); @c[1] = count();
  @s[2] = sum(5); @s[2] = sum(-7);
  @mn[3] = min(9); @mn[3] = min(4);
  @mx[4] = max(-3); @mx[4] = max(-8);
  @a[5] = avg(10); @a[5] = avg(21);
  for ($kv : @c) { printf("count %d %d\n", $kv.0, $kv.1); }
  for ($kv : @s) { printf("sum %d %d\n", $kv.0, $kv.1); }
  for ($kv : @mn) { printf("min %d %d\n", $kv.0, $kv.1); }
  for ($kv : @mx) { printf("max %d %d\n", $kv.0, $kv.1); }
  for ($kv : @a) { printf("avg %d %d\n", $kv.0, $kv.1); }
  clear(@c); clear(@s); clear(@mn); clear(@mx); clear(@a);
  exit();
}"""


def test_aggregation_values():
    require_bpf()
    out = _run(AGGS)
    assert out.split("\n\n")[0] == ("Attaching 1 probe...\ncount 1 2\nsum 2 -2\nmin 3 4\n"
                                     "max 4 -3\navg 5 15"), out


def test_count_summed_over_cpus():
    """Two counts on CPU 0 and one on CPU 1: the loop sees 3 (the callback alone sees only
    the running CPU's slot)."""
    require_bpf()
    if len(os.sched_getaffinity(0)) < 2:
        pytest.skip("needs two CPUs")
    cpus = sorted(os.sched_getaffinity(0))[:2]
    script = (f"import os; os.sched_setaffinity(0, {{{cpus[0]}}}); os.getppid(); os.getppid(); "
              f"os.sched_setaffinity(0, {{{cpus[1]}}}); os.getppid(); os.kill(os.getpid(), 0)")
    prog = ("tracepoint:syscalls:sys_enter_getppid /pid == cpid/ { @c[comm] = count(); } "
            "tracepoint:syscalls:sys_enter_kill /pid == cpid/ { "
            "for ($kv : @c) { printf(\"seen %d\\n\", $kv.1); } clear(@c); exit(); }")
    out = _run(prog, "-c", f"python3 -c '{script}'")
    assert [ln for ln in out.splitlines() if ln.startswith("seen")] == ["seen 3"], out


def test_tracepoint_args_through_locals_and_stack_in_body():
    """args reach the body through locals assigned before the loop; kstack is read there."""
    require_bpf()
    prog = r"""tracepoint:syscalls:sys_enter_kill /pid == cpid/ {
  @k[1] = 1; @k[2] = 2;
  $sig = args.sig; $same = args.pid == pid; $want = args.sig + 100;
  for ($kv : @k) {
    @sig[$kv.0] = $sig;
    @ok[$kv.0] = ($same, $want);
    @st[kstack(1)] = count();
  }
  clear(@k);
  exit();
}"""
    out = _run(prog, "-c", "python3 -c 'import os; os.kill(os.getpid(), 0)'")
    lines = out.splitlines()
    for want in ("@ok[1]: (1, 100)", "@ok[2]: (1, 100)", "@sig[1]: 0", "@sig[2]: 0"):
        assert want in lines, out
    assert re.search(r"\n@st\[\n {8}\w+\+\d+\n\]: 2\n$", out), out  # one frame, both passes


@pytest.mark.parametrize("probe, use, name", [
    ("tracepoint:syscalls:sys_enter_kill", "args.sig", "args"),
    ("uprobe:libc:kill", "arg0", "arg0"),
    ("uprobe:libc:kill", "sarg1", "sarg1"),
    ("uretprobe:libc:getppid", "retval", "retval"),
])
def test_context_reads_in_body_are_errors(probe, use, name):
    """bpftrace 0.23's rule and words (semantic_analyser.cpp, visit(For))."""
    src = f"{probe} {{ @k[1] = 1; for ($kv : @k) {{ @x = {use}; }} }}"
    errs = messages(src, "bpftrace")
    assert f"'{name}' builtin is not allowed in a for-loop" in errs, errs


def test_uprobe_arg_and_retval_through_locals():
    require_uprobes()
    prog = r"""uprobe:libc:kill /pid == cpid/ { @k[2] = 2; $a0 = arg0 == pid; $a1 = arg1;
  for ($kv : @k) { if ($kv.0 == 2) { printf("kill %d %d %d\n", $kv.0, $a0, $a1); } } }
uretprobe:libc:getppid /pid == cpid/ { @k[1] = 1; $r = retval;
  for ($kv : @k) { if ($kv.0 == 1) { printf("getppid>0 %d\n", $r > 0); } } }"""
    out = _run(prog, "-c", "python3 -c 'import os; os.getppid(); os.kill(os.getpid(), 0)'")
    assert [ln for ln in out.splitlines() if ln.startswith(("kill", "getppid"))] == \
        ["getppid>0 1", "kill 2 1 0"], out


def test_documented_multi_key_example():
    """The bpftrace 0.23 man page example: nested tuples for several keys."""
    require_bpf()
    out = _run("BEGIN { @map[10, 11] = 20; for ($kv : @map) { print($kv.0.0); print($kv.0.1); "
               "print($kv.1); } exit(); }")
    assert out == "Attaching 1 probe...\n10\n11\n20\n\n\n@map[10, 11]: 20\n"
