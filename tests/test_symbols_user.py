"""User symbols: ELF tables, /proc/PID/maps address translation (PIE, non-PIE, shared
libraries), the ld.so cache, and the hex fallback for processes that are gone."""
from __future__ import annotations

import ctypes
import os
import struct
import subprocess

import pytest

from btc.probes.ldcache import ld_cache_entries, parse_ld_cache, resolve_library
from btc.runtime.symbols import Symbolizer
from btc.runtime.symbols.elf import read_elf_symbols

from cprog_util import cprogs  # noqa: F401  (fixture)


def _nm(path) -> dict[str, int]:
    out = subprocess.run(["nm", str(path)], capture_output=True, text=True, check=True).stdout
    return {p[2]: int(p[0], 16) for p in (ln.split() for ln in out.splitlines())
            if len(p) == 3 and p[1] in "Tt"}


@pytest.mark.parametrize("kind", ["pie", "nopie"])
def test_elf_symbols_match_nm(cprogs, kind):
    elf = read_elf_symbols(str(cprogs[kind]))
    nm = _nm(cprogs[kind])
    for name in ("f", "g", "main"):
        assert elf.by_name[name] == nm[name]
        assert elf.lookup(nm[name] + 1) == (name, 1)
    # the link-time address maps to a file offset and back
    off = elf.offset_of_vaddr(nm["f"])
    assert elf.vaddr_of_offset(off) == nm["f"]
    if kind == "nopie":
        assert nm["f"] >= 0x400000
    else:
        assert nm["f"] < 0x100000


@pytest.mark.parametrize("kind", ["pie", "nopie"])
def test_usym_of_live_process(cprogs, kind):
    proc = subprocess.Popen([str(cprogs[kind]), "100000", "1000"], stdout=subprocess.PIPE,
                            text=True)
    try:
        addr = int(proc.stdout.readline(), 16)  # the program's own &f
        sym = Symbolizer()
        assert sym.usym(proc.pid, addr) == "f"
        assert sym.user.lookup(proc.pid, addr + 2)[:2] == ("f", 2)
        frames = sym.user_frames(proc.pid, [addr + 4, 0x10])
        assert (frames[0].symbol, frames[0].offset) == ("f", 4)
        assert frames[1].symbol is None  # unmapped: shown as hex
        pie_base_differs = sym.uaddr(str(cprogs[kind]), "f") != addr
        assert pie_base_differs == (kind == "pie")
    finally:
        proc.kill()
        proc.wait()
    # the process is gone and its mappings were never read: hex address
    assert Symbolizer().usym(proc.pid, addr) == f"0x{addr:x}"


def test_usym_shared_library_in_this_process():
    libc = ctypes.CDLL(resolve_library("c"))
    addr = ctypes.cast(libc.getpid, ctypes.c_void_p).value
    sym = Symbolizer()
    assert sym.usym(os.getpid(), addr) == "getpid"
    hit = sym.user.lookup(os.getpid(), addr + 3)
    assert hit[:2] == ("getpid", 3) and os.path.basename(hit[2]).startswith("libc.so")
    assert sym.uaddr(resolve_library("libc"), "getpid") is not None


def test_resolve_library_matches_ldconfig():
    out = subprocess.run(["ldconfig", "-p"], capture_output=True, text=True).stdout
    libc_lines = [ln for ln in out.splitlines() if ln.strip().startswith("libc.so.6 ")]
    assert libc_lines, "ldconfig -p lists no libc.so.6"
    want = libc_lines[0].rpartition("=> ")[2].strip()
    for name in ("libc", "c", "libc.so.6", "libc.so"):
        assert resolve_library(name) == want
    assert resolve_library("no_such_library_xyz") is None
    assert ("libc.so.6", want) in ld_cache_entries()


def _cache_image(entries: list[tuple[int, str, str]], old_prefix: bool) -> bytes:
    """A glibc ld.so.cache (new format) with (flags, soname, path) entries."""
    strings, offs = b"", []
    header = struct.calcsize("<20sIIB3xI12x")
    table = header + 24 * len(entries)
    for _, soname, path in entries:
        k = table + len(strings)
        strings += soname.encode() + b"\0"
        v = table + len(strings)
        strings += path.encode() + b"\0"
        offs.append((k, v))
    body = struct.pack("<20sIIB3xI12x", b"glibc-ld.so.cache1.1", len(entries), len(strings), 0, 0)
    for (flags, _, _), (k, v) in zip(entries, offs):
        body += struct.pack("<iIIIQ", flags, k, v, 0, 0)
    body += strings
    prefix = b"ld.so-1.7.0" + b"\0" * 5 if old_prefix else b""
    return prefix + body


@pytest.mark.parametrize("old_prefix", [False, True])
def test_parse_ld_cache_image(old_prefix):
    image = _cache_image([(0x0303, "libz.so.1", "/x86/libz.so.1"),
                          (0x0A03, "libz.so.1", "/arm/libz.so.1"),
                          (0x0001, "libold.so", "/old/libold.so")], old_prefix)
    assert parse_ld_cache(image, "x86_64") == [("libz.so.1", "/x86/libz.so.1")]
    assert parse_ld_cache(image, "aarch64") == [("libz.so.1", "/arm/libz.so.1")]
    assert parse_ld_cache(b"not a cache") is None
