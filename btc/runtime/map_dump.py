"""Whole reads of big hash maps by a small BPF program instead of BPF_MAP_LOOKUP_BATCH.

Why: the batch command takes a bucket lock and makes two copy_to_user calls per bucket, about
0.7 us per element (0.7-0.85 s for a 1,000,000-key per-CPU count map on a 2-CPU VM). A
program run once with BPF_PROG_TEST_RUN walks the map with bpf_for_each_map_elem and copies
every key and value into two BPF_F_MMAPABLE arrays that numpy reads: ~0.35 s for that map
(~0.2 s for a plain hash), bounded by cache misses on the elements. Per-CPU maps: the walk
stays on one CPU, whose slot is the callback's value; the others come from
bpf_map_lookup_percpu_elem (Linux 5.19). `dump` returns None whenever the kernel refuses a
step (the caller then reads by batch).
"""
from __future__ import annotations

import mmap
import struct

from btc.runtime import abi, syscalls
from btc.runtime.bpf_asm import Asm

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing

if TYPE_CHECKING:
    import numpy as np

    from btc.runtime.maps import MapHandle

_HASH_TYPES = (abi.MapType.HASH, abi.MapType.PERCPU_HASH)
_SLACK = 1024  # a NO_PREALLOC hash may overshoot max_entries a little (per-CPU counter batching)
# The arrays are sized for a full map and zeroed when created: a huge, mostly empty map reads
# cheaper by batch
_MAX_ARRAY_BYTES = 128 << 20
_MAX_OFF = 0x7FFF  # instruction offsets are s16
# |delta| bound between two CPUs' copies of a per-CPU value (the verifier's limit on a
# variable pointer offset is 2**29); a farther CPU is read by lookup every time
_MAX_DELTA = 1 << 28
# the bounds checks enter the lookup path from one state per CPU: verifying takes ~2 ms for
# 2 CPUs, ~28 ms for 16, ~250 ms for 48; past 16 a lookup per slot costs less to load
_MAX_FAST_CPUS = 16


def _program(h: "MapHandle", keys_fd: int, vals_fd: int, cpus: list[int],
             fast: bool = True) -> tuple[bytes, int]:
    """The instructions and the callback's first instruction index. Main returns the number
    of elements copied (above the arrays' size when the walk failed: dump() declines)."""
    a = Asm()
    fast = fast and bool(cpus)
    ctx = -8 * (3 + (len(cpus) if fast else 0))  # u64 index; u64 known; s64 delta per CPU
    a.op(abi.BPF_ST_MEM_DW, 10, 0, -8, 0)
    a.op(abi.BPF_ST_MEM_DW, 10, 0, ctx, 0)
    if fast:  # `known` starts as values[0]: zero, but not to the verifier (see _slots_fast)
        a.ld_map(1, vals_fd)
        a.op(abi.BPF_ALU64_MOV_X, 2, 10)
        a.op(abi.BPF_ALU64_ADD_K, 2, imm=-8)
        a.call(abi.BPF_FUNC_MAP_LOOKUP_ELEM)
        a.op(abi.BPF_JEQ_K, 0, imm=0, label="main_fail")
        a.op(abi.BPF_LDX_MEM[8], 1, 0, 0)
        a.op(abi.BPF_STX_MEM[8], 10, 1, ctx + 8)
        for i in range(len(cpus)):
            a.op(abi.BPF_ST_MEM_DW, 10, 0, ctx + 16 + 8 * i, 0)
    # bpf_for_each_map_elem(map, cb, &ctx, 0); return ctx.index
    a.ld_map(1, h.fd)
    a.ld_func(2, "cb")
    a.op(abi.BPF_ALU64_MOV_X, 3, 10)
    a.op(abi.BPF_ALU64_ADD_K, 3, imm=ctx)
    a.op(abi.BPF_ALU64_MOV_K, 4, imm=0)
    a.call(abi.BPF_FUNC_FOR_EACH_MAP_ELEM)
    a.op(abi.BPF_LDX_MEM[8], 0, 10, ctx)
    a.op(abi.BPF_EXIT)
    if fast:
        a.mark("main_fail")
        a.op(abi.BPF_ALU64_MOV_K, 0, imm=-1)
        a.op(abi.BPF_EXIT)
    _callback(a, h, keys_fd, vals_fd, cpus, fast)
    return a.encode(), a.labels["cb"]


