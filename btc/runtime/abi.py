"""Kernel ABI numbers and struct layouts used by the runtime (the only place they live).

Every block names the uapi header it mirrors. Layouts are ctypes Structures with natural
alignment, which matches the kernel's `__aligned_u64` members on every 64-bit Linux target;
tests/test_runtime_abi.py checks sizes and offsets against linux-bpf.md.
"""
from __future__ import annotations

import ctypes
import os

u8, u16, u32, i32, u64 = ctypes.c_uint8, ctypes.c_uint16, ctypes.c_uint32, ctypes.c_int32, ctypes.c_uint64


# --- syscall numbers (arch/*/entry/syscalls; asm-generic/unistd.h for aarch64) -------------
_SYSCALL_NRS = {
    "x86_64": {"bpf": 321, "perf_event_open": 298},
    "aarch64": {"bpf": 280, "perf_event_open": 241},
    "riscv64": {"bpf": 280, "perf_event_open": 241},
}


def syscall_nr(name: str) -> int:
    machine = os.uname().machine  # what platform.machine() returns, without its ~3 ms import
    try:
        return _SYSCALL_NRS[machine][name]
    except KeyError:
        from btc.diagnostics import BtcError

        raise BtcError(f"btc does not know the {name} syscall number on {machine}") from None


class NamedInt(int):
    """One member of a `KernelEnum`: an int (compares, hashes and formats as one) with a name."""

    name: str
    owner: str  # the KernelEnum's name

    def __repr__(self) -> str:
        return f"<{self.owner}.{self.name}: {int(self)}>"

    __str__ = int.__repr__  # str() and f-strings give the number, as IntEnum's do


class _KernelEnumMeta(type):
    """Makes the int class attributes of a `KernelEnum` subclass `NamedInt`s and maps values
    back to them: what btc used of IntEnum, at ~10 us a class instead of ~0.5 ms (start-up)."""

    def __new__(mcls, name, bases, ns):
        by_value: dict[int, NamedInt] = {}
        for key, value in list(ns.items()):
            if not key.startswith("_") and type(value) is int:
                member = NamedInt(value)
                member.name, member.owner = key, name
                ns[key] = by_value.setdefault(value, member)
        ns["_by_value"] = by_value
        return super().__new__(mcls, name, bases, ns)

    def __call__(cls, value: int) -> NamedInt:
        """`Kind(value)`: the member with that value; ValueError for an unknown one."""
        try:
            return cls._by_value[value]
        except (KeyError, TypeError):
            raise ValueError(f"{value!r} is not a valid {cls.__name__}") from None

    def __iter__(cls):
        return iter(cls._by_value.values())

    def __len__(cls) -> int:
        return len(cls._by_value)


class KernelEnum(metaclass=_KernelEnumMeta):
    """Base of the named-number classes below (the kernel's C enums)."""


# --- include/uapi/linux/bpf.h: enum bpf_cmd ------------------------------------------------
class BpfCmd(KernelEnum):
    MAP_CREATE = 0
    MAP_LOOKUP_ELEM = 1
    MAP_UPDATE_ELEM = 2
    MAP_DELETE_ELEM = 3
    MAP_GET_NEXT_KEY = 4
    PROG_LOAD = 5
    OBJ_PIN = 6
    OBJ_GET = 7
    PROG_TEST_RUN = 10
    PROG_GET_NEXT_ID = 11
    MAP_GET_NEXT_ID = 12
    PROG_GET_FD_BY_ID = 13
    MAP_GET_FD_BY_ID = 14
    OBJ_GET_INFO_BY_FD = 15
    RAW_TRACEPOINT_OPEN = 17
    BTF_LOAD = 18
    MAP_LOOKUP_AND_DELETE_ELEM = 21
    MAP_FREEZE = 22
    BTF_GET_NEXT_ID = 23
    MAP_LOOKUP_BATCH = 24
    MAP_LOOKUP_AND_DELETE_BATCH = 25
    MAP_UPDATE_BATCH = 26
    MAP_DELETE_BATCH = 27
    LINK_CREATE = 28
    LINK_GET_NEXT_ID = 31
    ENABLE_STATS = 32
    LINK_DETACH = 34


