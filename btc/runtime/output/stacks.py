"""Stack text (output-formats.md §5) from frames the runtime has symbolized."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Frame:
    """One resolved frame: `symbol` is None when the address is unknown; `path` is the
    mapped file of a user frame (bpftrace's perf mode prints it)."""

    address: int
    symbol: str | None = None
    offset: int = 0
    path: str | None = None


def format_stack(frames: list[Frame], kind: str, dialect: str, mode: str | None = None) -> str:
    """kind: "kernel" or "user". btrace: one frame per line after a newline, hex offsets,
    then "kernel"/"userland"; bpftrace: 8-space indented frames, decimal offsets.
    bpftrace `mode` "perf": TAB, hex address, space, sym+off (user frames add " (path)");
    "raw": TAB-less hex addresses."""
    if dialect != "btrace" and mode == "perf":
        return "\n" + "".join(_perf_frame(f, kind) + "\n" for f in frames)
    if dialect != "btrace" and mode == "raw":
        return "\n" + "".join(f"{f.address:x}\n" for f in frames)
    if dialect == "btrace":
        text = "".join("\n" + _btrace_frame(f) for f in frames)
        if kind == "kernel" and frames:
            return text + "\nkernel\n"
        return text + "\nuserland\n"
    return "\n" + "".join(f"        {_bpftrace_frame(f)}\n" for f in frames)


def _btrace_frame(f: Frame) -> str:
    if f.symbol is None:
        return f"0x{f.address:x}"
    return f"{f.symbol}+0x{f.offset:x}" if f.offset else f.symbol


def _bpftrace_frame(f: Frame) -> str:
    if f.symbol is None:
        return f"0x{f.address:x}"
    return f"{f.symbol}+{f.offset}"


def _perf_frame(f: Frame, kind: str) -> str:
    text = f"\t{f.address:x} {_bpftrace_frame(f)}"
    if kind == "user":
        text += f" ({f.path or '[unknown]'})"
    return text


def lost_events_text(n: int) -> str:
    """bpftrace classic, on stdout when the loss counter grew."""
    return f"Lost {n} events\n"


def attach_banner(n: int) -> str:
    """bpftrace classic banner (stdout): N counts BEGIN/END too."""
    return f"Attaching {n} probe...\n" if n == 1 else f"Attaching {n} probes...\n"
