"""Locate (mounting if needed) tracefs and read tracepoint ids and format files.

Parsing the format text is btc.probes' job; this module only finds and reads files.
"""
from __future__ import annotations

import functools
import os
from pathlib import Path

from btc.diagnostics import BtcError
from btc.runtime import syscalls

TRACEFS = Path("/sys/kernel/tracing")
DEBUGFS_TRACING = Path("/sys/kernel/debug/tracing")
EVENT_SOURCE = Path("/sys/bus/event_source/devices")


@functools.cache
def tracefs_root() -> Path:
    """The tracefs mount point; mounts tracefs on /sys/kernel/tracing when nothing is there."""
    if (TRACEFS / "events").is_dir():
        return TRACEFS
    if TRACEFS.is_dir():
        try:
            syscalls.mount("nodev", str(TRACEFS), "tracefs")
        except BtcError:
            pass  # not allowed or no tracefs: try the debugfs location next
        if (TRACEFS / "events").is_dir():
            return TRACEFS
    if (DEBUGFS_TRACING / "events").is_dir():
        return DEBUGFS_TRACING
    raise BtcError("tracefs is not available (no /sys/kernel/tracing/events)",
                   hint="mount it with `mount -t tracefs nodev /sys/kernel/tracing` (needs root)")


def event_dir(category: str, name: str) -> Path:
    if "/" in category or "/" in name or category.startswith(".") or name.startswith("."):
        raise BtcError(f"invalid tracepoint name {category}:{name}")
    return tracefs_root() / "events" / category / name


def tracepoint_id(category: str, name: str) -> int:
    path = event_dir(category, name) / "id"
    try:
        return int(path.read_text().strip())
    except FileNotFoundError:
        raise BtcError(f"tracepoint {category}:{name} does not exist on this kernel") from None
    except (OSError, ValueError) as e:
        raise BtcError(f"cannot read {path}: {e}") from None


def tracepoint_format(category: str, name: str) -> str:
    """The raw text of events/CAT/NAME/format."""
    path = event_dir(category, name) / "format"
    try:
        return path.read_text()
    except FileNotFoundError:
        raise BtcError(f"tracepoint {category}:{name} does not exist on this kernel") from None
    except OSError as e:
        raise BtcError(f"cannot read {path}: {e}") from None


def has_kprobes() -> bool:
    if (EVENT_SOURCE / "kprobe" / "type").exists():
        return True
    try:
        return (tracefs_root() / "kprobe_events").exists()
    except BtcError:
        return False


def pmu_type(pmu: str) -> int | None:
    """The dynamic PMU type number of e.g. "uprobe", or None when the PMU is absent."""
    try:
        return int((EVENT_SOURCE / pmu / "type").read_text().strip())
    except (OSError, ValueError):
        return None


def pmu_retprobe_bit(pmu: str) -> int:
    """Bit number of `retprobe` in config, from .../format/retprobe (e.g. "config:0")."""
    try:
        text = (EVENT_SOURCE / pmu / "format" / "retprobe").read_text().strip()
        return int(text.split(":", 1)[1].split("-")[0])
    except (OSError, ValueError, IndexError):
        raise BtcError(f"cannot read the retprobe bit of the {pmu} PMU") from None


def pmu_format_shift(pmu: str, field: str) -> int:
    """First bit of a `config` field, from .../format/FIELD (e.g. "config:32-63")."""
    try:
        text = (EVENT_SOURCE / pmu / "format" / field).read_text().strip()
        where, bits = text.split(":", 1)
        if where != "config":
            raise ValueError(where)
        return int(bits.split("-")[0])
    except (OSError, ValueError, IndexError):
        raise BtcError(f"the {pmu} PMU has no {field} field in config "
                       "(kernel too old for USDT semaphores?)") from None


def list_events() -> list[tuple[str, str]]:
    """All (category, name) pairs under tracefs events/ (for probe listing)."""
    root = tracefs_root() / "events"
    out = []
    for cat in sorted(os.listdir(root)):
        cdir = root / cat
        if not cdir.is_dir():
            continue
        out.extend((cat, n) for n in sorted(os.listdir(cdir)) if (cdir / n / "id").exists())
    return out
