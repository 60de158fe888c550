"""uprobe:PATH:FUNC[+OFF] | uprobe:PATH:ADDR and uretprobe:PATH:FUNC (bpftrace).

The uprobe PMU takes a file offset: sym.st_value - p_vaddr + p_offset of the PT_LOAD
segment that holds the symbol (linux-bpf.md §6). ELF reading uses pyelftools, imported
lazily so that `btc.probes` stays importable with the standard library alone.
"""
from __future__ import annotations

import fnmatch
import functools
import os
import shutil

from btc.probes import uprobe_bounds
from btc.probes._xprobe import reg_args, reg_retval, split_offset
from btc.probes.debugfile import debug_file
from btc.probes.base import (PROG_KPROBE, ProbeRequest, ProbeSpec, Provider, hint_for,
                             parse_int, plan)
from btc.diagnostics import BtcError

_UPROBE_PMU = "/sys/bus/event_source/devices/uprobe/type"


def uprobe_support() -> str | None:
    return None if os.path.exists(_UPROBE_PMU) else "uprobes are not available on this kernel"


def resolve_binary(target: str) -> str | None:
    """An absolute path for `target`: a path, a program on $PATH, or a library name
    (libc, libc.so.6) found through the ld.so cache."""
    if "/" in target:
        path = os.path.abspath(target)
        return path if os.path.isfile(path) else None
    found = shutil.which(target)
    if found:
        return os.path.realpath(found) if os.path.islink(found) else found
    from btc.probes.ldcache import resolve_library

    return resolve_library(target)


@functools.lru_cache(maxsize=32)
def elf_symbols(path: str) -> tuple[dict[str, int], tuple[tuple[int, int, int], ...]]:
    """({symbol: st_value}, ((p_vaddr, p_memsz, p_offset) of each PT_LOAD, ...))."""
    from elftools.common.exceptions import ELFError  # lazy: keeps btc.probes stdlib-only
    from elftools.elf.elffile import ELFFile

    try:
        with open(path, "rb") as f:
            elf = ELFFile(f)
            loads = tuple((s["p_vaddr"], s["p_memsz"], s["p_offset"]) for s in elf.iter_segments()
                          if s["p_type"] == "PT_LOAD")
            syms: dict[str, int] = {}
            _add_functions(elf, syms)
            debug = None if elf.get_section_by_name(".symtab") else debug_file(path, elf)
    except (OSError, ELFError) as e:
        raise BtcError(f"cannot read ELF file {path}: {e}") from None
    if debug is not None:  # a stripped binary whose symbols ship apart (e.g. libc6-dbg)
        try:
            with open(debug, "rb") as f:
                _add_functions(ELFFile(f), syms)
        except (OSError, ELFError):
            pass  # an unreadable debug file only costs the local symbols
    return syms, loads


def _add_functions(elf, syms: dict[str, int]) -> None:
    for sec_name in (".dynsym", ".symtab"):
        sec = elf.get_section_by_name(sec_name)
        if sec is None or sec["sh_type"] == "SHT_NOBITS":
            continue
        for sym in sec.iter_symbols():
            if sym.name and sym["st_value"] and sym["st_info"]["type"] in ("STT_FUNC", "STT_GNU_IFUNC"):
                syms.setdefault(sym.name.split("@")[0], sym["st_value"])


def vaddr_to_offset(path: str, vaddr: int) -> int | None:
    for start, size, off in elf_symbols(path)[1]:
        if start <= vaddr < start + size:
            return vaddr - start + off
    return None


def _resolve(req: ProbeRequest, retprobe: bool) -> list[ProbeSpec]:
    kind = "uretprobe" if retprobe else "uprobe"
    if req.dialect == "btrace":
        raise req.not_found()
    if len(req.rest) != 2:
        raise req.error(f"{kind} probe type requires 2 arguments")
    target, what = req.rest
    if target == "":
        raise req.error(f"{kind} should have a target")
    path = resolve_binary(target)
    if path is None:
        raise req.error(f"uprobe target file '{target}' does not exist or is not executable")
    func, off = split_offset(req, what, allow_offset=not retprobe)
    if func == "":
        raise req.error(f"{kind} should be attached to a function and/or address")
    addr = parse_int(func) if func[0].isdigit() else None
    if addr is not None:
        starts = set(elf_symbols(path)[0].values())
        uprobe_bounds.check_address(req, path, addr, retprobe, starts)
        return [_spec(req, kind, path, func, "", addr, 0)]
    syms = elf_symbols(path)[0]
    names = sorted(n for n in syms if fnmatch.fnmatchcase(n, func)) if "*" in func else \
        ([func] if func in syms else [])
    if not names:
        raise req.error(f"Could not resolve symbol: {path}:{func}", hint_for(func, list(syms)))
    for n in names:
        uprobe_bounds.check_offset(req, path, syms[n], n, off)
    return [_spec(req, kind, path, n if "*" in func else what, n, syms[n], off) for n in names]


def _spec(req: ProbeRequest, kind: str, path: str, shown: str, symbol: str, vaddr: int,
          extra: int) -> ProbeSpec:
    file_off = vaddr_to_offset(path, vaddr)
    if file_off is None:
        raise req.error(f"address 0x{vaddr:x} is not in a loaded segment of {path}")
    ret = kind == "uretprobe"
    return ProbeSpec(provider=kind, display=f"{kind}:{path}:{shown}", prog_type=PROG_KPROBE,
                     section=kind, plan=plan("uprobe", path=path, offset=file_off + extra,
                                             retprobe=ret, pid=None),
                     dialect=req.dialect, argn_kind="none" if ret else "regs", is_return=ret,
                     name=symbol, path=path, offset=file_off + extra, address=vaddr,
                     retval=reg_retval() if ret else None,
                     static_args=() if ret else reg_args(), support=uprobe_support)


def uprobe_listing(pattern: str) -> list[str] | None:
    """`btc -l 'uprobe:PATH:FUNC'` (or uretprobe, `u:`/`ur:`): the binary's function symbols
    as `uprobe:PATH:NAME`, sorted, like `bpftrace -l`. None when the pattern names no
    binary (uprobes are listed per binary, never for the whole system)."""
    parts = pattern.split(":")
    kinds = {"uprobe": "uprobe", "u": "uprobe", "uretprobe": "uretprobe", "ur": "uretprobe"}
    if parts[0] not in kinds or len(parts) not in (2, 3) or parts[1] in ("", "*"):
        return None
    path = resolve_binary(parts[1])
    if path is None:
        raise BtcError(f"uprobe target file '{parts[1]}' does not exist or is not executable")
    func = parts[2] if len(parts) == 3 else "*"
    kind = kinds[parts[0]]
    return [f"{kind}:{path}:{n}" for n in sorted(elf_symbols(path)[0])
            if fnmatch.fnmatchcase(n, func)]


UPROBE = Provider("uprobe", ("bpftrace",), lambda req: _resolve(req, False), aliases=("u",),
                  available=uprobe_support)
URETPROBE = Provider("uretprobe", ("bpftrace",), lambda req: _resolve(req, True), aliases=("ur",),
                     available=uprobe_support)