# include/uapi/linux/bpf.h: enum bpf_map_type
class MapType(KernelEnum):
    UNSPEC = 0
    HASH = 1
    ARRAY = 2
    PROG_ARRAY = 3
    PERF_EVENT_ARRAY = 4
    PERCPU_HASH = 5
    PERCPU_ARRAY = 6
    STACK_TRACE = 7
    CGROUP_ARRAY = 8
    LRU_HASH = 9
    LRU_PERCPU_HASH = 10
    RINGBUF = 27


PERCPU_MAP_TYPES = frozenset({MapType.PERCPU_HASH, MapType.PERCPU_ARRAY, MapType.LRU_PERCPU_HASH})


# include/uapi/linux/bpf.h: enum bpf_prog_type
class ProgType(KernelEnum):
    UNSPEC = 0
    SOCKET_FILTER = 1
    KPROBE = 2
    SCHED_CLS = 3
    SCHED_ACT = 4
    TRACEPOINT = 5
    XDP = 6
    PERF_EVENT = 7
    RAW_TRACEPOINT = 17
    TRACING = 26
    SYSCALL = 31


# include/uapi/linux/bpf.h: enum bpf_attach_type
class AttachType(KernelEnum):
    NONE = 0
    TRACE_RAW_TP = 23
    TRACE_FENTRY = 24
    TRACE_FEXIT = 25
    XDP = 37
    PERF_EVENT = 41
    TRACE_KPROBE_MULTI = 42
    TRACE_UPROBE_MULTI = 48


# include/uapi/linux/bpf.h: map_flags for BPF_MAP_CREATE
class MapFlags(KernelEnum):
    NONE = 0
    NO_PREALLOC = 1
    NUMA_NODE = 4
    RDONLY = 8
    WRONLY = 16
    ZERO_SEED = 64
    RDONLY_PROG = 0x80
    MMAPABLE = 0x400


# include/uapi/linux/bpf.h: flags for BPF_MAP_UPDATE_ELEM
BPF_ANY, BPF_NOEXIST, BPF_EXIST, BPF_F_LOCK = 0, 1, 2, 4
# include/uapi/linux/bpf.h: BPF_PROG_TEST_RUN flags
BPF_F_TEST_RUN_ON_CPU = 1
# include/uapi/linux/bpf.h: ld_imm64 src_reg values and call src_reg values
BPF_PSEUDO_MAP_FD = 1
BPF_PSEUDO_MAP_VALUE = 2
BPF_PSEUDO_FUNC = 4  # ld_imm64 of a subprogram address (bpf_loop callbacks)
BPF_PSEUDO_CALL = 1
# include/uapi/linux/bpf.h: ringbuf record header bits and bpf_ringbuf_output flags
BPF_RINGBUF_BUSY_BIT = 1 << 31
BPF_RINGBUF_DISCARD_BIT = 1 << 30
BPF_RINGBUF_HDR_SZ = 8
BPF_OBJ_NAME_LEN = 16
# include/uapi/linux/bpf.h: enum bpf_stats_type
BPF_STATS_RUN_TIME = 0

