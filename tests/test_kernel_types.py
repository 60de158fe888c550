"""bpftrace sizeof(TYPE) / offsetof(TYPE, a.b) for C and kernel (BTF) types, run on the
kernel. The oracle for kernel layouts is bpftool's own BTF dump, not btc's reader."""
from __future__ import annotations

import json
import re
import shutil
import subprocess

import pytest

from kernel import require_bpf, require_path
from run_util import BTC, btc_env, run_btc

VMLINUX = "/sys/kernel/btf/vmlinux"


def _bt(prog: str):
    require_bpf()
    require_path(VMLINUX, "kernel BTF")
    return run_btc("--dialect", "bpftrace", "-e", prog)


def _bpftool_struct(name: str) -> tuple[int, dict[str, int]]:
    """(size, {member: byte offset}) of `struct name`, from `bpftool btf dump`."""
    if shutil.which("bpftool") is None:
        pytest.skip("bpftool is needed as the layout oracle")
    text = subprocess.run(["bpftool", "btf", "dump", "file", VMLINUX, "format", "raw"],
                          capture_output=True, text=True, check=True).stdout
    m = re.search(rf"^\[\d+\] STRUCT '{name}' size=(\d+) vlen=\d+\n((?:\t.*\n)*)", text, re.M)
    assert m, name
    members = {mm.group(1): int(mm.group(2)) // 8
               for mm in re.finditer(r"'(\w+)' type_id=\d+ bits_offset=(\d+)", m.group(2))}
    return int(m.group(1)), members


def test_sizeof_c_and_kernel_types_are_constants():
    size, _ = _bpftool_struct("task_struct")
    res = _bt('BEGIN { printf("%d %d %d %d %d %d\\n", sizeof(int), sizeof(u64), sizeof(pid_t), '
              'sizeof(struct task_struct), sizeof(struct task_struct *), sizeof(uint16)); exit(); }')
    assert res.returncode == 0, res.stderr
    assert res.stdout.splitlines()[1] == f"4 8 4 {size} 8 2"


def test_sizeof_struct_matches_bpftrace():
    if shutil.which("bpftrace") is None:
        pytest.skip("bpftrace is not installed")
    prog = 'BEGIN { printf("%d\\n", sizeof(struct task_struct)); exit(); }'
    ref = subprocess.run(["bpftrace", "-e", prog], capture_output=True, text=True, timeout=60)
    if ref.returncode != 0:
        pytest.skip(f"bpftrace failed: {ref.stderr.strip()[:200]}")
    res = _bt(prog)
    assert res.returncode == 0, res.stderr
    assert res.stdout.split()[-1] == ref.stdout.split()[-1]


def test_offsetof_direct_nested_and_anonymous_members():
    _, task = _bpftool_struct("task_struct")
    _, se = _bpftool_struct("sched_entity")
    res = _bt('BEGIN { printf("%d %d %d\\n", offsetof(struct task_struct, pid), '
              'offsetof(struct task_struct, se.vruntime), '
              'offsetof(struct sk_buff, len) > 0); exit(); }')
    assert res.returncode == 0, res.stderr
    assert res.stdout.splitlines()[1] == f"{task['pid']} {task['se'] + se['vruntime']} 1"


def test_sizeof_folds_into_other_constants():
    require_bpf()
    got = subprocess.run(BTC + ["compile", "--emit", "ir", "--dialect", "bpftrace", "-e",
                                'BEGIN { @x = sizeof(u32) * 2 + offsetof(struct task_struct, pid) * 0; }'],
                         capture_output=True, text=True, env=btc_env())
    assert got.returncode == 0, got.stderr
    assert "@x = 8:uint64" in got.stdout, got.stdout


@pytest.mark.parametrize("expr, message, hint", [
    ("sizeof(u46)", "Unknown identifier: 'u46'", "did you mean 'u64'?"),
    ("sizeof(struct task_strukt)", 'Cannot resolve unknown type "struct task_strukt"',
     "did you mean 'struct task_struct'?"),
    ("sizeof(struct task_strukt *)", 'Cannot resolve unknown type "struct task_strukt"',
     "did you mean 'struct task_struct'?"),
    ("offsetof(struct task_struct, pidd)", "'struct task_struct' has no field named 'pidd'",
     "did you mean 'pid'?"),
    ("offsetof(struct task_struct, se.vruntim)", "'struct sched_entity' has no field named 'vruntim'",
     "did you mean 'vruntime'?"),
])
def test_unknown_types_and_fields_have_a_caret_and_a_hint(expr, message, hint):
    res = _bt(f'BEGIN {{ printf("%d\\n", {expr}); exit(); }}')
    assert res.returncode != 0
    lines = res.stderr.splitlines()
    assert lines[0].startswith("stdin:1:24-") and lines[0].endswith(f"ERROR: {message}"), lines
    assert lines[2].strip().startswith("~") and lines[3] == f"HINT: {hint}", lines


def test_objects_using_btf_record_its_digest(tmp_path):
    require_path(VMLINUX, "kernel BTF")
    out = tmp_path / "x.o"
    got = subprocess.run(BTC + ["compile", "--dialect", "bpftrace", "-o", str(out), "-e",
                                'BEGIN { printf("%d\\n", sizeof(struct task_struct)); exit(); }'],
                         capture_output=True, text=True, env=btc_env())
    assert got.returncode == 0, got.stderr
    from btc.runtime import kernel_facts
    from btc.runtime.meta_read import read_meta

    meta = read_meta(out.read_bytes())
    assert meta["kernel"]["btf"] == kernel_facts.btf_digest()
    stale = dict(meta, kernel=dict(meta["kernel"], btf="0" * 16))
    assert "types (BTF) differ" in kernel_facts.mismatch(stale)
    plain = tmp_path / "y.o"
    subprocess.run(BTC + ["compile", "--dialect", "bpftrace", "-o", str(plain), "-e",
                          'BEGIN { printf("%d\\n", sizeof(int)); exit(); }'],
                   check=True, env=btc_env())
    assert "btf" not in read_meta(plain.read_bytes())["kernel"]
    json.dumps(meta)
