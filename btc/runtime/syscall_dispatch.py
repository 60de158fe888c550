"""One attachment for many raw syscall programs: a dispatcher tail-calls the program of the
current syscall number out of a PROG_ARRAY.

Why: a raw syscall program (plan `raw_tracepoint` sys_enter/sys_exit with a `syscall_nr`)
checks the number itself, so attached one by one, n such programs all run on every syscall of
every process. Grouped, one small dispatcher runs per syscall and tail-calls at most one
member, whatever n is (`sys_enter_*`: one program run instead of ~350 per syscall), and the
run attaches one link instead of n.

Which programs join: per hook (sys_enter, sys_exit), the first program of each syscall number,
when at least two distinct numbers are found. A later program on an already grouped number (two
rules on one syscall) and a raw program without a number stay attached on their own; each
carries its own number check, so it is correct standalone.

Run order: the kernel runs a raw tracepoint's programs in attach order, and the dispatcher is
attached at the place of its first member. For any one syscall the programs that fire still
run in source order: the grouped program of a number precedes every other program of that
number, and the dispatcher precedes every grouped program's source position.
"""
from __future__ import annotations

import struct

from btc.diagnostics import BtcError
from btc.records import Record, field
from btc.runtime import abi
from btc.runtime.attach import Attachment, attach_raw_tracepoint
from btc.runtime.bpf_asm import Asm

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing

if TYPE_CHECKING:
    from btc.runtime.progs import ProgHandle

HOOKS = ("sys_enter", "sys_exit")
KIND = "syscall_dispatch"  # the Attachment kind of a group
_CTX_ARG1 = 8  # raw tracepoint ctx: u64 args[]; sys_enter/sys_exit pass (regs, id / ret)
# Syscall tables have < 1024 entries on every Linux architecture; a larger number (x32's bit
# 30) would make a huge table: such a program stays attached on its own
_MAX_NR = 4095


class Group(Record, frozen=False):
    """The programs one dispatcher serves: `members` are .btc.meta program entries."""

    hook: str
    members: list[dict] = field(default_factory=list)

    def numbers(self) -> list[int]:
        return [int(p["attach"]["syscall_nr"]) for p in self.members]


def syscall_number(plan: dict) -> int | None:
    """The syscall number a raw sys_enter/sys_exit plan checks, or None."""
    nr = plan.get("syscall_nr")
    if plan.get("kind") != "raw_tracepoint" or plan.get("name") not in HOOKS:
        return None
    return nr if isinstance(nr, int) and 0 <= nr <= _MAX_NR else None


def plan(probes: list[dict]) -> list[dict | Group]:
    """`probes` (meta program entries, in attach order) with each hook's dispatchable programs
    replaced by one Group at the place of its first member (see the module docstring)."""
    groups = {hook: Group(hook) for hook in HOOKS}
    seen: dict[str, set[int]] = {hook: set() for hook in HOOKS}
    for p in probes:
        nr = syscall_number(p["attach"])
        hook = p["attach"].get("name")
        if nr is not None and nr not in seen[hook]:
            seen[hook].add(nr)
            groups[hook].members.append(p)
    grouped = {id(p) for g in groups.values() if len(g.members) >= 2 for p in g.members}
    out: list[dict | Group] = []
    for p in probes:
        if id(p) not in grouped:
            out.append(p)
            continue
        g = groups[p["attach"]["name"]]
        if g.members[0] is p:
            out.append(g)
    return out


def attach(group: Group, progs: dict[str, "ProgHandle"],
           machine: str | None = None) -> list[Attachment]:
    """The group's one Attachment; when the kernel refuses the table or the dispatcher (no
    tail calls from raw tracepoints, members it finds incompatible), each member attached on
    its own instead: each checks its number, so only the cost differs."""
    try:
        return [attach_group(group, progs, machine)]
    except BtcError:
        pass
    done: list[Attachment] = []
    try:
        for p in group.members:
            done.append(attach_raw_tracepoint(progs[p["func"]].fd, group.hook))
    except BaseException:
        for att in done:
            att.close()
        raise
    return done


