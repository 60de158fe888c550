"""Stack/ksym/usym values in the output package: map keys and values, printf, print, JSON,
through the SymbolText callbacks (no kernel: the callbacks are plain functions here)."""
from __future__ import annotations

import struct

import numpy as np

from btc.runtime import output
from btc.runtime.output import Frame, SymbolText, format_stack
from btc.runtime.symbols.stacks import split_stack_id

KSTACK = {"k": "stack", "kind": "kernel"}
USTACK = {"k": "stack", "kind": "user"}
FRAMES = {1: [Frame(0x10, "f", 0x1F), Frame(0x20, "g", 0x22)], 2: [Frame(0x30, "h", 0)]}


def _stack(dialect):
    return lambda value, kind: format_stack(FRAMES.get(value & 0xFFFFFFFF, []), kind, dialect)


def _sym(dialect):
    return SymbolText(stack=_stack(dialect), ksym=lambda a: {0x100: "vfs_read"}.get(a, hex(a)),
                      usym=lambda pid, a: f"u{pid}_{a:x}")


def _count_map(key_td, key_size, rows):
    desc = {"name": "@", "key": key_td, "key_size": key_size, "value_size": 8, "agg": "count",
            "value": {"k": "int", "size": 8, "signed": True}, "percpu": True}
    keys = np.frombuffer(b"".join(k for k, _ in rows), np.uint8).reshape(len(rows), key_size)
    vals = np.array([[c] for _, c in rows], "<i8").view(np.uint8).reshape(len(rows), 1, 8)
    return desc, keys, vals


def test_kstack_key_btrace_and_bpftrace():
    desc, keys, vals = _count_map(KSTACK, 8, [(struct.pack("<Q", 1), 42), (struct.pack("<Q", 2), 1)])
    assert output.format_map(desc, keys, vals, "btrace", stack_text=_sym("btrace")) == (
        "@[\nf+0x1f\ng+0x22\nkernel\n]: 42\n@[\nh\nkernel\n]: 1\n")
    assert output.format_map(desc, keys, vals, "bpftrace", stack_text=_stack("bpftrace")) == (
        "@[\n        h+0\n]: 1\n@[\n        f+31\n        g+34\n]: 42\n")


def test_ksym_and_usym_keys():
    desc, keys, vals = _count_map({"k": "ksym"}, 8, [(struct.pack("<Q", 0x100), 3),
                                                     (struct.pack("<Q", 0x200), 5)])
    assert output.format_map(desc, keys, vals, "bpftrace", stack_text=_sym("bpftrace")) == (
        "@[vfs_read]: 3\n@[0x200]: 5\n")
    desc, keys, vals = _count_map({"k": "usym"}, 16, [(struct.pack("<QQ", 0xABC, 77), 2)])
    assert output.format_map(desc, keys, vals, "btrace", stack_text=_sym("btrace")) == (
        "@[u77_abc]: 2\n")
    line = output.json_map(desc, keys, vals, sym=_sym("bpftrace"))
    assert line == '{"type": "map", "data": {"@": {"u77_abc": 2}}}\n'


def test_tuple_key_with_ustack():
    td = {"k": "tuple", "size": 24, "fields": [{"off": 0, "t": USTACK},
                                               {"off": 8, "t": {"k": "str", "size": 16}}]}
    key = struct.pack("<Q", (1234 << 32) | 2) + b"bash".ljust(16, b"\0")
    desc, keys, vals = _count_map(td, 24, [(key, 7)])
    assert output.format_map(desc, keys, vals, "bpftrace", stack_text=_sym("bpftrace")) == (
        "@[\n        h+0\n, bash]: 7\n")


def test_printf_and_print_of_symbolic_values():
    args = {"k": "tuple", "size": 24, "fields": [{"off": 0, "t": KSTACK},
                                                 {"off": 8, "t": {"k": "ksym"}},
                                                 {"off": 16, "t": {"k": "int", "size": 8,
                                                                   "signed": False}}]}
    desc = {"fmt": "%s|%s|%d\n", "args": args, "arg_kinds": ["stack", "ksym", "int"]}
    payload = struct.pack("<QQQ", 2, 0x100, 5)
    text, warn = output.format_printf(desc, payload, "bpftrace", sym=_sym("bpftrace"))
    assert (text, warn) == ("\n        h+0\n|vfs_read|5\n", [])
    text, _ = output.format_printf(desc, payload, "btrace", sym=_sym("btrace"))
    assert text == "\nh\nkernel\n|vfs_read|5\n"
    assert output.format_value(KSTACK, struct.pack("<Q", 1), "btrace", _sym("btrace")) == (
        "\nf+0x1f\ng+0x22\nkernel\n\n")
    assert output.json_value({"k": "ksym"}, struct.pack("<Q", 0x100), _sym("bpftrace")) == (
        '{"type": "value", "data": "vfs_read"}\n')


def test_without_callbacks_addresses_print_as_hex():
    assert output.format_value({"k": "ksym"}, struct.pack("<Q", 0x1F), "bpftrace") == "0x1f\n"


def test_split_stack_id():
    assert split_stack_id((4321 << 32) | 9, "user") == (9, 4321)
    assert split_stack_id(9, "kernel") == (9, 0)
    assert split_stack_id(0xFFFFFFF2, "kernel") == (-14, 0)  # bpf_get_stackid failed: -EFAULT


def test_bpftrace_stack_modes_and_limit():
    frames = [Frame(0xFFFFFFFF814C254B, "perf_syscall_enter", 475), Frame(0xFFFFFFFF81000000)]
    assert format_stack(frames, "kernel", "bpftrace", "perf") == (
        "\n\tffffffff814c254b perf_syscall_enter+475\n\tffffffff81000000 0xffffffff81000000\n")
    user = [Frame(0x7F00000007A4, "visit", 4, "/lib/x.so"), Frame(0x7F0000005330)]
    assert format_stack(user, "user", "bpftrace", "perf") == (
        "\n\t7f00000007a4 visit+4 (/lib/x.so)\n\t7f0000005330 0x7f0000005330 ([unknown])\n")
    assert format_stack(user, "user", "bpftrace", "raw") == "\n7f00000007a4\n7f0000005330\n"
    calls = []
    sym = SymbolText(stack=lambda *a: calls.append(a) or "S")
    td = {"k": "stack", "kind": "user", "mode": "perf", "limit": 3}
    assert output.format_value(td, struct.pack("<Q", 5), "bpftrace", sym) == "S\n"
    assert calls == [(5, "user", "perf", 3)]