def _callback(a: Asm, h: "MapHandle", keys_fd: int, vals_fd: int, cpus: list[int],
              fast: bool) -> None:
    """cb(map, key, value, ctx): keys[i] = *key; values[i] = value (every CPU's slot); i++.
    Registers: r6 key, r7 ctx, r8 values row, r9 value (the walking CPU's slot)."""
    a.mark("cb")
    a.op(abi.BPF_ALU64_MOV_X, 6, 2)
    a.op(abi.BPF_ALU64_MOV_X, 9, 3)
    a.op(abi.BPF_ALU64_MOV_X, 7, 4)
    a.op(abi.BPF_LDX_MEM[8], 8, 7, 0)
    a.op(abi.BPF_ALU64_MOV_X, 1, 8)
    a.op(abi.BPF_ALU64_ADD_K, 1, imm=1)
    a.op(abi.BPF_STX_MEM[8], 7, 1, 0)
    a.op(abi.BPF_STX_MEM[4], 10, 8, -4)
    for fd in (keys_fd, vals_fd):
        a.ld_map(1, fd)
        a.op(abi.BPF_ALU64_MOV_X, 2, 10)
        a.op(abi.BPF_ALU64_ADD_K, 2, imm=-4)
        a.call(abi.BPF_FUNC_MAP_LOOKUP_ELEM)
        a.op(abi.BPF_JEQ_K, 0, imm=0, label="stop")
        if fd == keys_fd:
            a.copy(0, 0, 6, h.key_size)
    a.op(abi.BPF_ALU64_MOV_X, 8, 0)
    if not h.percpu:
        a.copy(8, 0, 9, h.value_size)
    if fast:
        _slots_fast(a, h, len(cpus))
    _slots_by_lookup(a, h, cpus, fast)
    a.mark("done")
    a.op(abi.BPF_ALU64_MOV_K, 0, imm=0)
    a.op(abi.BPF_EXIT)
    a.mark("stop")  # the arrays are full: the map grew while we walked it
    a.op(abi.BPF_ALU64_MOV_K, 0, imm=1)
    a.op(abi.BPF_EXIT)
    if fast:
        a.mark("fail")  # an element vanished while its slots were read: dump() declines
        a.op(abi.BPF_ST_MEM_DW, 7, 0, 0, -1)
        a.op(abi.BPF_ALU64_MOV_K, 0, imm=1)
        a.op(abi.BPF_EXIT)


def _slots_fast(a: Asm, h: "MapHandle", ncpu: int) -> None:
    """Once the deltas are known: slot i = one probe read at value + delta[i]. Why: CPU c's
    copy of any per-CPU allocation lies __per_cpu_offset[c] - __per_cpu_offset[this] from
    this CPU's (per_cpu_ptr), the same for every element, so the first element's lookups
    give it for all; a probe read instead of a hash lookup per slot. Straight-line code:
    the verifier's work stays linear in the CPUs (branches per CPU would multiply it)."""
    a.op(abi.BPF_LDX_MEM[8], 1, 7, 8)
    a.op(abi.BPF_JEQ_K, 1, imm=0, label="slow")
    for i in range(ncpu):
        a.op(abi.BPF_LDX_MEM[8], 3, 7, 16 + 8 * i)
        a.op(abi.BPF_JSGT_K, 3, imm=_MAX_DELTA, label="slow")  # bounds for the verifier
        a.op(abi.BPF_JSLT_K, 3, imm=-_MAX_DELTA, label="slow")
        a.op(abi.BPF_ALU64_ADD_X, 3, 9)
        a.op(abi.BPF_ALU64_MOV_X, 1, 8)
        a.op(abi.BPF_ALU64_ADD_K, 1, imm=i * h.slot_size)
        a.op(abi.BPF_ALU64_MOV_K, 2, imm=h.value_size)
        a.call(abi.BPF_FUNC_PROBE_READ_KERNEL)
    a.op(abi.BPF_JA, label="done")
    a.mark("slow")