def attach_group(group: Group, progs: dict[str, "ProgHandle"],
                 machine: str | None = None) -> Attachment:
    """Fill a PROG_ARRAY with the members, load the dispatcher and attach it: one Attachment
    owning the array, the dispatcher and its link (stop() closes the link)."""
    from btc.runtime.maps import MapHandle, MapSpec

    numbers = group.numbers()
    att = Attachment(KIND, f"{group.hook} ({len(numbers)} syscalls)",
                     members=[p["func"] for p in group.members])
    try:
        spec = MapSpec(f"btc_{group.hook}", abi.MapType.PROG_ARRAY, 4, 4, max(numbers) + 1)
        table = MapHandle.create(spec)
        att.fds.append(table.fd)
        for nr, p in zip(numbers, group.members):
            table.update(struct.pack("<I", nr), struct.pack("<I", progs[p["func"]].fd))
        att.fds.append(_load_dispatcher(group.hook, table.fd, spec.max_entries, machine))
        link = attach_raw_tracepoint(att.fds[-1], group.hook)
        att.fds.extend(link.fds)
        att.links.extend(link.links)
    except BaseException:
        att.close()
        raise
    return att


def dispatcher_insns(hook: str, table_fd: int, entries: int, machine: str | None = None) -> bytes:
    """The dispatcher: nr = ctx[1] (sys_enter) or regs->orig_ax (sys_exit, read with
    bpf_probe_read_kernel from ctx[0]); if nr < entries: bpf_tail_call(ctx, table, nr);
    return 0. The 64-bit bound check matters: the helper takes a u32 index, and a number
    above 2**32 would otherwise wrap onto a real syscall's slot."""
    a = Asm()
    if hook == "sys_enter":
        a.op(abi.BPF_LDX_MEM[8], 3, 1, _CTX_ARG1)
    else:
        a.op(abi.BPF_ALU64_MOV_X, 6, 1)
        a.op(abi.BPF_LDX_MEM[8], 3, 1, 0)
        a.op(abi.BPF_ALU64_ADD_K, 3, imm=_nr_offset(machine))
        a.op(abi.BPF_ALU64_MOV_X, 1, 10)
        a.op(abi.BPF_ALU64_ADD_K, 1, imm=-8)
        a.op(abi.BPF_ALU64_MOV_K, 2, imm=8)
        a.call(abi.BPF_FUNC_PROBE_READ_KERNEL)
        a.op(abi.BPF_JNE_K, 0, label="out")  # unreadable: no number, no call
        a.op(abi.BPF_LDX_MEM[8], 3, 10, -8)
        a.op(abi.BPF_ALU64_MOV_X, 1, 6)
    a.op(abi.BPF_JGT_K, 3, imm=entries - 1, label="out")
    a.ld_map(2, table_fd)
    a.call(abi.BPF_FUNC_TAIL_CALL)  # returns only when the slot is empty
    a.mark("out")
    a.op(abi.BPF_ALU64_MOV_K, 0, imm=0)
    a.op(abi.BPF_EXIT)
    return a.encode()


def _nr_offset(machine: str | None) -> int:
    """Where pt_regs keeps the syscall number until sys_exit (one table: btc.probes._arch,
    a standard-library-only module shared with the back end)."""
    from btc.probes._arch import reg_layout

    return reg_layout(machine).syscall_nr[1]


def _load_dispatcher(hook: str, table_fd: int, entries: int, machine: str | None) -> int:
    from btc.runtime.progs import ProgSpec, load_program

    insns = dispatcher_insns(hook, table_fd, entries, machine)
    spec = ProgSpec(f"btc_{hook}", abi.ProgType.RAW_TRACEPOINT, insns,
                    label=f"the {hook} syscall dispatcher")
    return load_program(spec)
