"""A process's executable mappings from /proc/PID/maps: address -> (file, file offset)."""
from __future__ import annotations

import bisect
from dataclasses import dataclass


@dataclass(frozen=True)
class Mapping:
    start: int
    end: int
    pgoff: int
    inode: int
    path: str


def read_maps(pid: int) -> list[Mapping] | None:
    """File-backed mappings sorted by start, or None when the process is gone."""
    try:
        with open(f"/proc/{pid}/maps", encoding="utf-8", errors="surrogateescape") as f:
            lines = f.read().splitlines()
    except OSError:
        return None
    out = []
    for line in lines:
        parts = line.split(None, 5)
        if len(parts) < 6 or not parts[5].startswith("/"):
            continue  # anonymous, [heap], [vdso], ...
        lo, hi = parts[0].split("-")
        path = parts[5]
        if path.endswith(" (deleted)"):
            path = path[: -len(" (deleted)")]
        out.append(Mapping(int(lo, 16), int(hi, 16), int(parts[2], 16), int(parts[4]), path))
    out.sort(key=lambda m: m.start)
    return out


def find_mapping(maps: list[Mapping], addr: int) -> Mapping | None:
    i = bisect.bisect_right([m.start for m in maps], addr) - 1
    if i >= 0 and addr < maps[i].end:
        return maps[i]
    return None


def object_path(pid: int, m: Mapping) -> str:
    """A path to the mapped file that works across mount namespaces while the process
    lives (/proc/PID/map_files needs root), else the path as written in maps."""
    return f"/proc/{pid}/map_files/{m.start:x}-{m.end:x}"
