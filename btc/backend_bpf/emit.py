"""The back end's steps: build (IR -> LLVM module text), verify, optimise, object.

`compile_program` is deterministic: the same IR gives the same bytes.
"""
from __future__ import annotations

import os

from llvmlite import binding as llvm
from llvmlite import ir

from btc import meta as M
from btc.backend_bpf import btf_maps
from btc.backend_bpf.debuginfo import DebugInfo
from btc.backend_bpf.layout import I8, PTR, plan_maps
from btc.backend_bpf.lower import FunctionLowerer, ModuleCtx, is_special, param_slot_key, walk
from btc.diagnostics import BtcError
from btc.ir import nodes as N
from btc.ir import types as T
from btc.records import Record

TRIPLE = "bpfel"
CPU = "v3"  # ALU32 + JMP32, kernel >= 5.1 (linux-bpf.md §9)
OPT_LEVEL = 2
BPF_STACK = 512  # the verifier's limit per program
# LLVM's BPF back end reports a frame above its limit through the default diagnostic handler,
# which exits the process; let it emit the code and check the frame ourselves instead.
LLVM_STACK_LIMIT = 8192


class Built(Record, frozen=False):
    module: ir.Module
    meta: dict


def target_machine() -> llvm.TargetMachine:
    llvm.initialize_all_targets()
    llvm.initialize_all_asmprinters()
    llvm.set_option("btc", f"-bpf-stack-size={LLVM_STACK_LIMIT}")
    target = llvm.Target.from_triple(TRIPLE)
    return target.create_target_machine(cpu=CPU, opt=OPT_LEVEL, reloc="static", codemodel="small")


def build_module(prog: N.Program, tm: llvm.TargetMachine | None = None, kernel: dict | None = None,
                 pid_check: bool = True) -> Built:
    """Lower every function of `prog` into one LLVM module plus its metadata. `pid_check`:
    probes carry the `-p PID` test (a `target_pid` .rodata slot); without it the object
    cannot run with -p (the runtime refuses), and each probe is 3 instructions shorter."""
    tm = tm or target_machine()
    module = ir.Module(name=prog.source_name or "bt")
    module.triple = TRIPLE
    module.data_layout = str(tm.target_data)
    di = DebugInfo(module, prog.source_name, prog.source)

    plans = plan_maps(prog)
    fields = btf_maps.key_field_names(prog)
    maps = {p.name: (p, btf_maps.define_map(module, di, p, key_fields=fields.get(p.name))) for p in plans}
    events_plan, lost_plan = btf_maps.events_plan(), btf_maps.lost_plan()
    events = btf_maps.define_map(module, di, events_plan)
    lost = btf_maps.define_map(module, di, lost_plan)
    rodata, slots = _rodata(prog, pid_check)
    rodata_gv = rodata.define(module, di)
    di.finish_unit()

    mc = ModuleCtx(
        module=module, di=di, prog=prog, maps=maps,
        map_index={p.name: i for i, p in enumerate(plans)},
        events=events, lost=lost, rodata=rodata_gv, slots=slots,
    )
    for f in prog.functions:
        mc.scratch_size = max(mc.scratch_size, FunctionLowerer(mc, f).lower())

    internal = [events_plan, lost_plan]
    if mc.scratch is not None:
        sp = btf_maps.scratch_plan(mc.scratch_size)
        if sp.value_size > 32768:
            raise BtcError(f"the program needs {sp.value_size} bytes of scratch memory (at most 32768)")
        btf_maps.define_map(module, di, sp, value_di=di.of(T.StrType(sp.value_size)), gv=mc.scratch)
        internal.append(sp)

    for kind, gv in mc.stacks.items():
        stp = btf_maps.stack_plan(kind)
        u64s = di.array(di.int_type(64, False), 64, M.STACK_DEPTH)
        btf_maps.define_map(module, di, stp, value_di=u64s, gv=gv)
        internal.append(stp)

    lic = _bytes_global(module, "LICENSE", b"GPL\0", "license")
    descs = [btf_maps.map_desc(p) for p in plans] + [btf_maps.map_desc(p, internal=True) for p in internal]
    meta = M.build_meta(
        prog, descs, rodata.slots, T.round_up(rodata.size, 8),
        nsecs_clock=_nsecs_clock(prog), kernel=kernel if kernel is not None else _host_kernel(),
    )
    if getattr(mc, "join_seps", None):
        meta["events"]["join"] = list(mc.join_seps)  # EV_JOIN ids
    if mc.unsafe:
        meta["events"]["unsafe"] = sorted(mc.unsafe)  # the runtime refuses them without --unsafe
    meta_gv = _bytes_global(module, "btc_meta", M.encode(meta), M.META_SECTION)

    used = [gv for _, gv in maps.values()] + [events, lost, lic, meta_gv]
    used += [g for g in (mc.scratch, rodata_gv) if g is not None] + list(mc.stacks.values())
    used += [module.get_global(f.name) for f in prog.functions]
    _compiler_used(module, used)
    di.finalize()
    return Built(module, meta)