def _slots_by_lookup(a: Asm, h: "MapHandle", cpus: list[int], fast: bool) -> None:
    """Slot i = bpf_map_lookup_percpu_elem(key, cpus[i]); `fast`: also learn the deltas
    (pointer - pointer: a scalar for privileged programs) and mark them known."""
    for i, cpu in enumerate(cpus):
        a.ld_map(1, h.fd)
        a.op(abi.BPF_ALU64_MOV_X, 2, 6)
        a.op(abi.BPF_ALU64_MOV_K, 3, imm=cpu)
        a.call(abi.BPF_FUNC_MAP_LOOKUP_PERCPU_ELEM)
        # deleted meanwhile: the slot stays 0 (fast: the deltas would stay unknown)
        a.op(abi.BPF_JEQ_K, 0, imm=0, label="fail" if fast else f"next{i}")
        if fast:
            a.op(abi.BPF_ALU64_MOV_X, 1, 0)
            a.op(abi.BPF_ALU64_SUB_X, 1, 9)
            a.op(abi.BPF_STX_MEM[8], 7, 1, 16 + 8 * i)
        a.copy(8, i * h.slot_size, 0, h.value_size)
        a.mark(f"next{i}")
    if fast:
        a.op(abi.BPF_ST_MEM_DW, 7, 0, 8, 1)


def _possible_cpus() -> list[int]:
    from btc.runtime.cpus import parse_cpu_list

    with open("/sys/devices/system/cpu/possible", encoding="ascii") as f:
        return parse_cpu_list(f.read())


def usable(h: "MapHandle") -> bool:
    """Hash maps whose element offsets fit an instruction's 16-bit offset and whose arrays
    stay within _MAX_ARRAY_BYTES."""
    row = ((h.key_size + 7) & ~7) + ((h.elem_size + 7) & ~7)
    return (h.map_type in _HASH_TYPES and h.key_size > 0 and h.elem_size <= _MAX_OFF
            and (h.max_entries + _SLACK) * row <= _MAX_ARRAY_BYTES)


class Prepared:
    """The output arrays and the loaded walk program of one map: they depend on the map's
    shape only, so a run makes them while its probes detach (session._detach_all)."""

    def __init__(self, arrays: list, prog_fd: int, owned: list) -> None:
        self.arrays, self.prog_fd, self.owned = arrays, prog_fd, owned

    def close(self) -> None:
        for obj in reversed(self.owned):
            obj.close()
        self.owned.clear()


def prepare(h: "MapHandle") -> Prepared | None:
    """Arrays and program for dump(h), or None when the kernel refuses a step."""
    from btc.runtime.maps import MapHandle, MapSpec

    if not usable(h):
        return None
    try:
        cpus = _possible_cpus() if h.percpu else []
    except (OSError, ValueError):
        return None
    if h.percpu and len(cpus) != h.ncpu:
        return None
    cap = h.max_entries + _SLACK
    owned: list = []
    try:
        arrays = []
        for width in (h.key_size, h.elem_size):
            spec = MapSpec("btc_dump", abi.MapType.ARRAY, 4, width, cap, abi.MapFlags.MMAPABLE)
            arrays.append(MapHandle.create(spec))
            owned.append(arrays[-1])
        fast = len(cpus) <= _MAX_FAST_CPUS
        fd = _load(*_program(h, arrays[0].fd, arrays[1].fd, cpus, fast), owned)
        if fd < 0 and cpus and fast:  # e.g. probe reads locked down: a lookup per CPU slot
            fd = _load(*_program(h, arrays[0].fd, arrays[1].fd, cpus, fast=False), owned)
        if fd >= 0:
            owned.append(_Fd(fd))
            return Prepared(arrays, fd, owned)
    except syscalls.SyscallError:
        pass
    for obj in reversed(owned):
        obj.close()
    return None