# include/uapi/linux/bpf_common.h + bpf.h: opcodes the loader inspects
BPF_LD_IMM64 = 0x18  # BPF_LD | BPF_DW | BPF_IMM
BPF_JMP_CALL = 0x85  # BPF_JMP | BPF_CALL
BPF_INSN_SIZE = 8
# include/uapi/linux/bpf_common.h + bpf.h: the rest of the opcodes btc.runtime.map_dump emits
BPF_ALU64_MOV_K, BPF_ALU64_MOV_X, BPF_ALU64_ADD_K = 0xB7, 0xBF, 0x07
BPF_JEQ_K, BPF_EXIT = 0x15, 0x95
BPF_ALU64_ADD_X, BPF_ALU64_SUB_X, BPF_JA, BPF_JSGT_K, BPF_JSLT_K = 0x0F, 0x1F, 0x05, 0x65, 0xC5
BPF_ST_MEM_DW = 0x7A
# include/uapi/linux/bpf_common.h: BPF_JMP | BPF_JNE / BPF_JGT | BPF_K (syscall_dispatch)
BPF_JNE_K, BPF_JGT_K = 0x55, 0x25
BPF_LDX_MEM = {1: 0x71, 2: 0x69, 4: 0x61, 8: 0x79}  # BPF_LDX | BPF_MEM | size
BPF_STX_MEM = {1: 0x73, 2: 0x6B, 4: 0x63, 8: 0x7B}  # BPF_STX | BPF_MEM | size
# include/uapi/linux/bpf.h: enum bpf_func_id (helpers map_dump and syscall_dispatch call)
BPF_FUNC_MAP_LOOKUP_ELEM = 1
BPF_FUNC_GET_SMP_PROCESSOR_ID = 8
BPF_FUNC_TAIL_CALL = 12  # syscall_dispatch
BPF_FUNC_PROBE_READ_KERNEL = 113
BPF_FUNC_FOR_EACH_MAP_ELEM = 164
BPF_FUNC_MAP_LOOKUP_PERCPU_ELEM = 195

# include/uapi/linux/elf-em.h / ELF for BPF (llvm/BinaryFormat/ELFRelocs/BPF.def)
EM_BPF = 247
R_BPF_NONE = 0
R_BPF_64_64 = 1
R_BPF_64_ABS64 = 2
R_BPF_64_ABS32 = 3
R_BPF_64_NODYLD32 = 4
R_BPF_64_32 = 10

# include/uapi/linux/btf.h
BTF_MAGIC = 0xEB9F


class BtfKind(KernelEnum):
    UNKN = 0
    INT = 1
    PTR = 2
    ARRAY = 3
    STRUCT = 4
    UNION = 5
    ENUM = 6
    FWD = 7
    TYPEDEF = 8
    VOLATILE = 9
    CONST = 10
    RESTRICT = 11
    FUNC = 12
    FUNC_PROTO = 13
    VAR = 14
    DATASEC = 15
    FLOAT = 16
    DECL_TAG = 17
    TYPE_TAG = 18
    ENUM64 = 19


# --- include/uapi/linux/perf_event.h -------------------------------------------------------
class PerfType(KernelEnum):
    HARDWARE = 0
    SOFTWARE = 1
    TRACEPOINT = 2
    HW_CACHE = 3
    RAW = 4
    BREAKPOINT = 5


class PerfSwConfig(KernelEnum):
    CPU_CLOCK = 0
    TASK_CLOCK = 1


PERF_SAMPLE_RAW = 1 << 10
PERF_FLAG_FD_CLOEXEC = 8
# perf_event_attr.flags bits (the bitfield word at offset 40)
PERF_ATTR_FLAG_DISABLED = 1 << 0
PERF_ATTR_FLAG_EXCLUDE_KERNEL = 1 << 5
PERF_ATTR_FLAG_FREQ = 1 << 10
PERF_ATTR_SIZE_VER7 = 128
# _IO('$', 0), _IO('$', 1), _IOW('$', 8, __u32)
PERF_EVENT_IOC_ENABLE = 0x2400
PERF_EVENT_IOC_DISABLE = 0x2401
PERF_EVENT_IOC_SET_BPF = 0x40042408


# --- include/uapi/linux/eventpoll.h, asm-generic/mman-common.h, linux/mount.h ---------------
EPOLLIN = 0x001
PROT_READ, PROT_WRITE = 1, 2
MAP_SHARED = 1


