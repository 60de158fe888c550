"""The probe catalog: resolve probe specs of both dialects, describe their context records
and attach plans, and list what the running kernel offers.

A leaf package: it imports only the standard library and btc.diagnostics (uprobe symbol
lookup imports pyelftools lazily).
"""
from btc.probes.base import ArgInfo, ProbeSpec, Provider, RetvalInfo
from btc.probes.listing import list_probes
from btc.probes.registry import PROVIDERS, find_provider, provider_names, resolve, resolve_all
from btc.probes.syscall import raw_syscall_variant
from btc.probes.syscalls import syscall_number, syscall_table, syscall_tracepoints
from btc.probes.tracefs_format import TracepointFormat, parse_format, tracepoint_format

__all__ = [
    "ArgInfo", "ProbeSpec", "Provider", "RetvalInfo", "TracepointFormat", "PROVIDERS",
    "find_provider", "list_probes", "parse_format", "provider_names", "raw_syscall_variant",
    "resolve", "resolve_all", "syscall_number", "syscall_table", "syscall_tracepoints",
    "tracepoint_format",
]
