"""bpftrace 0.23 conformance (`--dialect bpftrace`): the rules found by running bpftrace's own
runtime suite (tests/runtime at v0.23.5) through btc, pinned with our own small programs.
Every test is a real `btc` run on the kernel; outputs are compared exactly."""
from __future__ import annotations

import json
import shutil

import pytest

from btc.driver import params_shape
from btc.probes.base import parse_count
from tests.kernel import require_bpf
from tests.run_util import run_btc

BT = ("--dialect", "bpftrace")


@pytest.fixture
def bpf():
    require_bpf()


def run_bt(src: str, *args: str, opts: tuple[str, ...] = (), input: str | None = None):
    return run_btc(*BT, "-q", *opts, "-e", src, *args, timeout=120, input=input)


def out_of(src: str, *args: str, opts: tuple[str, ...] = ()) -> str:
    res = run_bt(src, *args, opts=opts)
    assert res.returncode == 0, res.stderr
    return res.stdout


def error_of(src: str, *args: str) -> str:
    res = run_bt(src, *args)
    assert res.returncode != 0 and res.stdout == ""
    return res.stderr


# ------------------------------------------------------------------ ++ and -- as values


def test_increment_values_on_locals(bpf):
    # each `++`/`--` value is taken when it runs, left to right, as in C
    src = 'BEGIN { $x = 5; printf("%d %d %d %d %d\\n", ++$x, $x++, $x--, --$x, $x); exit() }'
    assert out_of(src) == "6 6 7 5 5\n\n\n"


def test_increment_values_on_map_entries(bpf):
    src = ('BEGIN { @m["a"] = 10; printf("%d", @m["a"]++); printf(" %d", ++@m["a"]); '
           'printf(" %d", @m["a"]--); printf(" %d\\n", --@m["a"]); exit() }')
    assert out_of(src) == '10 12 12 10\n\n\n@m[a]: 10\n'


def test_increment_value_feeds_an_aggregation_in_a_loop(bpf):
    src = "BEGIN { $i = 1; while ($i <= 10) { @s = sum($i++); } @n = $i; exit() }"
    assert out_of(src) == "\n\n@n: 11\n@s: 55\n"


def test_increment_value_where_it_would_run_conditionally_is_refused(bpf):
    src = "BEGIN { $i = 0; $j = $i > 0 ? $i++ : 0; while ($i++ < 3) { } exit() }"
    err = error_of(src)
    lines = err.splitlines()
    assert lines[0] == ("stdin:1:31-35: ERROR: '++' as a value is not supported by btc in a loop "
                        "condition, after && or ||, or in a ternary branch")
    assert lines[3].startswith("stdin:1:48-52: ERROR: '++' as a value")
    assert "Traceback" not in err


def test_increment_value_in_a_filter_is_refused(bpf):
    err = error_of("BEGIN /@n++ == 0/ { exit() }")
    assert err.splitlines()[0] == "stdin:1:8-12: ERROR: '++' can only be used as a statement here"


# ------------------------------------------------------------------ len() of a keyless map


def test_len_of_a_keyless_map_counts_its_one_entry(bpf):
    src = 'BEGIN { @ = 0; printf("%d", len(@)); delete(@); printf(" %d\\n", len(@)); exit() }'
    assert out_of(src).startswith("1 0\n")


# ------------------------------------------------------------------ positional parameters


POSITIONAL_CONSTS = ('BEGIN { @h = lhist(7, 0, $1, $2); @b = buf("abcdef", $3); '
                     'if (strncmp("abcX", "abcY", $3) == 0) { printf("same prefix\\n"); } '
                     '$n = 0; unroll ($3) { $n = $n + 1; } printf("n=%d\\n", $n); exit() }')


def test_positional_parameters_as_constant_arguments(bpf):
    assert out_of(POSITIONAL_CONSTS, "10", "5", "3") == (
        "same prefix\nn=3\n\n\n@b: abc\n@h:\n[5, 10)                1 "
        "|@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@|\n\n")
    # other values make another program (the compile cache keys on them)
    assert out_of(POSITIONAL_CONSTS, "20", "2", "4") == (
        "n=4\n\n\n@b: abcd\n@h:\n[6, 8)                 1 "
        "|@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@|\n\n")


def test_cache_keys_on_positional_constant_arguments():
    assert params_shape(POSITIONAL_CONSTS, "bpftrace", ["1", "2", "3"]) == ["=1", "=2", "=3"]
    assert params_shape("BEGIN { unroll($1) { } }", "bpftrace", ["4"]) == ["=4"]
    assert params_shape('BEGIN { printf("%d", $1) }', "bpftrace", ["4"]) == ["n"]


def test_positional_string_comparison_fits_the_stack(bpf):
    src = 'BEGIN { if (str($1) == str($2)) { printf("same %s\\n", str($1)); } else { printf("differ\\n"); } exit() }'
    assert out_of(src, "hello", "hello") == "same hello\n\n\n"
    assert out_of(src, "hello", "help") == "differ\n\n\n"


# ------------------------------------------------------------------ unroll, config, bswap


