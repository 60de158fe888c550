"""The `.btc.meta` schema: everything the runtime needs besides the programs and maps.

Plain data only (no llvmlite, no compiler imports beyond the IR's `to_typedesc`): the back end
builds it with `build_meta`, embeds it as UTF-8 JSON in the ELF section `META_SECTION`, and
the runtime reads it back with `decode`. docs/design.md §3 describes every field.
"""
from __future__ import annotations

import json

from btc.records import Record, field

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (~6 ms of start-up)
if TYPE_CHECKING:
    from btc.diagnostics import BtcError
    from btc.ir.nodes import Program

META_SECTION = ".btc.meta"
META_VERSION = 1

# Ring-buffer record kinds: every record starts with `u32 kind; u32 id` (docs/design.md §3).
EV_PRINTF = 1
EV_PRINT = 2
EV_PRINT_MAP = 3
EV_CLEAR = 4
EV_ZERO = 5
EV_EXIT = 6
EV_TIME = 7
EV_DELETE = 8
EV_SYSTEM = 9  # payload as EV_PRINTF; user space runs the text with /bin/sh (--unsafe)
EV_CAT = 10  # payload as EV_PRINTF; user space prints the named file's contents
EV_JOIN = 11  # id: index into events.join (separators); payload JOIN_ARGS x char[JOIN_LEN]
JOIN_ARGS = 16  # join(argv): strings read (bpftrace reads more; the ring buffer record stays 1 KiB)
JOIN_LEN = 64  # bytes per string, NUL included
EVENT_HEADER_SIZE = 8

# Names of the compiler's own maps (MapDesc.name and ELF symbol).
EVENTS_MAP = "events"
LOST_MAP = "lost"
SCRATCH_MAP = "scratch"
RINGBUF_SIZE = 256 * 1024
# STACK_TRACE maps behind `kstack`/`ustack` values (key u32 stack id, value STACK_DEPTH u64 ips).
STACK_MAPS = {"kernel": "kstacks", "user": "ustacks"}
STACK_DEPTH = 127
STACK_MAP_ENTRIES = 4096

# The `.rodata` object that holds load-time constants the runtime patches before loading.
RODATA_SYM = "btc_rodata"
RODATA_SECTION = ".rodata"
SLOT_PARAM = "param"  # `$N`: u64, or char[N] for a string
SLOT_PARAM_COUNT = "param_count"  # `$#`: u64
SLOT_START_NS = "start_ns"  # boot-clock ns when tracing started (for `elapsed`)
SLOT_REALTIME_OFFSET = "realtime_offset_ns"  # CLOCK_REALTIME - CLOCK_BOOTTIME, ns (s64)
SLOT_TAI_OFFSET = "tai_offset_ns"  # CLOCK_TAI - CLOCK_BOOTTIME, ns (s64), for nsecs(sw_tai)
SLOT_CPID = "cpid"  # u64: pid of the child command (bpftrace -c), 0 without one
SLOT_KADDR = "kaddr"  # u64: the address of kernel symbol `name` (kaddr(), read at load time)
SLOT_CGROUPID = "cgroupid"  # u64: the id of the cgroup at path `name` (cgroupid(), at load time)
SLOT_TARGET_PID = "target_pid"  # u64: `-p PID` (a tgid): probes ignore other processes; 0 = all


class MapDesc(Record, frozen=False):
    """One BPF map as created in `.maps` (sizes and type exactly as in the ELF).

    `key` is the user key's TypeDesc (None: scalar map, key u32 0). For hist/lhist the BPF key
    is the user key rounded up to 8 bytes followed by a u64 bucket (`key_size` includes it).
    `internal` marks the compiler's own maps (events, lost, scratch); user maps come first, in
    `Program.maps` order, so a map index in an event is an index into `maps`."""

    name: str
    sym: str
    map_type: int
    key_size: int
    value_size: int
    max_entries: int
    flags: int
    key: dict | None
    value: dict
    agg: str = "none"
    percpu: bool = False
    hist_bits: int = 0
    lhist: list[int] | None = None
    internal: bool = False
    hidden: bool = False


class RodataSlot(Record, frozen=False):
    """A patchable constant inside the `RODATA_SYM` object in `.rodata`.
    Absolute section offset = st_value(sym) + offset."""

    role: str  # SLOT_*
    offset: int
    t: dict  # TypeDesc
    index: int | None = None  # param number for SLOT_PARAM
    name: str | None = None  # the kernel symbol for SLOT_KADDR, the path for SLOT_CGROUPID
    sym: str = RODATA_SYM