def dump(h: "MapHandle",
         prepared: Prepared | None = None) -> "tuple[np.ndarray, np.ndarray] | None":
    """Keys (n, key_size) and raw values (n, elem_size) u8 of a hash map, or None when the
    kernel lacks something this needs (then read with BPF_MAP_LOOKUP_BATCH). `prepared`
    (from prepare(h)) is used up."""
    prep = prepared if prepared is not None else prepare(h)
    if prep is None:
        return None
    try:
        n = _run(prep.prog_fd)
        if n is None or n > h.max_entries + _SLACK - 1:
            return None
        keys, vals = prep.arrays
        return _read(keys, h.key_size, n), _read(vals, h.elem_size, n)
    except syscalls.SyscallError:
        return None
    finally:
        prep.close()


class _Fd:
    def __init__(self, fd: int) -> None:
        self.fd = fd

    def close(self) -> None:
        syscalls.close(self.fd)


def _btf() -> bytes:
    """int; int (void) as a prototype; static functions btc_dump (type 3) and btc_dump_cb
    (type 4). The verifier wants BTF func_info for any program with a callback."""
    strings = b"\0int\0btc_dump\0btc_dump_cb\0"
    u32 = struct.Struct("<III")
    types = b"".join([
        u32.pack(1, abi.BtfKind.INT << 24, 4), struct.pack("<I", (1 << 24) | 32),  # signed
        u32.pack(0, abi.BtfKind.FUNC_PROTO << 24, 1),
        u32.pack(5, abi.BtfKind.FUNC << 24, 2),  # linkage 0: static
        u32.pack(14, abi.BtfKind.FUNC << 24, 2),
    ])
    hdr = struct.pack("<HBBIIIII", abi.BTF_MAGIC, 1, 0, 24, 0, len(types), len(types),
                      len(strings))
    return hdr + types + strings


def _load(insns: bytes, cb_insn: int, owned: list) -> int:
    """The program's fd, or a negative errno (no verifier log: any refusal means fall back)."""
    import ctypes

    blob = _btf()
    bbuf = ctypes.create_string_buffer(blob, len(blob))
    btf_fd = syscalls.bpf_raw(abi.BpfCmd.BTF_LOAD,
                              abi.AttrBtfLoad(btf=syscalls.addr(bbuf), btf_size=len(blob)))
    if btf_fd < 0:
        return btf_fd
    owned.append(_Fd(btf_fd))
    buf = ctypes.create_string_buffer(insns, len(insns))
    lic = ctypes.create_string_buffer(b"GPL")
    fi = (abi.BpfFuncInfo * 2)(abi.BpfFuncInfo(0, 3), abi.BpfFuncInfo(cb_insn, 4))
    attr = abi.AttrProgLoad(prog_type=abi.ProgType.RAW_TRACEPOINT,
                            insn_cnt=len(insns) // abi.BPF_INSN_SIZE, insns=syscalls.addr(buf),
                            license=syscalls.addr(lic), prog_name=b"btc_map_dump",
                            prog_btf_fd=btf_fd, func_info_rec_size=ctypes.sizeof(abi.BpfFuncInfo),
                            func_info=syscalls.addr(fi), func_info_cnt=2)
    return syscalls.bpf_raw(abi.BpfCmd.PROG_LOAD, attr)


def _run(fd: int) -> int | None:
    attr = abi.AttrTestRun(prog_fd=fd)
    if syscalls.bpf_raw(abi.BpfCmd.PROG_TEST_RUN, attr) < 0:
        return None
    return attr.retval


def _read(arr: "MapHandle", width: int, n: int) -> "np.ndarray":
    """The first n elements of an MMAPABLE array as a view of its mapping (no copy: the
    array keeps the mapping, and with it the map, alive until it is garbage)."""
    import numpy as np

    stride = (width + 7) & ~7  # array elements are 8-byte aligned
    length = max(n * stride, 1)
    length = (length + mmap.PAGESIZE - 1) // mmap.PAGESIZE * mmap.PAGESIZE
    mm = syscalls.mmap_fd(arr.fd, length, mmap.PROT_READ | mmap.PROT_WRITE, 0,
                          "mapping the map dump")
    return np.frombuffer(mm, np.uint8, count=n * stride).reshape(n, stride)[:, :width]
