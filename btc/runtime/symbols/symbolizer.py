"""One run's symbol lookups: kernel and user, names and stack frames."""
from __future__ import annotations

from btc.runtime.output.stacks import Frame
from btc.runtime.symbols.kernel import KernelSymbols
from btc.runtime.symbols.user import UserSymbols


def hex_addr(addr: int) -> str:
    return f"0x{addr:x}"


class Symbolizer:
    """Lazily loads /proc/kallsyms and ELF files the first time they are needed."""

    def __init__(self, kallsyms: str | None = None) -> None:
        self.kernel = KernelSymbols(kallsyms) if kallsyms else KernelSymbols()
        self.user = UserSymbols()

    def ksym(self, addr: int) -> str:
        """bpftrace ksym(): the symbol name alone, or 0xADDR when unknown."""
        hit = self.kernel.lookup(addr)
        return hit[0] if hit else hex_addr(addr)

    def usym(self, pid: int, addr: int) -> str:
        hit = self.user.lookup(pid, addr)
        return hit[0] if hit else hex_addr(addr)

    def kaddr(self, name: str) -> int | None:
        return self.kernel.address(name)

    def uaddr(self, path: str, name: str) -> int | None:
        return self.user.address(path, name)

    def kernel_frames(self, addrs: list[int]) -> list[Frame]:
        import numpy as np

        hits = self.kernel.lookup_many(np.array(addrs, dtype=np.uint64))
        return [Frame(a, h[0], h[1]) if h else Frame(a) for a, h in zip(addrs, hits)]

    def user_frames(self, pid: int, addrs: list[int]) -> list[Frame]:
        out = []
        for a in addrs:
            hit = self.user.lookup(pid, a)
            out.append(Frame(a, hit[0], hit[1], hit[2]) if hit else Frame(a))
        return out