def _rodata(prog: N.Program, pid_check: bool = True) -> tuple[btf_maps.Rodata, dict]:
    nodes = [n for f in prog.functions for n in walk(((f.filter,) if f.filter else ()) + f.body)]
    uses = list(prog.params) + [(n.index, n.type) for n in nodes if isinstance(n, N.Param)]
    params = {param_slot_key(i, t): (i, t) for i, t in uses}
    rd, slots = btf_maps.Rodata(), {}
    if any(isinstance(n, N.ParamCount) for n in nodes):
        slots[(M.SLOT_PARAM_COUNT,)] = rd.add(M.SLOT_PARAM_COUNT, T.UINT64)
    for key, (index, t) in params.items():
        st = t if isinstance(t, T.StrType) else T.INT64
        slots[key] = rd.add(M.SLOT_PARAM, st, index)
    reads = [n for n in nodes if isinstance(n, N.BuiltinRead)]
    if any(n.name == "elapsed" for n in reads):
        slots[(M.SLOT_START_NS,)] = rd.add(M.SLOT_START_NS, T.UINT64)
    if any(n.name == "nsecs" and n.clock == "realtime" for n in reads):
        slots[(M.SLOT_REALTIME_OFFSET,)] = rd.add(M.SLOT_REALTIME_OFFSET, T.INT64)
    if any(n.name == "nsecs" and n.clock == "sw_tai" for n in reads):
        slots[(M.SLOT_TAI_OFFSET,)] = rd.add(M.SLOT_TAI_OFFSET, T.INT64)
    if any(n.name == "cpid" for n in reads):
        slots[(M.SLOT_CPID,)] = rd.add(M.SLOT_CPID, T.UINT64)
    for n in nodes:
        if isinstance(n, N.LoadTimeValue) and (n.role, n.name) not in slots:
            slots[(n.role, n.name)] = rd.add(n.role, T.UINT64, name=n.name)
    if pid_check and any(not is_special(f) for f in prog.functions):
        slots[(M.SLOT_TARGET_PID,)] = rd.add(M.SLOT_TARGET_PID, T.UINT64)
    return rd, slots


def _nsecs_clock(prog: N.Program) -> str | None:
    for f in prog.functions:
        for n in walk(((f.filter,) if f.filter else ()) + f.body):
            if isinstance(n, N.BuiltinRead) and n.name == "nsecs":
                return n.clock or "boot"
    return None


def _host_kernel() -> dict:
    return {"release": os.uname().release}


def _bytes_global(module: ir.Module, name: str, data: bytes, section: str) -> ir.GlobalVariable:
    ty = ir.ArrayType(I8, len(data))
    gv = ir.GlobalVariable(module, ty, name)
    gv.initializer = ir.Constant(ty, bytearray(data))
    gv.global_constant = True
    gv.section = section
    gv.align = 1
    return gv


def _compiler_used(module: ir.Module, values: list) -> None:
    ty = ir.ArrayType(PTR, len(values))
    gv = ir.GlobalVariable(module, ty, "llvm.compiler.used")
    gv.initializer = ir.Constant(ty, values)
    gv.linkage = "appending"
    gv.section = "llvm.metadata"


# ---------------------------------------------------------------- LLVM steps


def _parse(text: str) -> llvm.ModuleRef:
    try:
        mod = llvm.parse_assembly(text)
        mod.verify()
    except RuntimeError as e:
        raise BtcError(f"internal compiler error: invalid LLVM IR: {e}") from e
    return mod


def _optimize(mod: llvm.ModuleRef, tm: llvm.TargetMachine) -> None:
    pto = llvm.create_pipeline_tuning_options(speed_level=OPT_LEVEL)
    pb = llvm.create_pass_builder(tm, pto)
    pm = pb.getModulePassManager()
    pm.run(mod, pb)


def _compiled(prog: N.Program, kernel: dict | None = None,
              pid_check: bool = True) -> tuple[llvm.ModuleRef, llvm.TargetMachine]:
    tm = target_machine()
    built = build_module(prog, tm, kernel, pid_check)
    mod = _parse(str(built.module))
    _optimize(mod, tm)
    return mod, tm


def compile_program(prog: N.Program, kernel: dict | None = None, pid_check: bool = True) -> bytes:
    """A relocatable BPF ELF object (with .BTF, .BTF.ext and `.btc.meta`) for `prog`."""
    mod, tm = _compiled(prog, kernel, pid_check)
    try:
        elf = bytes(tm.emit_object(mod))
    except RuntimeError as e:
        raise BtcError(f"internal compiler error: LLVM could not emit BPF code: {e}") from e
    _check_stack(elf)
    return elf


def _check_stack(elf: bytes) -> None:
    """Refuse programs whose frame exceeds the verifier's 512 bytes (r10-relative accesses)."""
    from btc.runtime.objfile import executable_sections  # stdlib-only ELF reader: fast import

    for name, code in executable_sections(elf):
        deepest = _deepest_stack_access(code)
        if deepest > BPF_STACK:
            raise BtcError(
                f"the program in section {name} needs {deepest} bytes of stack; BPF allows {BPF_STACK}",
                hint="split large expressions (many strings or tuples at once) into several statements",
            )


def _deepest_stack_access(code: bytes) -> int:
    deepest = 0
    for i in range(0, len(code) - 7, 8):
        op, regs, off = code[i], code[i + 1], int.from_bytes(code[i + 2:i + 4], "little", signed=True)
        cls = op & 7
        base = regs >> 4 if cls == 1 else regs & 0xF  # LDX: src reg; ST/STX: dst reg
        if cls in (1, 2, 3) and base == 10 and off < 0:
            deepest = max(deepest, -off)
    return deepest


def emit_llvm(prog: N.Program, optimize: bool = True, kernel: dict | None = None) -> str:
    if not optimize:
        return str(build_module(prog, kernel=kernel).module)
    mod, _ = _compiled(prog, kernel)
    return str(mod)


def emit_asm(prog: N.Program, kernel: dict | None = None) -> str:
    mod, tm = _compiled(prog, kernel)
    return tm.emit_assembly(mod)
