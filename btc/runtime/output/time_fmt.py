"""time(): strftime into a 64-byte buffer, per dialect."""
from __future__ import annotations

import time as _time

BPFTRACE_DEFAULT = "%H:%M:%S\n"
_BUF = 64


def format_time(fmt: str | None, dialect: str = "btrace", event_ns: int | None = None,
                now: float | None = None) -> tuple[str, list[str]]:
    """(text, warnings). btrace formats the event's realtime timestamp (`event_ns`, or the
    current time for BEGIN/END); bpftrace the wall clock now, default "%H:%M:%S\\n".
    A result that does not fit 64 bytes (with its NUL) prints nothing."""
    if dialect == "btrace":
        seconds = event_ns / 1e9 if event_ns is not None else (now if now is not None else _time.time())
    else:
        fmt = BPFTRACE_DEFAULT if fmt is None else fmt
        seconds = now if now is not None else _time.time()
    text = _time.strftime(fmt or "", _time.localtime(int(seconds)))
    if len(text.encode("utf-8", "surrogateescape")) >= _BUF:
        return "", (["ERROR: strftime returned 0"] if dialect == "bpftrace" else [])
    return text, []


def format_boot_ns(fmt: str, ns: int) -> bytes:
    """bpftrace's strftime(fmt, ns): `ns` since boot (what `nsecs` reads) as local wall-clock
    time; `%f` is bpftrace's microseconds of that second (6 digits). Too long a result prints
    nothing, as time() does."""
    wall = ns + _time.clock_gettime_ns(_time.CLOCK_REALTIME) - _time.clock_gettime_ns(_time.CLOCK_BOOTTIME)
    seconds, rest = divmod(wall, 1_000_000_000)
    fmt = fmt.replace("%%", "\0").replace("%f", f"{rest // 1000:06d}").replace("\0", "%%")
    text = _time.strftime(fmt, _time.localtime(seconds)).encode("utf-8", "surrogateescape")
    return text if len(text) < _BUF else b""
