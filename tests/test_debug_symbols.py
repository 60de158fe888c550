"""Symbols of stripped binaries from their separate debug files (/usr/lib/debug, as gdb and
bpftrace find them): uprobe resolution and listing, and the user-space symbolizer."""
from __future__ import annotations

import pytest

from btc.probes.ldcache import resolve_library
from btc.probes.uprobe import elf_symbols


def _libc_with_debug_file():
    from elftools.elf.elffile import ELFFile

    from btc.probes.debugfile import debug_file

    path = resolve_library("libc")
    if path is None:
        pytest.skip("no libc in the ld.so cache")
    with open(path, "rb") as f:
        elf = ELFFile(f)
        if elf.get_section_by_name(".symtab") is not None:
            pytest.skip("this libc is not stripped")
        debug = debug_file(path, elf)
    if debug is None:
        pytest.skip("no separate debug file for libc (libc6-dbg)")
    return path, debug


def _local_functions(debug: str) -> set[str]:
    from elftools.elf.elffile import ELFFile

    with open(debug, "rb") as f:
        sec = ELFFile(f).get_section_by_name(".symtab")
        return {s.name for s in sec.iter_symbols()
                if s["st_info"]["type"] == "STT_FUNC" and s["st_info"]["bind"] == "STB_LOCAL"
                and s["st_value"] and s.name}


def test_uprobe_symbols_include_the_debug_files_locals():
    path, debug = _libc_with_debug_file()
    local = sorted(_local_functions(debug))
    assert local
    syms = elf_symbols(path)[0]
    assert set(local[:50]) <= set(syms)


def test_symbolizer_names_local_functions():
    from btc.runtime.symbols.elf import read_elf_symbols

    path, debug = _libc_with_debug_file()
    syms = read_elf_symbols(path)
    name = sorted(_local_functions(debug))[0]
    addr = syms.by_name[name]
    assert syms.lookup(addr)[1] == 0 and syms.lookup(addr)[0] is not None


def test_unstripped_binary_needs_no_debug_file(tmp_path):
    from elftools.elf.elffile import ELFFile

    from btc.probes.debugfile import debug_file

    with open("/bin/bash", "rb") as f:
        elf = ELFFile(f)
        if elf.get_section_by_name(".gnu_debuglink") is None and \
                elf.get_section_by_name(".note.gnu.build-id") is None:
            pytest.skip("bash has neither a build id nor a debug link")
        found = debug_file("/bin/bash", elf)
    assert found is None or found.startswith("/usr/lib/debug/")
