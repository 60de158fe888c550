"""Generated code stays lean on the hot paths of issue 6 (checked on the BPF assembly):
one helper call where builtins share a value, a keyed aggregation's miss inserts its first
value without a second lookup, and string literals compare a word at a time."""
from __future__ import annotations

import re

from btc.driver import emit

TP = "tracepoint:syscalls:sys_enter_getpid"


def _asm(body: str) -> list[str]:
    text = emit(f"{TP} {body}", "t.bt", "bpftrace", [], "asm")
    fn = text.split("p0_tracepoint_syscalls_sys_enter_getpid:", 1)[1].split(".Lfunc_end0:", 1)[0]
    return [ln.strip() for ln in fn.splitlines()
            if ln.startswith("\t") and not ln.strip().startswith(".")]


def _body(lines: list[str]) -> list[str]:
    """After the -p target check (it reads .rodata and calls get_current_pid_tgid)."""
    for i, ln in enumerate(lines):
        if ln == "exit":
            return lines[i + 1:]
    return lines


def test_pid_and_tid_share_one_helper_call():
    body = _body(_asm("{ @s[tid] = sum(pid); }"))
    assert body.count("call 14") == 1


def test_percpu_count_miss_inserts_without_second_lookup():
    body = _body(_asm("{ @[comm] = count(); }"))
    assert body.count("call 1") == 1  # map_lookup_elem
    assert body.count("call 2") == 1  # map_update_elem of the first value
    assert body.count("call 16") == 1  # get_current_comm, straight into the key
    assert len(body) <= 30


def test_comm_literal_compares_words():
    body = _body(_asm('/comm == "getpid-loop"/ { @c = count(); }'))
    assert not [ln for ln in body if re.search(r"\*\(u8 \*\)\(r10", ln)]
    assert len([ln for ln in body if re.search(r"= \*\(u64 \*\)\(r10", ln)]) == 2