def test_unroll_bounds_use_bpftrace_words_and_span(bpf):
    err = error_of("BEGIN { $a = 0; unroll (101) { $a++; } exit() }")
    assert err.splitlines()[0] == "stdin:1:17-29: ERROR: unroll maximum value is 100"
    err = error_of("BEGIN { $a = 0; unroll(0) { $a++; } exit() }")
    assert err.splitlines()[0] == "stdin:1:17-26: ERROR: unroll minimum value is 1"


def test_on_stack_limit_config_is_accepted(bpf):
    src = 'config = { on_stack_limit = 0 } BEGIN { print((1, ("two", 3))); exit() }'
    assert out_of(src) == "(1, (two, 3))\n\n\n"


def test_bswap_reverses_the_bytes_of_each_width(bpf):
    src = ('BEGIN { printf("%llx %x %x %x %x\\n", bswap(0x0102030405060708), bswap((int32)0x11223344), '
           'bswap((uint16)0xabcd), bswap((uint8)0x7f), bswap(bswap((uint16)0x1234))); '
           '@neg = bswap((int16)-2); exit() }')
    assert out_of(src) == "807060504030201 44332211 cdab 7f 1234\n\n\n@neg: 65279\n"


def test_bswap_refuses_a_string(bpf):
    err = error_of('BEGIN { @ = bswap("ab"); exit() }')
    assert err.splitlines()[0] == ("stdin:1:19-23: ERROR: bswap() only supports integer arguments "
                                   "(string[3] provided)")


# ------------------------------------------------------------------ output


def test_json_records_for_system_and_cat(bpf, tmp_path):
    f = tmp_path / "data.txt"
    f.write_text("line one\n")
    src = f'BEGIN {{ system("echo a b"); cat("{f}"); exit() }}'
    res = run_bt(src, opts=("-f", "json", "--unsafe"))
    assert res.returncode == 0, res.stderr
    records = [json.loads(line) for line in res.stdout.splitlines()]
    assert records == [{"type": "syscall", "data": "a b\n"}, {"type": "cat", "data": "line one\n"}]


def test_script_piped_on_stdin(bpf):
    res = run_btc(*BT, "-", "piped", input='BEGIN { printf("%s\\n", str($1)); exit() }', timeout=120)
    assert res.returncode == 0, res.stderr
    assert res.stdout == "Attaching 1 probe...\npiped\n\n\n"


# ------------------------------------------------------------------ probes


def test_probe_counts_take_scientific_notation_and_separators():
    assert parse_count("1e6") == 1_000_000
    assert parse_count("5E2") == 500
    assert parse_count("1_000") == 1000
    assert parse_count("0x10") == 16
    assert parse_count("12e2") is None  # coefficient must be one digit (bpftrace)
    assert parse_count("1e17") is None


def test_interval_and_software_counts_in_scientific_notation(bpf):
    src = ('interval:ms:1e2 { printf("tick\\n"); exit() } '
           'software:cpu-clock:1e9 { printf("never\\n") }')
    assert out_of(src) == "tick\n\n\n"


@pytest.mark.skipif(shutil.which("bash") is None, reason="needs bash")
def test_probes_on_one_uprobe_fire_in_source_order(bpf):
    bash = shutil.which("bash")
    src = (f'uprobe:{bash}:echo_builtin {{ printf("first "); }} '
           f'uprobe:{bash}:echo_builtin {{ printf("second "); }} '
           f'uretprobe:{bash}:echo_builtin {{ printf("ret1 "); }} '
           f'uretprobe:{bash}:echo_builtin {{ printf("ret2\\n"); exit(); }}')
    res = run_bt(src, opts=("-c", f"{bash} -c 'echo hi >/dev/null'"))
    assert res.returncode == 0, res.stderr
    assert res.stdout == "first second ret1 ret2\n\n\n"


@pytest.mark.skipif(shutil.which("bash") is None, reason="needs bash")
def test_uprobe_outside_its_function_is_refused(bpf):
    from btc.probes.uprobe_bounds import function_bounds

    bash = shutil.which("bash")
    start, size, _ = next(f for f in function_bounds(bash) if f[2] == "echo_builtin")
    err = error_of(f"uprobe:{bash}:echo_builtin+{size} {{ exit() }}")
    assert err.splitlines()[0].endswith(
        f"ERROR: Offset outside the function bounds ('echo_builtin' size is {size})")
    err = error_of(f"uprobe:{bash}:10 {{ exit() }}")
    assert err.splitlines()[0].endswith(f"ERROR: Could not resolve address: {bash}:0xa")
    err = error_of(f"uretprobe:{bash}:{start + 1} {{ exit() }}")
    assert err.splitlines()[0].endswith(
        "ERROR: uretprobes cannot be attached at function offset. "
        "(address resolved to: echo_builtin+1)")
    # the function's own address is accepted
    res = run_bt(f'uprobe:{bash}:{start} {{ printf("hit\\n"); exit() }}',
                 opts=("-c", f"{bash} -c 'echo hi >/dev/null'"))
    assert res.returncode == 0 and res.stdout == "hit\n\n\n", res.stderr