class ProgramDesc(Record, frozen=False):
    func: str
    section: str
    prog_type: int
    probe: str
    display: str
    attach: dict
    rule_index: int = 0


class Meta(Record, frozen=False):
    dialect: str
    source_name: str
    programs: list[ProgramDesc]
    maps: list[MapDesc]
    events: dict
    rodata: dict
    params: dict
    print_at_exit: list[str]
    kernel: dict = field(default_factory=dict)
    # Compile-time warnings, kept with the object so a cached compile still shows them:
    # {"message", "hint", "span": [file, line, col, end_line, end_col] | None}
    warnings: list[dict] = field(default_factory=list)
    version: int = META_VERSION

    def to_json(self) -> dict:
        return asdict(self)


def asdict(value: object) -> object:
    """`dataclasses.asdict` for these records (the runtime never imports dataclasses)."""
    if isinstance(value, Record):
        return {name: asdict(getattr(value, name)) for name in value._rec_fields}
    if isinstance(value, (list, tuple)):
        return type(value)(asdict(v) for v in value)
    if isinstance(value, dict):
        return {k: asdict(v) for k, v in value.items()}
    return value


def build_meta(
    prog: Program,
    maps: list[MapDesc],
    slots: list[RodataSlot],
    rodata_size: int,
    nsecs_clock: str | None = None,
    kernel: dict | None = None,
) -> dict:
    """The metadata dict for an `ir.Program` whose maps and `.rodata` slots the back end laid
    out (`maps`, `slots`). `nsecs_clock` is the clock `nsecs` reads (realtime is computed in
    BPF as boot time + the `realtime_offset_ns` slot)."""
    from btc.ir.types import to_typedesc

    programs = [
        ProgramDesc(
            func=f.name,
            section=f.probe.section,
            prog_type=f.probe.prog_type,
            probe=f.probe.text,
            display=f.probe.display,
            attach=dict(f.probe.attach),
            rule_index=f.rule_index,
        )
        for f in prog.functions
    ]
    events = {
        "printf": [
            {
                "fmt": p.fmt,
                "args": to_typedesc(p.args_type),
                "arg_kinds": [to_typedesc(t)["k"] for t in p.arg_types],
                "span": [p.span.line, p.span.col],
            }
            for p in prog.printfs
        ],
        "print": [to_typedesc(t) for t in prog.prints],
        "time": list(prog.time_formats),
        "clock": "boot",  # TIME payloads are CLOCK_BOOTTIME ns
        "nsecs_clock": nsecs_clock,
        "ringbuf": EVENTS_MAP,
        "lost": LOST_MAP,
    }
    param_slots = [s for s in slots if s.role == SLOT_PARAM]
    count = [s for s in slots if s.role == SLOT_PARAM_COUNT]
    params = {
        "count_slot": asdict(count[0]) if count else None,
        "slots": [asdict(s) for s in param_slots],
    }
    rodata = {
        "sym": RODATA_SYM if slots else None,
        "section": RODATA_SECTION,
        "size": rodata_size,
        "slots": [asdict(s) for s in slots],
    }
    meta = Meta(
        dialect=prog.dialect,
        source_name=prog.source_name,
        programs=programs,
        maps=list(maps),
        events=events,
        rodata=rodata,
        params=params,
        print_at_exit=list(prog.exit_order),
        kernel=dict(kernel or {}),
        warnings=[_warning(w) for w in getattr(prog, "warnings", ())],
    )
    return meta.to_json()


def _warning(err: BtcError) -> dict:
    sp = err.span
    span = None if sp is None else [sp.file, sp.line, sp.col, sp.end_line, sp.end_col]
    return {"message": err.message, "hint": err.hint, "span": span}


def encode(meta: dict) -> bytes:
    """Deterministic UTF-8 JSON bytes for the ELF section."""
    return json.dumps(meta, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def decode(data: bytes) -> dict:
    """Parse the section bytes (a trailing NUL, if any, is ignored)."""
    meta = json.loads(data.rstrip(b"\0").decode())
    if meta.get("version") != META_VERSION:
        raise ValueError(f"unsupported .btc.meta version {meta.get('version')!r}")
    return meta


def map_descs(meta: dict) -> list[MapDesc]:
    return [MapDesc(**m) for m in meta["maps"]]
