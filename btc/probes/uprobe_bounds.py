"""Function bounds for uprobe addresses and offsets: bpftrace 0.23 refuses a probe outside
every function (`uprobe:PATH:ADDR`) or past its function's end (`FUNC+OFF`), before the
kernel would plant a breakpoint there (attached_probe.cpp resolve_offset_uprobe)."""
from __future__ import annotations

import functools

from btc.diagnostics import BtcError


@functools.lru_cache(maxsize=32)
def function_bounds(path: str) -> tuple[tuple[int, int, str], ...]:
    """((st_value, st_size, name), ...) of the function symbols in `path` itself."""
    from elftools.common.exceptions import ELFError  # lazy, as btc.probes.uprobe
    from elftools.elf.elffile import ELFFile

    out = {}
    try:
        with open(path, "rb") as f:
            elf = ELFFile(f)
            for sec_name in (".dynsym", ".symtab"):
                sec = elf.get_section_by_name(sec_name)
                if sec is None or sec["sh_type"] == "SHT_NOBITS":
                    continue
                for sym in sec.iter_symbols():
                    if sym.name and sym["st_value"] and \
                            sym["st_info"]["type"] in ("STT_FUNC", "STT_GNU_IFUNC"):
                        out.setdefault(sym["st_value"], (sym["st_value"], sym["st_size"],
                                                         sym.name.split("@")[0]))
    except (OSError, ELFError) as e:
        raise BtcError(f"cannot read ELF file {path}: {e}") from None
    return tuple(sorted(out.values()))


def check_address(req, path: str, addr: int, retprobe: bool, starts) -> None:
    """`uprobe:PATH:ADDR`: ADDR must fall inside a function (a uretprobe: at its start).
    `starts`: every function address btc knows (with a separate debug file's)."""
    if addr in starts:
        return
    funcs = function_bounds(path)
    inside = [f for f in funcs if f[0] <= addr < f[0] + max(f[1], 1)]
    if not inside:
        raise req.error(f"Could not resolve address: {path}:0x{addr:x}")
    start, _, name = inside[0]
    if retprobe and addr != start:
        raise req.error("uretprobes cannot be attached at function offset. "
                        f"(address resolved to: {name}+{addr - start})")


def check_offset(req, path: str, vaddr: int, name: str, off: int) -> None:
    """`FUNC+OFF`: OFF must stay inside FUNC (a size-0 symbol cannot be checked)."""
    if off == 0:
        return
    size = next((f[1] for f in function_bounds(path) if f[0] == vaddr), 0)
    if size and off >= size:
        raise req.error(f"Offset outside the function bounds ('{name}' size is {size})")
