"""Library names -> paths through the dynamic loader's cache, like `uprobe:libc:malloc`.

Reads glibc's /etc/ld.so.cache ("glibc-ld.so.cache1.1" format, possibly after an old
"ld.so-1.7.0" table) and falls back to `ldconfig -p` when the file is missing or in a format
this parser does not know. Layouts are glibc's sysdeps/generic/dl-cache.h.
"""
from __future__ import annotations

import functools
import os
import platform
import struct
import subprocess

LD_SO_CACHE = "/etc/ld.so.cache"
_NEW_MAGIC = b"glibc-ld.so.cache1.1"
# struct cache_file_new: magic[17] version[3] nlibs len_strings flags pad[3] ext_off unused[3]
_NEW_HEADER = struct.Struct("<20sIIB3xI12x")
# struct file_entry_new: int32 flags; uint32 key, value; uint32 osversion; uint64 hwcap
_NEW_ENTRY = struct.Struct("<iIIIQ")
_FLAG_TYPE_MASK = 0x00FF
_FLAG_ELF_LIBC6 = 0x0003
_FLAG_REQUIRED_MASK = 0xFF00
# dl-cache.h FLAG_* arch bits of the 64-bit ABIs btc runs on
_ARCH_FLAGS = {"x86_64": 0x0300, "aarch64": 0x0A00, "riscv64": 0x1000, "ppc64le": 0x0500,
               "s390x": 0x0400}


def resolve_library(name: str) -> str | None:
    """The path of library `name` (`libc`, `c`, `libc.so`, `libc.so.6`) or None.

    An exact soname wins; else the first `lib<name>.so*` / `<name>.so*` in cache order."""
    entries = ld_cache_entries()
    wanted = {name, f"lib{name}.so", f"{name}.so"} if not name.startswith("lib") else \
        {name, f"{name}.so"}
    for soname, path in entries:
        if soname == name:
            return path
    for soname, path in entries:
        if soname in wanted or any(soname.startswith(w + ".") for w in wanted if ".so" in w):
            return path
    return None


@functools.lru_cache(maxsize=1)
def ld_cache_entries() -> tuple[tuple[str, str], ...]:
    """(soname, path) pairs of the native ABI, in cache order."""
    try:
        with open(LD_SO_CACHE, "rb") as f:
            entries = parse_ld_cache(f.read())
    except OSError:
        entries = None
    if entries is None:
        entries = _ldconfig_p()
    return tuple(e for e in entries if os.path.exists(e[1]))


def parse_ld_cache(data: bytes, machine: str | None = None) -> list[tuple[str, str]] | None:
    """Entries of an ld.so.cache image, or None when it has no new-format table."""
    base = data.find(_NEW_MAGIC)
    if base < 0 or len(data) < base + _NEW_HEADER.size:
        return None
    _, nlibs, _, _, _ = _NEW_HEADER.unpack_from(data, base)
    arch = _ARCH_FLAGS.get(machine or platform.machine())
    out = []
    for i in range(nlibs):
        pos = base + _NEW_HEADER.size + i * _NEW_ENTRY.size
        if pos + _NEW_ENTRY.size > len(data):
            return None
        flags, key, value, _, _ = _NEW_ENTRY.unpack_from(data, pos)
        if flags & _FLAG_TYPE_MASK != _FLAG_ELF_LIBC6:
            continue
        if arch is not None and flags & _FLAG_REQUIRED_MASK != arch:
            continue
        out.append((_cstr(data, base + key), _cstr(data, base + value)))
    return out


def _cstr(data: bytes, off: int) -> str:
    end = data.find(b"\0", off)
    return data[off:end if end >= 0 else len(data)].decode("utf-8", "surrogateescape")


def _ldconfig_p() -> list[tuple[str, str]]:
    """`ldconfig -p` rows: "\tlibz.so.1 (libc6,x86-64) => /lib/x86_64-linux-gnu/libz.so.1"."""
    try:
        out = subprocess.run(["ldconfig", "-p"], capture_output=True, text=True,
                             timeout=10).stdout
    except (OSError, subprocess.SubprocessError):
        return []
    rows = []
    for line in out.splitlines()[1:]:
        soname, _, rest = line.strip().partition(" (")
        path = rest.rpartition("=> ")[2].strip()
        if soname and path:
            rows.append((soname, path))
    return rows
