"""usdt:PATH:[PROVIDER:]NAME (bpftrace), x86-64 only.

Each probe site is an ELF note in `.note.stapsdt` (type 3, owner "stapsdt"): desc holds
pc, base and semaphore addresses (u64 each), then provider, name and the argument spec
("-4@%edi 8@%rsi"), NUL terminated. If the binary was prelinked, pc moved by
(actual .stapsdt.base address - base in the note), as systemtap and libbpf adjust.
The probe attaches as a uprobe at pc's file offset; a non-zero semaphore becomes the uprobe
PMU's ref_ctr_offset so the kernel counts attached tracers in it.

argN: register operands read the pt_regs slot (low bytes, little endian); memory operands
`off(%reg)` read user memory at reg+off; constants `$5` are the number. Other forms
(`sym(%rip)`, index registers) are not supported: such an argument and the ones after it
are absent (bpftrace then rejects the argN).
"""
from __future__ import annotations

import fnmatch
import functools
import glob
import os
import re
import struct
from dataclasses import dataclass

from btc.diagnostics import BtcError
from btc.probes.base import (PROG_KPROBE, ArgInfo, ProbeRequest, ProbeSpec, Provider,
                             hint_for, parse_int, plan)
from btc.probes.uprobe import resolve_binary, uprobe_support, vaddr_to_offset

_NT_STAPSDT = 3

# struct pt_regs, arch/x86/include/asm/ptrace.h: byte offset of each 64-bit register.
_PT_REGS_X86_64 = {
    "r15": 0, "r14": 8, "r13": 16, "r12": 24, "bp": 32, "bx": 40, "r11": 48, "r10": 56,
    "r9": 64, "r8": 72, "ax": 80, "cx": 88, "dx": 96, "si": 104, "di": 112, "ip": 128,
    "sp": 152,
}


@dataclass(frozen=True)
class UsdtNote:
    provider: str
    name: str
    pc: int  # adjusted virtual address of the probe site
    semaphore: int  # virtual address of the u16 semaphore, 0 when none
    args: str


def _x86_reg(text: str) -> tuple[int, int] | None:
    """(pt_regs offset, register width in bytes) of an AT&T register name without '%'."""
    r = text.lower()
    if r in ("rax", "rbx", "rcx", "rdx", "rsi", "rdi", "rbp", "rsp", "rip"):
        return _PT_REGS_X86_64[r[1:]], 8
    if r in ("eax", "ebx", "ecx", "edx", "esi", "edi", "ebp", "esp"):
        return _PT_REGS_X86_64[r[1:]], 4
    if r in ("ax", "bx", "cx", "dx", "si", "di", "bp", "sp"):
        return _PT_REGS_X86_64[r], 2
    if r in ("al", "bl", "cl", "dl", "sil", "dil", "bpl", "spl"):
        return _PT_REGS_X86_64[r[:-1] if r.endswith("l") and len(r) == 3 else r[0] + "x"], 1
    if r.startswith("r") and r[1:].rstrip("dwb").isdigit():
        base = "r" + r[1:].rstrip("dwb")
        if base in _PT_REGS_X86_64:
            return _PT_REGS_X86_64[base], {"d": 4, "w": 2, "b": 1}.get(r[-1], 8)
    return None


def parse_arg(i: int, text: str) -> ArgInfo | None:
    """One operand of the spec ("-4@%edi", "8@-16(%rbp)", "4@$5"), or None when btc cannot
    read it (rip-relative symbols, index registers, segment prefixes)."""
    size_text, at, operand = text.partition("@")
    if not at:
        size_text, operand = "8", text  # old notes have no size prefix
    try:
        size = int(size_text)
    except ValueError:
        return None
    signed, size = size < 0, abs(size)
    if size not in (1, 2, 4, 8):
        return None
    name, kind = f"arg{i}", f"usdt {text}"
    if operand.startswith("$"):
        value = parse_int(operand[1:])
        return None if value is None else ArgInfo(name, 0, size, signed, kind, constant=value)
    if operand.startswith("%"):
        reg = _x86_reg(operand[1:])
        return None if reg is None else ArgInfo(name, reg[0], size, signed, kind)
    m = re.fullmatch(r"(-?(?:0x[0-9a-fA-F]+|\d+))?\(%(\w+)\)", operand)
    if m is None:
        return None
    reg = _x86_reg(m.group(2))
    if reg is None or reg[1] != 8:
        return None
    off = parse_int(m.group(1)) if m.group(1) else 0
    return None if off is None else ArgInfo(name, reg[0], size, signed, kind, user_deref=off)


def parse_args(spec: str) -> tuple[ArgInfo, ...]:
    out: list[ArgInfo] = []
    for i, text in enumerate(spec.split()):
        a = parse_arg(i, text)
        if a is None:
            break
        out.append(a)
    return tuple(out)


@functools.lru_cache(maxsize=32)
def usdt_notes(path: str) -> tuple[UsdtNote, ...]:
    from elftools.common.exceptions import ELFError  # lazy: keeps btc.probes stdlib-only
    from elftools.elf.elffile import ELFFile

    try:
        with open(path, "rb") as f:
            elf = ELFFile(f)
            sec = elf.get_section_by_name(".note.stapsdt")
            if sec is None:
                return ()
            base_sec = elf.get_section_by_name(".stapsdt.base")
            base_addr = base_sec["sh_addr"] if base_sec is not None else None
            data = sec.data()
    except (OSError, ELFError) as e:
        raise BtcError(f"cannot read ELF file {path}: {e}") from None
    return tuple(_parse_notes(data, base_addr))


