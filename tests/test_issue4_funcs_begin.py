"""Issue 4 functions on the live kernel (bpftrace dialect): strncmp, strcontains, has_key,
sizeof, buf with %r/%rx/%rh, ntop, cat, system and signal (--unsafe), bounded loops with
break/continue. One BEGIN program checks most of them at once to keep the suite fast."""
from __future__ import annotations

import pytest

from ir_util import messages
from kernel import require_bpf
from run_util import run_btc

PROGRAM = r"""BEGIN {
  @m[1] = 2; @m[3] = 4;
  printf("strncmp %d %d %d\n", strncmp("abc", "abd", 2), strncmp("abc", "abd", 3), strncmp(comm, comm, 16));
  printf("has_key %d %d\n", has_key(@m, 1), has_key(@m, 5));
  printf("sc %d %d %d %d %d\n", strcontains("hello world", "o w"), strcontains("hello", "xyz"),
         strcontains("abc", ""), strcontains("ab", "abc"), strcontains(comm, "trace"));
  printf("ntop %s %s %s\n", ntop(2, 0x0100007f), ntop(0x0101a8c0), ntop(2, 0));
  $b = buf("ab\x01~", 4);
  printf("buf %r|%rx|%rh\n", $b, $b, $b);
  print(ntop(2, 0x0100007f));
  print($b);
  printf("sizeof %d %d %d\n", sizeof(uint32), sizeof(uint8), sizeof(comm));
  $i = 0;
  while ($i < 10) { $i++; if ($i == 7) { break; } }
  $odd = 0; $j = 0;
  while ($j < 10) { $j++; if ($j % 2 == 0) { continue; } $odd++; }
  $k = 0;
  unroll(5) { $k += 2; }
  $w = 0;
  while ($w < 10) { $w++; }
  printf("loops %d %d %d %d\n", $i, $odd, $k, $w);
  cat("%s", "/proc/sys/kernel/ostype");
  exit();
}
"""

EXPECTED = r"""Attaching 1 probe...
strncmp 0 1 0
has_key 1 0
sc 1 0 1 0 1
ntop 127.0.0.1 192.168.1.1 0.0.0.0
buf ab\x01~|\x61\x62\x01\x7e|61 62 01 7e
127.0.0.1
ab\x01~
sizeof 4 1 16
loops 7 5 10 10
Linux
"""


@pytest.fixture
def bpf():
    require_bpf()


def test_functions_in_begin(bpf):
    r = run_btc("--dialect", "bpftrace", "-e", PROGRAM)
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith(EXPECTED), r.stdout


def test_system_needs_unsafe(bpf):
    prog = 'BEGIN { system("echo sys %d $((1+2))", 42); printf("after\\n"); exit(); }'
    r = run_btc("--dialect", "bpftrace", "-e", prog)
    assert r.returncode != 0
    assert "system() is an unsafe function being used in safe mode" in r.stderr
    assert r.stdout == ""
    r = run_btc("--dialect", "bpftrace", "--unsafe", "-e", prog)
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith("Attaching 1 probe...\nsys 42 3\nafter\n"), r.stdout


def test_signal_kills_the_child(bpf):
    """signal("KILL") from the child's own syscall: the child dies at once (not after 30 s)."""
    prog = ('tracepoint:syscalls:sys_enter_clock_nanosleep /pid == cpid/ '
            '{ signal("KILL"); printf("sent\\n"); }')
    r = run_btc("--dialect", "bpftrace", "-e", prog, "-c", "sleep 30", timeout=25)
    assert r.returncode != 0 and "signal() is an unsafe function" in r.stderr
    r = run_btc("--dialect", "bpftrace", "--unsafe", "-c", "sleep 30", "-e", prog, timeout=25)
    assert "sent" in r.stdout, (r.stdout, r.stderr)


def test_cat_missing_file(bpf):
    r = run_btc("--dialect", "bpftrace", "-e", 'BEGIN { cat("/nonexistent/x"); exit(); }')
    assert r.returncode == 0
    assert "failed to open file '/nonexistent/x'" in r.stderr


@pytest.mark.parametrize("prog, message", [
    ('BEGIN { printf("%d\\n", strcontains(1, "a")); }', "strcontains() expects string arguments"),
    ('BEGIN { printf("%r\\n", 1); }', "%r specifier expects a value of type buffer"),
    ('BEGIN { printf("%d\\n", sizeof(struct foo)); }', 'Cannot resolve unknown type "struct foo"'),
    ('BEGIN { printf("%d\\n", offsetof(struct foo, x)); }', 'Cannot resolve unknown type "struct foo"'),
    ('BEGIN { signal("NOPE"); }', "Invalid string for signal: NOPE"),
    ('BEGIN { $b = buf(0, 1000); }', "buf: length must be 1..64"),
])
def test_compile_errors(prog, message):
    got = messages(prog, "bpftrace")
    assert any(message in m for m in got), got


FOR_PROGRAM = r"""BEGIN {
  @m[1] = 10; @m[2] = 20; @m[3] = 30;
  @s["a"] = count(); @s["b"] = count(); @s["b"] = count();
  printf("len %d %d\n", len(@m), len(@s));
  for ($kv : @m) {
    $i = 0;
    while ($i < 5) { $i++; if ($i == 3) { break; } }
    @t += $kv.1 + $i;
    if ($kv.0 == 2) { continue; }
    @seen[$kv.0] = $kv.1;
  }
  for ($e : @s) { @copy[$e.0] = $e.1; }
  @n = 0;
  for ($e : @m) { @n += 1; break; }
  printf("t=%d n=%d\n", @t, @n);
  clear(@m); clear(@s);
  exit();
}
"""

FOR_EXPECTED = """Attaching 1 probe...
len 3 2
t=69 n=1


@copy[a]: 1
@copy[b]: 2

@n: 1

@seen[1]: 10
@seen[3]: 30
@t: 69
"""


def test_for_and_len(bpf):
    """for over a map (callback subprogram), break/continue in it, len(@m)."""
    r = run_btc("--dialect", "bpftrace", "-e", FOR_PROGRAM)
    assert r.returncode == 0, r.stderr
    assert r.stdout == FOR_EXPECTED, r.stdout


@pytest.mark.parametrize("prog, message", [
    ('BEGIN { $kv = 1; @m[1] = 1; for ($kv : @m) { } }', "Loop declaration shadows existing variable: $kv"),
    ('BEGIN { @m[1] = hist(1); for ($kv : @m) { } }', "Loop expression does not support type: hist_t"),
    ('BEGIN { @x = 1; for ($kv : @x) { } }', "@x has no keys"),  # len(@x) is 1 (0.23)
])
def test_for_errors(prog, message):
    got = messages(prog, "bpftrace")
    assert any(message in m for m in got), got


def test_join_argv(bpf):
    prog = ('tracepoint:syscalls:sys_enter_execve /pid == cpid/ '
            '{ join(args.argv); join(args.argv, ","); exit(); }')
    r = run_btc("--dialect", "bpftrace", "-c", "/bin/echo a bb ccc", "-e", prog)
    assert r.returncode == 0, r.stderr
    assert "/bin/echo a bb ccc\n/bin/echo,a,bb,ccc\n" in r.stdout, r.stdout
