"""Stack text (output-formats.md §5) from frames the runtime has symbolized."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Frame:
    """One resolved frame: `symbol` is None when the address is unknown."""

    address: int
    symbol: str | None = None
    offset: int = 0


def format_stack(frames: list[Frame], kind: str, dialect: str) -> str:
    """kind: "kernel" or "user". btrace: one frame per line after a newline, hex offsets,
    then "kernel"/"userland"; bpftrace: 8-space indented frames, decimal offsets."""
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


def lost_events_text(n: int) -> str:
    """bpftrace classic, on stdout when the loss counter grew."""
    return f"Lost {n} events\n"


def attach_banner(n: int) -> str:
    """bpftrace classic banner (stdout): N counts BEGIN/END too."""
    return f"Attaching {n} probe...\n" if n == 1 else f"Attaching {n} probes...\n"
