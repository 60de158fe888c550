"""BPF back end: typed IR -> LLVM IR (llvmlite) -> relocatable BPF ELF with BTF and `.btc.meta`.

Modules, one job each: `layout` (IR types and map layouts), `debuginfo` / `btf_maps` (the DI
that LLVM turns into .BTF/.BTF.ext: map definitions, types, line info), `builder` (BPF verbs
over llvmlite's IRBuilder), `helpers` (bpf_func_id table), `arith` and `aggs` (integer and
aggregation semantics), `lower` (one method per IR node), `emit` (build, verify, optimise,
object).
"""
from btc.backend_bpf.emit import compile_program, emit_asm, emit_llvm

__all__ = ["compile_program", "emit_llvm", "emit_asm"]