def _parse_notes(data: bytes, base_addr: int | None) -> list[UsdtNote]:
    notes, pos = [], 0
    align = lambda n: (n + 3) & ~3  # noqa: E731
    while pos + 12 <= len(data):
        namesz, descsz, ntype = struct.unpack_from("<III", data, pos)
        name = data[pos + 12:pos + 12 + namesz].rstrip(b"\0")
        desc_at = pos + 12 + align(namesz)
        desc = data[desc_at:desc_at + descsz]
        pos = desc_at + align(descsz)
        if ntype != _NT_STAPSDT or name != b"stapsdt" or len(desc) < 24:
            continue
        pc, base, sema = struct.unpack_from("<QQQ", desc, 0)
        strings = desc[24:].split(b"\0")
        if len(strings) < 3:
            continue
        if base_addr is not None and base:
            pc += base_addr - base
        notes.append(UsdtNote(strings[0].decode(errors="replace"),
                              strings[1].decode(errors="replace"), pc, sema,
                              strings[2].decode(errors="replace")))
    return notes


def _resolve(req: ProbeRequest) -> list[ProbeSpec]:
    if req.dialect == "btrace":
        raise req.not_found()
    if len(req.rest) not in (2, 3):
        raise req.error("usdt probe type requires 2 or 3 arguments")
    target = req.rest[0]
    prov, name = (req.rest[1], req.rest[2]) if len(req.rest) == 3 else ("*", req.rest[1])
    if target == "":
        raise req.error("usdt probe must have a target")
    path = resolve_binary(target)
    if path is None:
        raise req.error(f"usdt target file '{target}' does not exist or is not executable")
    notes = usdt_notes(path)
    found = [n for n in notes if fnmatch.fnmatchcase(n.provider, prov)
             and fnmatch.fnmatchcase(n.name, name)]
    if not found:
        raise req.error(f"Could not find usdt probe {prov}:{name} in {path}",
                        hint_for(name, [n.name for n in notes]))
    return [_spec(req, path, n) for n in found]


def _spec(req: ProbeRequest, path: str, note: UsdtNote) -> ProbeSpec:
    off = vaddr_to_offset(path, note.pc)
    if off is None:
        raise req.error(f"usdt {note.provider}:{note.name} at 0x{note.pc:x} is not in a "
                        f"loaded segment of {path}")
    ref_ctr = 0
    if note.semaphore:
        ref_ctr = vaddr_to_offset(path, note.semaphore) or 0
        if not ref_ctr:
            raise req.error(f"usdt {note.provider}:{note.name}: semaphore 0x{note.semaphore:x} "
                            f"is not in a file-backed segment of {path}")
    return ProbeSpec(provider="usdt", display=f"usdt:{path}:{note.provider}:{note.name}",
                     prog_type=PROG_KPROBE, section="usdt",
                     plan=plan("uprobe", path=path, offset=off, retprobe=False, pid=None,
                               ref_ctr_offset=ref_ctr),
                     dialect=req.dialect, argn_kind="regs", name=note.name, category=note.provider,
                     path=path, offset=off, address=note.pc, static_args=parse_args(note.args),
                     support=uprobe_support)


def usdt_listing(pattern: str, verbose: bool = False) -> list[str] | None:
    """`btc -l 'usdt:PATH:[PROV:]NAME'`: the binary's probes as `usdt:PATH:PROV:NAME`, sorted
    and unique like `bpftrace -l`; verbose adds each argument's operand size and spec.
    None when the pattern names no binary (usdt probes are only listed per binary)."""
    parts = pattern.split(":")
    if parts[0] not in ("usdt", "U") or len(parts) not in (2, 3, 4) or parts[1] in ("", "*"):
        return None
    prov, name = ("*", "*") if len(parts) == 2 else \
        (parts[2], parts[3]) if len(parts) == 4 else ("*", parts[2])
    out: list[str] = []
    globbed = any(c in parts[1] for c in "*?[")
    for path in _listing_paths(parts[1]):
        try:
            notes = usdt_notes(path)
        except BtcError:
            if not globbed:
                raise
            continue  # a glob also matches scripts and other non-ELF files: skip them
        seen: dict[str, UsdtNote] = {}
        for n in notes:
            if fnmatch.fnmatchcase(n.provider, prov) and fnmatch.fnmatchcase(n.name, name):
                seen.setdefault(f"usdt:{path}:{n.provider}:{n.name}", n)
        for entry in sorted(seen):
            out.append(entry)
            if verbose:
                out.extend("    " + line for line in describe_args(seen[entry].args))
    return out


def _listing_paths(target: str) -> list[str]:
    if any(c in target for c in "*?["):
        return sorted(p for p in glob.glob(target) if os.path.isfile(p))
    path = resolve_binary(target)
    if path is None:
        raise BtcError(f"usdt target file '{target}' does not exist or is not executable")
    return [path]


def describe_args(spec: str) -> list[str]:
    """One line per operand of a note's argument spec: `arg0: int32 (-4@%edi)`; operands btc
    cannot read say so (their argN is rejected)."""
    out = []
    for i, text in enumerate(spec.split()):
        a = parse_arg(i, text)
        if a is None:
            out.append(f"arg{i}: unsupported operand ({text})")
        else:
            out.append(f"arg{i}: {'' if a.signed else 'u'}int{a.size * 8} ({text})")
    return out


USDT = Provider("usdt", ("bpftrace",), _resolve, aliases=("U",), available=uprobe_support)
