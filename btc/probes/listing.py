"""`btc list`: every probe this kernel offers, filtered by a shell glob.

Tracepoints come from tracefs `available_events` (one read, not a directory walk);
verbose mode adds each tracepoint's fields as `bpftrace -lv` prints them. `usdt:PATH:…`
patterns list that binary's .note.stapsdt probes (usdt.py).
"""
from __future__ import annotations

import fnmatch

from btc.diagnostics import BtcError
from btc.probes.base import Provider
from btc.probes.registry import PROVIDERS
from btc.probes.tracefs_format import c_decl, tracepoint_format
from btc.probes.uprobe import uprobe_listing
from btc.probes.usdt import usdt_listing


def list_probes(pattern: str | None = None, dialect: str = "btrace",
                verbose: bool = False) -> list[str]:
    """Matching probe names, one per entry (verbose: field lines follow, indented)."""
    binary = _binary_listing(pattern, dialect, verbose) if pattern else None
    if binary is not None:  # usdt probes live in one binary's notes, not in the kernel
        return binary
    entries = [e for e in _all_entries(dialect, _providers_for(pattern, dialect))
               if _matches(e, pattern)]
    if not verbose:
        return entries
    out: list[str] = []
    for entry in entries:
        out.append(entry)
        out.extend("    " + line for line in _details(entry))
    return out


def _binary_listing(pattern: str, dialect: str, verbose: bool) -> list[str] | None:
    """usdt and uprobe probes live in one binary, not in the kernel: listed from its ELF."""
    found = usdt_listing(pattern, verbose)
    if found is None and dialect == "bpftrace":  # btrace has no uprobes
        found = uprobe_listing(pattern)
    return found


def _providers_for(pattern: str | None, dialect: str) -> list[Provider]:
    """Providers whose name can match the pattern's first part; all of them when none can
    (the pattern then has no provider part, like `sched:*`). Skipping the others keeps
    `btc list 'tracepoint:*'` from parsing vmlinux BTF for raw tracepoints."""
    usable = [p for p in PROVIDERS if p.listing is not None and dialect in p.dialects]
    if not pattern:
        return usable
    head = pattern.split(":", 1)[0]
    named = [p for p in usable if fnmatch.fnmatchcase(p.word, head)]
    return named or usable


def _all_entries(dialect: str, providers: list[Provider]) -> list[str]:
    out: list[str] = []
    seen: set[str] = set()
    for p in providers:
        if p.listing is None or dialect not in p.dialects:
            continue
        if dialect == "btrace" and p.name == "tracepoint":
            entries = [e for e in p.listing(dialect) if not e.startswith("tracepoint:syscalls:")]
        else:
            entries = p.listing(dialect)
        for e in entries:
            if e not in seen:
                seen.add(e)
                out.append(e)
    return out


def _matches(entry: str, pattern: str | None) -> bool:
    if not pattern:
        return True
    if fnmatch.fnmatchcase(entry, pattern):
        return True
    # `btc list 'sched:*'`-style patterns without the provider, as bpftrace -l accepts
    return ":" in entry and fnmatch.fnmatchcase(entry.split(":", 1)[1], pattern)


def _details(entry: str) -> list[str]:
    parts = entry.split(":")
    if parts[0] == "tracepoint" and len(parts) == 3:
        cat, name = parts[1], parts[2]
    elif parts[0] == "syscall" and len(parts) == 3:
        cat = "syscalls"
        name = ("sys_enter_" if parts[2] == "entry" else "sys_exit_") + parts[1]
    else:
        return []
    try:
        fmt = tracepoint_format(cat, name)
    except BtcError:
        return []
    # for syscall:… entries the record's __syscall_nr is not one of arg0..argN
    return [c_decl(f) for f in fmt.args if parts[0] == "tracepoint" or f.name != "__syscall_nr"]