# --- include/uapi/linux/bpf.h: union bpf_attr, one Structure per command group -------------
class AttrMapCreate(ctypes.Structure):
    """BPF_MAP_CREATE."""

    _fields_ = [
        ("map_type", u32), ("key_size", u32), ("value_size", u32), ("max_entries", u32),
        ("map_flags", u32), ("inner_map_fd", u32), ("numa_node", u32),
        ("map_name", ctypes.c_char * BPF_OBJ_NAME_LEN), ("map_ifindex", u32), ("btf_fd", u32),
        ("btf_key_type_id", u32), ("btf_value_type_id", u32),
        ("btf_vmlinux_value_type_id", u32), ("map_extra", u64),
    ]


class AttrMapElem(ctypes.Structure):
    """BPF_MAP_LOOKUP_ELEM / UPDATE_ELEM / DELETE_ELEM / GET_NEXT_KEY (value = next_key)."""

    _fields_ = [("map_fd", u32), ("key", u64), ("value", u64), ("flags", u64)]


class AttrMapBatch(ctypes.Structure):
    """BPF_MAP_*_BATCH."""

    _fields_ = [
        ("in_batch", u64), ("out_batch", u64), ("keys", u64), ("values", u64),
        ("count", u32), ("map_fd", u32), ("elem_flags", u64), ("flags", u64),
    ]


class AttrProgLoad(ctypes.Structure):
    """BPF_PROG_LOAD."""

    _fields_ = [
        ("prog_type", u32), ("insn_cnt", u32), ("insns", u64), ("license", u64),
        ("log_level", u32), ("log_size", u32), ("log_buf", u64), ("kern_version", u32),
        ("prog_flags", u32), ("prog_name", ctypes.c_char * BPF_OBJ_NAME_LEN),
        ("prog_ifindex", u32), ("expected_attach_type", u32), ("prog_btf_fd", u32),
        ("func_info_rec_size", u32), ("func_info", u64), ("func_info_cnt", u32),
        ("line_info_rec_size", u32), ("line_info", u64), ("line_info_cnt", u32),
        ("attach_btf_id", u32), ("attach_prog_fd", u32), ("core_relo_cnt", u32),
        ("fd_array", u64), ("core_relos", u64), ("core_relo_rec_size", u32),
        ("log_true_size", u32),
    ]


class AttrTestRun(ctypes.Structure):
    """BPF_PROG_TEST_RUN."""

    _fields_ = [
        ("prog_fd", u32), ("retval", u32), ("data_size_in", u32), ("data_size_out", u32),
        ("data_in", u64), ("data_out", u64), ("repeat", u32), ("duration", u32),
        ("ctx_size_in", u32), ("ctx_size_out", u32), ("ctx_in", u64), ("ctx_out", u64),
        ("flags", u32), ("cpu", u32), ("batch_size", u32),
    ]


class AttrGetId(ctypes.Structure):
    """BPF_{PROG,MAP,LINK}_GET_NEXT_ID and *_GET_FD_BY_ID."""

    _fields_ = [("start_id", u32), ("next_id", u32), ("open_flags", u32)]


class AttrInfoByFd(ctypes.Structure):
    """BPF_OBJ_GET_INFO_BY_FD."""

    _fields_ = [("bpf_fd", u32), ("info_len", u32), ("info", u64)]


class AttrRawTracepointOpen(ctypes.Structure):
    """BPF_RAW_TRACEPOINT_OPEN."""

    _fields_ = [("name", u64), ("prog_fd", u32), ("cookie", u64)]


class AttrBtfLoad(ctypes.Structure):
    """BPF_BTF_LOAD."""

    _fields_ = [
        ("btf", u64), ("btf_log_buf", u64), ("btf_size", u32), ("btf_log_size", u32),
        ("btf_log_level", u32), ("btf_log_true_size", u32), ("btf_flags", u32),
    ]


class AttrLinkCreate(ctypes.Structure):
    """BPF_LINK_CREATE with the perf_event member of the trailing union."""

    _fields_ = [
        ("prog_fd", u32), ("target_fd", u32), ("attach_type", u32), ("flags", u32),
        ("bpf_cookie", u64), ("_union_rest", u64 * 4),
    ]


class AttrMapFd(ctypes.Structure):
    """BPF_MAP_FREEZE (and other single-fd commands)."""

    _fields_ = [("map_fd", u32)]


