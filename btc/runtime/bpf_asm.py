"""A tiny BPF assembler for the programs the runtime builds itself (the map dumper, the
syscall dispatcher): instructions as (code, dst, src, off, imm), forward jumps to named
labels, and the kernel's 8-byte encoding (include/uapi/linux/bpf.h struct bpf_insn)."""
from __future__ import annotations

import struct

from btc.runtime import abi

_INSN = struct.Struct("<BBhi")


class Asm:
    """A straight-line BPF instruction list with forward jumps to named labels."""

    def __init__(self) -> None:
        self.insns: list[list] = []  # [code, dst, src, off, imm, label-or-None]
        self.labels: dict[str, int] = {}

    def op(self, code: int, dst: int = 0, src: int = 0, off: int = 0, imm: int = 0,
           label: str | None = None) -> None:
        self.insns.append([code, dst, src, off, imm, label])

    def ld_map(self, dst: int, fd: int) -> None:
        self.op(abi.BPF_LD_IMM64, dst, abi.BPF_PSEUDO_MAP_FD, imm=fd)
        self.op(0)

    def ld_func(self, dst: int, label: str) -> None:
        self.op(abi.BPF_LD_IMM64, dst, abi.BPF_PSEUDO_FUNC, label=label)
        self.op(0)

    def call(self, helper: int) -> None:
        self.op(abi.BPF_JMP_CALL, imm=helper)

    def copy(self, dst: int, dst_off: int, src: int, n: int) -> None:
        """Copy n bytes from [src] to [dst + dst_off] through r1 (widest loads first)."""
        pos = 0
        for width in (8, 4, 2, 1):
            while n - pos >= width:
                self.op(abi.BPF_LDX_MEM[width], 1, src, pos)
                self.op(abi.BPF_STX_MEM[width], dst, 1, dst_off + pos)
                pos += width

    def mark(self, label: str) -> None:
        self.labels[label] = len(self.insns)

    def encode(self) -> bytes:
        out = []
        for i, (code, dst, src, off, imm, label) in enumerate(self.insns):
            if label is not None:
                rel = self.labels[label] - (i + 1)
                if code == abi.BPF_LD_IMM64:
                    imm = rel  # BPF_PSEUDO_FUNC: subprogram start relative to the next insn
                else:
                    off = rel
            out.append(_INSN.pack(code, dst | (src << 4), off, imm))
        return b"".join(out)
