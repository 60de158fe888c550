"""A native syscall loop built from a few bytes of machine code, so that no C compiler is
needed at run time and the loop costs ~1 ns per iteration instead of a Python loop's ~100 ns.

The code is written into an anonymous executable mapping and called through ctypes. Only
x86-64 is encoded; elsewhere (or when the system forbids executable mappings) `build` returns
None and the caller falls back to a ctypes loop.
"""
from __future__ import annotations

import ctypes
import mmap
import platform
import struct
from dataclasses import dataclass

_LOOP_FN = ctypes.CFUNCTYPE(ctypes.c_long, ctypes.c_long)


@dataclass
class NativeLoop:
    """`call(n)` issues the syscall n times back to back; keep the object alive while used."""

    fn: object
    mem: mmap.mmap

    def __call__(self, n: int) -> int:
        if n <= 0:
            return 0  # the loop decrements before testing: 0 would mean 2**64 calls
        return self.fn(n)

    def close(self) -> None:
        self.fn = None
        try:
            self.mem.close()
        except BufferError:
            pass  # ctypes still references the buffer: freed with the object


def _x86_64_code(nr: int, args: tuple[int, ...]) -> bytes:
    """push rbx; mov rbx, rdi; L: mov eax, nr; mov rdi..r9, args; syscall; dec rbx; jnz L;
    mov rax, rbx; pop rbx; ret  -- returns the iterations left (0); rbx is callee-saved and
    syscall clobbers only rax, rcx, r11."""
    a = tuple(args) + (0,) * (6 - len(args))
    body = struct.pack("<BI", 0xB8, nr)  # mov eax, imm32
    # movabs rdi, rsi, rdx, r10, r8, r9 (the syscall argument registers in order)
    for prefix, op, value in ((0x48, 0xBF, a[0]), (0x48, 0xBE, a[1]), (0x48, 0xBA, a[2]),
                              (0x49, 0xBA, a[3]), (0x49, 0xB8, a[4]), (0x49, 0xB9, a[5])):
        body += struct.pack("<BBQ", prefix, op, value & 0xFFFFFFFFFFFFFFFF)
    body += b"\x0f\x05"  # syscall
    body += b"\x48\xff\xcb"  # dec rbx
    rel = -(len(body) + 6)
    body += b"\x0f\x85" + struct.pack("<i", rel)  # jnz L (rel32 from the end of this insn)
    return b"\x53" + b"\x48\x89\xfb" + body + b"\x48\x89\xd8" + b"\x5b\xc3"


def build(nr: int, args: tuple[int, ...] = ()) -> NativeLoop | None:
    if platform.machine() not in ("x86_64", "AMD64"):
        return None
    code = _x86_64_code(nr, args)
    try:
        mem = mmap.mmap(-1, mmap.PAGESIZE, prot=mmap.PROT_READ | mmap.PROT_WRITE | mmap.PROT_EXEC)
    except (OSError, ValueError):
        return None  # W^X policy (SELinux execmem, PaX): use the ctypes loop
    mem.write(code)
    addr = ctypes.addressof(ctypes.c_char.from_buffer(mem))
    return NativeLoop(_LOOP_FN(addr), mem)