class AttrEnableStats(ctypes.Structure):
    """BPF_ENABLE_STATS."""

    _fields_ = [("type", u32)]


# --- include/uapi/linux/bpf.h: info structs ------------------------------------------------
class BpfProgInfo(ctypes.Structure):
    _fields_ = [
        ("type", u32), ("id", u32), ("tag", u8 * 8), ("jited_prog_len", u32),
        ("xlated_prog_len", u32), ("jited_prog_insns", u64), ("xlated_prog_insns", u64),
        ("load_time", u64), ("created_by_uid", u32), ("nr_map_ids", u32), ("map_ids", u64),
        ("name", ctypes.c_char * BPF_OBJ_NAME_LEN), ("ifindex", u32), ("gpl_compatible", u32),
        ("netns_dev", u64), ("netns_ino", u64), ("nr_jited_ksyms", u32),
        ("nr_jited_func_lens", u32), ("jited_ksyms", u64), ("jited_func_lens", u64),
        ("btf_id", u32), ("func_info_rec_size", u32), ("func_info", u64),
        ("nr_func_info", u32), ("nr_line_info", u32), ("line_info", u64),
        ("jited_line_info", u64), ("nr_jited_line_info", u32), ("line_info_rec_size", u32),
        ("jited_line_info_rec_size", u32), ("nr_prog_tags", u32), ("prog_tags", u64),
        ("run_time_ns", u64), ("run_cnt", u64), ("recursion_misses", u64),
        ("verified_insns", u32), ("attach_btf_obj_id", u32), ("attach_btf_id", u32),
    ]


class BpfMapInfo(ctypes.Structure):
    _fields_ = [
        ("type", u32), ("id", u32), ("key_size", u32), ("value_size", u32),
        ("max_entries", u32), ("map_flags", u32), ("name", ctypes.c_char * BPF_OBJ_NAME_LEN),
        ("ifindex", u32), ("btf_vmlinux_value_type_id", u32), ("netns_dev", u64),
        ("netns_ino", u64), ("btf_id", u32), ("btf_key_type_id", u32),
        ("btf_value_type_id", u32), ("btf_vmlinux_id", u32), ("map_extra", u64),
        ("hash", u64), ("hash_size", u32),
    ]


# --- include/uapi/linux/perf_event.h: struct perf_event_attr (PERF_ATTR_SIZE_VER7) ---------
class PerfEventAttr(ctypes.Structure):
    _fields_ = [
        ("type", u32), ("size", u32), ("config", u64), ("sample_period", u64),
        ("sample_type", u64), ("read_format", u64), ("flags", u64), ("wakeup_events", u32),
        ("bp_type", u32), ("config1", u64), ("config2", u64), ("branch_sample_type", u64),
        ("sample_regs_user", u64), ("sample_stack_user", u32), ("clockid", i32),
        ("sample_regs_intr", u64), ("aux_watermark", u32), ("sample_max_stack", u16),
        ("_reserved_2", u16), ("aux_sample_size", u32), ("_reserved_3", u32), ("sig_data", u64),
    ]


# --- include/uapi/linux/bpf.h: BTF.ext records passed to BPF_PROG_LOAD -------------------
class BpfFuncInfo(ctypes.Structure):
    _fields_ = [("insn_off", u32), ("type_id", u32)]


class BpfLineInfo(ctypes.Structure):
    _fields_ = [("insn_off", u32), ("file_name_off", u32), ("line_off", u32), ("line_col", u32)]


# --- include/linux/fcntl.h / include/uapi/linux/fcntl.h: name_to_handle_at(2) --------------
AT_FDCWD = -100


# struct file_handle with room for one kernfs handle: a cgroup's id is its 8-byte kernfs
# file handle (include/linux/exportfs.h FILEID_KERNFS; what bpftrace's cgroupid() reads)
class FileHandle8(ctypes.Structure):
    _fields_ = [("handle_bytes", u32), ("handle_type", i32), ("f_handle", ctypes.c_uint8 * 8)]
