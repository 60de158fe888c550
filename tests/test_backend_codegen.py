"""Generated code stays lean on the hot paths of issue 6 (checked on the BPF assembly):
one helper call where builtins share a value, a keyed aggregation's miss inserts its first
value without a second lookup, and string literals compare a word at a time."""
from __future__ import annotations

import re

import pytest
from kernel import require_bpf

from btc.diagnostics import BtcError
from btc.driver import compile_source, emit
from btc.runtime import kernel_objects
from btc.runtime.elf_loader import load_object
from btc.runtime.meta_read import LoadValues, read_meta, rodata_image

TP = "tracepoint:syscalls:sys_enter_getpid"


def _asm(body: str) -> list[str]:
    text = emit(f"{TP} {body}", "t.bt", "bpftrace", [], "asm")
    fn = text.split("p0_tracepoint_syscalls_sys_enter_getpid:", 1)[1].split(".Lfunc_end0:", 1)[0]
    return [ln.strip() for ln in fn.splitlines()
            if (ln.startswith("\t") and not ln.strip().startswith(".")) or re.match(r"LBB\d+_\d+:", ln)]


def _body(lines: list[str]) -> list[str]:
    """Without the -p target check: the .rodata load and its test (3 lines) and the cold
    block they jump to (from its label to the next label), which calls get_current_pid_tgid."""
    i = lines.index("r1 = btc_rodata ll")
    test = lines[i + 2]
    assert test.startswith("if ") and " != 0 goto " in test, lines[i:i + 3]
    label = test.rsplit(" ", 1)[1]
    out, skipping = [], False
    for ln in lines[:i] + lines[i + 3:]:
        if ln.endswith(":"):
            skipping = ln == f"{label}:"
        elif not skipping:
            out.append(ln)
    return out


def test_target_pid_check_is_out_of_line():
    """The body falls through from the -p test, so with -p unset the verifier deletes the
    test (it proves it never jumps) instead of keeping a jump over the check."""
    lines = _asm("{ }")
    assert lines[2].startswith("if ") and " != 0 goto " in lines[2]
    assert [ln for ln in lines[3:] if not ln.endswith(":")][:2] == ["w0 = 0", "exit"]


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


def test_count_miss_inserts_a_read_only_one():
    """The first event of a key inserts 1 from .rodata (one ld_imm64), not a stack copy."""
    body = _body(_asm("{ @[comm] = count(); }"))
    assert "r3 = btc_k1 ll" in body
    assert len(body) <= 26


def test_keyless_map_key_comes_from_rodata():
    """Key 0 of a keyless map is read-only data: nothing is stored on the stack at entry,
    which a rejecting filter used to pay for."""
    body = _body(_asm("/pid == 1/ { @c = count(); }"))
    assert not [ln for ln in body if re.search(r"\(r10 - \d+\)", ln)]
    assert "r2 = btc_k0 ll" in body


def test_pid_compare_is_a_shift_and_an_immediate():
    """`pid == 1` stays `(pid_tgid >> 32) == 1`: InstCombine's masked form needs two 64-bit
    immediates (4 instructions)."""
    body = _body(_asm("/pid == 1/ { @c = count(); }"))
    assert not [ln for ln in body if re.search(r"= -?\d+ ll$", ln)]
    assert "r0 >>= 32" in body


def test_hist_log2_steps_shift_by_register():
    """bpftrace log2 as compare-and-set, shift by register, or (5 instructions a step): a
    32-bit value takes 5 steps, the last one without a shift."""
    body = _body(_asm("{ @h = hist(tid); }"))
    assert len([ln for ln in body if re.fullmatch(r"r\d+ >>= r\d+", ln)]) == 4
    assert len(body) <= 52


def _xlated(body: str, pid_check: bool = True) -> tuple[int, int]:
    """(instructions in the object, instructions after the verifier) of the probe, -p unset."""
    obj = compile_source(f"{TP} {body}", "t.bt", "bpftrace", [], pid_check)
    meta = read_meta(obj)
    func = meta["programs"][0]["func"]
    with load_object(obj, rodata_image(meta, [], "bpftrace")) as loaded:
        info = kernel_objects.prog_info(loaded.progs[func].fd)
        return len(loaded.progs[func].spec.insns) // 8, info.xlated_prog_len // 8


def test_verifier_drops_the_unset_pid_check():
    """With -p unset the frozen .rodata says 0: the check block and its branch are deleted,
    leaving the load of the slot (ld_imm64 + ldx) and the program's own code."""
    require_bpf()
    n_obj, n_xl = _xlated("{ }")
    assert n_xl == 5 < n_obj  # r1 = map value ll; r1 = *(u64 *)(r1 + 0); w0 = 0; exit
    _, n_xl = _xlated("/pid == 1/ { @c = count(); }")
    assert n_xl <= 26  # bpftrace 0.17: 38


def test_without_pid_check_the_empty_program_is_two_instructions():
    """`btc run` without -p compiles no -p test at all: `w0 = 0; exit`, as bpftrace's."""
    require_bpf()
    assert _xlated("{ }", pid_check=False) == (2, 2)
    assert _xlated("/pid == 1/ { @c = count(); }", pid_check=False)[1] <= 23


def test_object_without_pid_check_refuses_p():
    obj = compile_source(f"{TP} {{ }}", "t.bt", "bpftrace", [], False)
    meta = read_meta(obj)
    assert not [s for s in meta["rodata"]["slots"] if s["role"] == "target_pid"]
    with pytest.raises(BtcError, match="without -p support"):
        rodata_image(meta, [], "bpftrace", values=LoadValues(target_pid=1))
