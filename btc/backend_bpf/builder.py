"""A thin wrapper over llvmlite's IRBuilder that speaks BPF: helper calls by id, map verbs,
probe reads, clocks, ring-buffer records, and byte-level memory copies that keep alignment
visible to LLVM (the BPF target splits misaligned accesses into bytes)."""
from __future__ import annotations

from llvmlite import ir

from btc.backend_bpf.helpers import BpfFunc
from btc.backend_bpf.layout import I8, I32, I64, PTR
from btc.records import Record  # cheaper to define than a dataclass (start-up)


class Mem(Record):
    """A value that lives in memory: its address and the alignment known for it."""

    ptr: ir.Value
    align: int = 1


class BpfBuilder:
    def __init__(self, b: ir.IRBuilder):
        self.b = b

    # ------------------------------------------------------------ helpers

    def call_helper(self, func: BpfFunc, args: list[ir.Value], ret: ir.Type = I64,
                    pure: bool = False) -> ir.Value:
        """`pure`: the helper's result is fixed for one run of the program and it touches no
        memory, so LLVM may merge repeated calls (pid and tid share one call)."""
        fnty = ir.FunctionType(ret, [a.type for a in args])
        callee = ir.Constant(I64, int(func)).inttoptr(PTR)
        callee.function_type = fnty  # llvmlite reads the signature from the callee
        return self.b.call(callee, args, attrs=("nounwind", "readnone") if pure else ())

    def high_half(self, v: ir.Value) -> ir.Value:
        """v >> 32 (pid from pid_tgid, gid from uid_gid), kept opaque to InstCombine: it turns
        `(v >> 32) == C` into `(v & 0xffffffff00000000) == C << 32`: two 64-bit immediates,
        an and and a compare (6 instructions) where the shift and a compare take 2.
        llvm.bpf.passthrough is the BPF back end's own optimisation barrier, removed before
        instruction selection."""
        name = "llvm.bpf.passthrough.i64.i64"
        mod = self.b.module
        fn = mod.globals.get(name) or ir.Function(mod, ir.FunctionType(I64, [I32, I64]), name)
        return self.b.call(fn, [I32(0), self.b.lshr(v, I64(32))])

    def map_lookup(self, m: ir.GlobalVariable, key: ir.Value) -> ir.Value:
        return self.call_helper(BpfFunc.map_lookup_elem, [m, key], PTR)

    def map_lookup_percpu(self, m: ir.GlobalVariable, key: ir.Value, cpu: ir.Value) -> ir.Value:
        return self.call_helper(BpfFunc.map_lookup_percpu_elem, [m, key, cpu], PTR)

    def map_update(self, m: ir.GlobalVariable, key: ir.Value, val: ir.Value, flags: int) -> ir.Value:
        return self.call_helper(BpfFunc.map_update_elem, [m, key, val, I64(flags)])

    def map_delete(self, m: ir.GlobalVariable, key: ir.Value) -> ir.Value:
        return self.call_helper(BpfFunc.map_delete_elem, [m, key])

    def probe_read(self, dst: ir.Value, size: ir.Value, src: ir.Value, user: bool) -> ir.Value:
        f = BpfFunc.probe_read_user if user else BpfFunc.probe_read_kernel
        return self.call_helper(f, [dst, self._u32(size), src])

    def probe_read_str(self, dst: ir.Value, size: ir.Value, src: ir.Value, user: bool) -> ir.Value:
        f = BpfFunc.probe_read_user_str if user else BpfFunc.probe_read_kernel_str
        return self.call_helper(f, [dst, self._u32(size), src])

    def ktime(self, clock: str) -> ir.Value:
        """clock: "boot", "monotonic" or "tai" (kernel >= 6.1)."""
        f = {"boot": BpfFunc.ktime_get_boot_ns, "monotonic": BpfFunc.ktime_get_ns,
             "tai": BpfFunc.ktime_get_tai_ns}[clock]
        return self.call_helper(f, [])

    def pid_tgid(self) -> ir.Value:
        return self.call_helper(BpfFunc.get_current_pid_tgid, [], pure=True)

    def uid_gid(self) -> ir.Value:
        return self.call_helper(BpfFunc.get_current_uid_gid, [], pure=True)

    def comm(self, dst: ir.Value, size: int) -> ir.Value:
        return self.call_helper(BpfFunc.get_current_comm, [dst, I32(size)])

    def ringbuf_reserve(self, m: ir.GlobalVariable, size: int) -> ir.Value:
        return self.call_helper(BpfFunc.ringbuf_reserve, [m, I64(size), I64(0)], PTR)

    def ringbuf_submit(self, rec: ir.Value) -> None:
        self.call_helper(BpfFunc.ringbuf_submit, [rec, I64(0)], ir.VoidType())

    def ringbuf_output(self, m: ir.GlobalVariable, data: ir.Value, size: int) -> ir.Value:
        return self.call_helper(BpfFunc.ringbuf_output, [m, data, I64(size), I64(0)])

    def _u32(self, v: ir.Value) -> ir.Value:
        if isinstance(v, int):
            return I32(v)
        if v.type.width > 32:
            return self.b.trunc(v, I32)
        if v.type.width < 32:
            return self.b.zext(v, I32)
        return v

    # ------------------------------------------------------------ memory

    def at(self, ptr: ir.Value, off: int | ir.Value) -> ir.Value:
        if isinstance(off, int):
            if off == 0:
                return ptr
            off = I64(off)
        return self.b.gep(ptr, [off], inbounds=True, source_etype=I8)

    def load_int(self, ptr: ir.Value, ty: ir.IntType, align: int) -> ir.Value:
        return self.b.load(ptr, typ=ty, align=align)

    def store_int(self, val: ir.Value, ptr: ir.Value, align: int) -> None:
        self.b.store(val, ptr, align=align)

    def atomic_add(self, ptr: ir.Value, val: ir.Value) -> None:
        self.b.atomic_rmw("add", ptr, val, "monotonic")

    def _chunks(self, n: int, align: int):
        """(offset, width) pieces covering n bytes with accesses no wider than `align`."""
        off = 0
        for w in (8, 4, 2, 1):
            if w > align:
                continue
            while n - off >= w:
                yield off, w
                off += w

    def zero(self, mem: Mem, n: int) -> None:
        for off, w in self._chunks(n, mem.align):
            self.b.store(ir.IntType(8 * w)(0), self.at(mem.ptr, off), align=w)

    def copy(self, dst: Mem, src: Mem, n: int) -> None:
        align = min(dst.align, src.align)
        for off, w in self._chunks(n, align):
            ty = ir.IntType(8 * w)
            v = self.b.load(self.at(src.ptr, off), typ=ty, align=w)
            self.b.store(v, self.at(dst.ptr, off), align=w)

    def store_bytes(self, dst: Mem, data: bytes, n: int) -> None:
        """Write `data` zero-padded to n bytes as immediate stores."""
        data = data[:n].ljust(n, b"\0")
        for off, w in self._chunks(n, dst.align):
            v = int.from_bytes(data[off : off + w], "little")
            self.b.store(ir.IntType(8 * w)(v), self.at(dst.ptr, off), align=w)
