"""BPF back end: typed IR -> LLVM IR (llvmlite) -> relocatable BPF ELF with BTF and `.btc.meta`."""
from btc.backend_bpf.emit import compile_program, emit_asm, emit_llvm

__all__ = ["compile_program", "emit_llvm", "emit_asm"]
