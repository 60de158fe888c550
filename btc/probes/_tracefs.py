"""Finding tracefs and reading its event lists (read-only; one mount attempt when asked)."""
from __future__ import annotations

import functools
import subprocess
from pathlib import Path

from btc.diagnostics import BtcError

_CANDIDATES = (Path("/sys/kernel/tracing"), Path("/sys/kernel/debug/tracing"))


@functools.lru_cache(maxsize=1)
def tracefs_root() -> Path:
    """The tracefs directory holding `events`; mounts /sys/kernel/tracing once if needed."""
    found = _existing_root()
    if found is None and _mount_once():
        found = _existing_root()
    if found is None:
        raise BtcError("tracefs is not mounted and could not be mounted on /sys/kernel/tracing")
    return found


@functools.lru_cache(maxsize=1)
def _mount_once() -> bool:
    """Called from a resolver or lister only (never at import): mounting is a user action."""
    try:
        done = subprocess.run(["mount", "-t", "tracefs", "nodev", str(_CANDIDATES[0])],
                              capture_output=True, timeout=10, check=False)
    except (OSError, subprocess.SubprocessError):
        return False
    return done.returncode == 0


def _existing_root() -> Path | None:
    for root in _CANDIDATES:
        if (root / "events").is_dir():
            return root
    return None


@functools.lru_cache(maxsize=1)
def available_events() -> tuple[tuple[str, str], ...]:
    """Every (category, name) in tracefs `available_events`, in the file's order."""
    path = tracefs_root() / "available_events"
    try:
        text = path.read_text()
    except OSError as e:
        raise BtcError(f"cannot read {path}: {e.strerror}") from None
    out = []
    for line in text.splitlines():
        cat, sep, name = line.partition(":")
        if sep:
            out.append((cat, name))
    return tuple(out)


@functools.lru_cache(maxsize=1)
def event_set() -> frozenset[tuple[str, str]]:
    return frozenset(available_events())


def event_exists(category: str, name: str) -> bool:
    if (category, name) in event_set():
        return True
    # available_events omits a few (ftrace's own events), which still have a format file
    return "/" not in category + name and (tracefs_root() / "events" / category / name / "format").is_file()


def read_file(rel: str) -> str | None:
    """A tracefs file's text, or None when it is missing or unreadable."""
    try:
        return (tracefs_root() / rel).read_text()
    except (OSError, BtcError):
        return None
