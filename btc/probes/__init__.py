"""The probe catalog: resolve probe specs of both dialects, describe their context records
and attach plans, and list what the running kernel offers.

A leaf package: it imports only the standard library and btc.diagnostics (uprobe symbol
lookup imports pyelftools lazily). Names are imported on first use, so that the compiler
loads only the provider modules a program names (start-up time).
"""
import importlib

import btc.diagnostics  # noqa: F401  the package's one btc dependency (cheap, loaded anyway)

_EXPORTS = {
    "ArgInfo": "base", "ProbeSpec": "base", "Provider": "base", "RetvalInfo": "base",
    "list_probes": "listing",
    "PROVIDERS": "registry", "find_provider": "registry", "provider_names": "registry",
    "resolve": "registry", "resolve_all": "registry",
    "syscall_number": "syscalls", "syscall_table": "syscalls", "syscall_tracepoints": "syscalls",
    "TracepointFormat": "tracefs_format", "parse_format": "tracefs_format",
    "tracepoint_format": "tracefs_format",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str):
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{module}"), name)
