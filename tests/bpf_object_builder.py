"""Build small btc-style BPF objects with llvmlite for runtime loader tests.

The IR mirrors design.md §2: BTF-defined maps in `.maps`, programs in libbpf-named sections,
`license`, `.rodata`/`.bss` globals with debug info (so their DATASECs need fixing up) and a
`.btc.meta` JSON section.
"""
from __future__ import annotations

import json

SOURCE = "BEGIN { @count = 5 }\nEND { @count = 1000 }\ntracepoint:syscalls:sys_enter_getpid { @count++ }\n"

_HEADER = r"""
target triple = "bpfel"

%maparr = type { ptr, ptr, ptr, ptr }
%maprb = type { ptr, ptr }

@m_count = dso_local global %maparr zeroinitializer, section ".maps", align 8, !dbg !100
@events = dso_local global %maprb zeroinitializer, section ".maps", align 8, !dbg !110
@rd_inc = dso_local constant i64 5, section ".rodata", align 8, !dbg !120
@b0 = dso_local global i64 0, section ".bss", align 8, !dbg !130
@b1 = dso_local global i64 0, section ".bss", align 8, !dbg !140
@LICENSE = dso_local global [4 x i8] c"GPL\00", section "license", align 1
"""

_FUNCS = {
    "p0_BEGIN": r"""
define dso_local i32 @p0_BEGIN(ptr %ctx) #0 section "raw_tp" !dbg !200 {
  %key = alloca i32, align 4
  %buf = alloca i64, align 8
  store i32 0, ptr %key, align 4, !dbg !203
  %v = call ptr inttoptr (i64 1 to ptr)(ptr @m_count, ptr %key), !dbg !203
  %z = icmp eq ptr %v, null, !dbg !203
  br i1 %z, label %out, label %inc, !dbg !203
inc:
  %inc_by = load i64, ptr @rd_inc, align 8, !dbg !203
  %o = atomicrmw add ptr %v, i64 %inc_by monotonic, align 8, !dbg !203
  br label %out, !dbg !203
out:
  %h = call i64 @helper(i64 3), !dbg !204
  %o2 = atomicrmw add ptr @b1, i64 %h monotonic, align 8, !dbg !204
  store i64 4242, ptr %buf, align 8, !dbg !204
  %r = call i64 inttoptr (i64 130 to ptr)(ptr @events, ptr %buf, i64 8, i64 0), !dbg !204
  ret i32 0, !dbg !204
}
""",
    "p1_END": r"""
define dso_local i32 @p1_END(ptr %ctx) #0 section "raw_tp" !dbg !210 {
  %key = alloca i32, align 4
  store i32 0, ptr %key, align 4, !dbg !213
  %v = call ptr inttoptr (i64 1 to ptr)(ptr @m_count, ptr %key), !dbg !213
  %z = icmp eq ptr %v, null, !dbg !213
  br i1 %z, label %out, label %inc, !dbg !213
inc:
  %o = atomicrmw add ptr %v, i64 1000 monotonic, align 8, !dbg !213
  br label %out, !dbg !213
out:
  ret i32 0, !dbg !213
}
""",
    "p2_getpid": r"""
define dso_local i32 @p2_getpid(ptr %ctx) #0 section "tracepoint/syscalls/sys_enter_getpid" !dbg !220 {
  %key = alloca i32, align 4
  store i32 0, ptr %key, align 4, !dbg !223
  %v = call ptr inttoptr (i64 1 to ptr)(ptr @m_count, ptr %key), !dbg !223
  %z = icmp eq ptr %v, null, !dbg !223
  br i1 %z, label %out, label %inc, !dbg !223
inc:
  %o = atomicrmw add ptr %v, i64 1 monotonic, align 8, !dbg !223
  br label %out, !dbg !223
out:
  ret i32 0, !dbg !223
}
""",
    # bpf_loop(4, cb, NULL, 0) with cb adding 1 to @count each time: an ld_imm64 of a function
    "p4_loop": r"""
define dso_local i32 @p4_loop(ptr %ctx) #0 section "raw_tp" !dbg !250 {
  %n = call i64 inttoptr (i64 181 to ptr)(i32 4, ptr @cb, ptr null, i64 0), !dbg !253
  ret i32 0, !dbg !253
}
""",
    # reads far beyond the tracepoint record: the verifier must refuse it (line 3 col 40)
    "p3_bad": r"""
define dso_local i32 @p3_bad(ptr %ctx) #0 section "tracepoint/syscalls/sys_enter_getpid" !dbg !230 {
  %p = getelementptr i8, ptr %ctx, i64 16000, !dbg !233
  %x = load i64, ptr %p, align 8, !dbg !233
  %t = trunc i64 %x to i32, !dbg !233
  ret i32 %t, !dbg !233
}
""",
}

_HELPER = r"""
define internal i64 @helper(i64 %x) #1 section ".text" !dbg !240 {
  %y = mul i64 %x, 2, !dbg !243
  ret i64 %y, !dbg !243
}
"""

_CB = r"""
define internal i64 @cb(i32 %i, ptr %d) #1 section ".text" !dbg !260 {
  %key = alloca i32, align 4
  store i32 0, ptr %key, align 4, !dbg !263
  %v = call ptr inttoptr (i64 1 to ptr)(ptr @m_count, ptr %key), !dbg !263
  %z = icmp eq ptr %v, null, !dbg !263
  br i1 %z, label %out, label %inc, !dbg !263
inc:
  %o = atomicrmw add ptr %v, i64 1 monotonic, align 8, !dbg !263
  br label %out, !dbg !263
out:
  ret i64 0, !dbg !263
}
"""

_CB_DEBUG = (
    '!260 = distinct !DISubprogram(name: "cb", scope: !3, file: !3, line: 1, type: !262, '
    "scopeLine: 1, flags: DIFlagPrototyped, spFlags: DISPFlagLocalToUnit | DISPFlagDefinition | "
    "DISPFlagOptimized, unit: !2, retainedNodes: !{!261, !264})\n"
    '!261 = !DILocalVariable(name: "i", arg: 1, scope: !260, file: !3, line: 1, type: !10)\n'
    '!264 = !DILocalVariable(name: "d", arg: 2, scope: !260, file: !3, line: 1, type: !13)\n'
    "!262 = !DISubroutineType(types: !{!12, !10, !13})\n"
    "!263 = !DILocation(line: 1, column: 1, scope: !260)\n")

_META_DEBUG = r"""
attributes #0 = { nounwind }
attributes #1 = { nounwind noinline }

!llvm.dbg.cu = !{!2}
!llvm.module.flags = !{!50, !51}
!50 = !{i32 7, !"Dwarf Version", i32 5}
!51 = !{i32 2, !"Debug Info Version", i32 3}
!2 = distinct !DICompileUnit(language: DW_LANG_C99, file: !3, producer: "btc-test", isOptimized: true, runtimeVersion: 0, emissionKind: FullDebug, globals: !4, nameTableKind: None)
!3 = !DIFile(filename: "test.bt", directory: "/tmp", source: "SOURCE")
!4 = !{!100, !110, !120, !130, !140}
!10 = !DIBasicType(name: "int", size: 32, encoding: DW_ATE_signed)
!11 = !DIBasicType(name: "unsigned int", size: 32, encoding: DW_ATE_unsigned)
!12 = !DIBasicType(name: "long long", size: 64, encoding: DW_ATE_signed)
!13 = !DIDerivedType(tag: DW_TAG_pointer_type, baseType: null, size: 64)
!100 = !DIGlobalVariableExpression(var: !101, expr: !DIExpression())
!101 = distinct !DIGlobalVariable(name: "m_count", scope: !2, file: !3, line: 1, type: !102, isLocal: false, isDefinition: true)
!102 = distinct !DICompositeType(tag: DW_TAG_structure_type, file: !3, line: 1, size: 256, elements: !103)
!103 = !{!104, !105, !106, !107}
!104 = !DIDerivedType(tag: DW_TAG_member, name: "type", scope: !102, file: !3, line: 1, baseType: !150, size: 64)
!105 = !DIDerivedType(tag: DW_TAG_member, name: "max_entries", scope: !102, file: !3, line: 1, baseType: !152, size: 64, offset: 64)
!106 = !DIDerivedType(tag: DW_TAG_member, name: "key", scope: !102, file: !3, line: 1, baseType: !158, size: 64, offset: 128)
!107 = !DIDerivedType(tag: DW_TAG_member, name: "value", scope: !102, file: !3, line: 1, baseType: !159, size: 64, offset: 192)
!110 = !DIGlobalVariableExpression(var: !111, expr: !DIExpression())
!111 = distinct !DIGlobalVariable(name: "events", scope: !2, file: !3, line: 1, type: !112, isLocal: false, isDefinition: true)
!112 = distinct !DICompositeType(tag: DW_TAG_structure_type, file: !3, line: 1, size: 128, elements: !113)
!113 = !{!114, !115}
!114 = !DIDerivedType(tag: DW_TAG_member, name: "type", scope: !112, file: !3, line: 1, baseType: !154, size: 64)
!115 = !DIDerivedType(tag: DW_TAG_member, name: "max_entries", scope: !112, file: !3, line: 1, baseType: !156, size: 64, offset: 64)
!120 = !DIGlobalVariableExpression(var: !121, expr: !DIExpression())
!121 = distinct !DIGlobalVariable(name: "rd_inc", scope: !2, file: !3, line: 1, type: !122, isLocal: false, isDefinition: true)
!122 = !DIDerivedType(tag: DW_TAG_const_type, baseType: !12)
!130 = !DIGlobalVariableExpression(var: !131, expr: !DIExpression())
!131 = distinct !DIGlobalVariable(name: "b0", scope: !2, file: !3, line: 1, type: !12, isLocal: false, isDefinition: true)
!140 = !DIGlobalVariableExpression(var: !141, expr: !DIExpression())
!141 = distinct !DIGlobalVariable(name: "b1", scope: !2, file: !3, line: 1, type: !12, isLocal: false, isDefinition: true)
!150 = !DIDerivedType(tag: DW_TAG_pointer_type, baseType: !151, size: 64)
!151 = !DICompositeType(tag: DW_TAG_array_type, baseType: !10, size: 64, elements: !{!DISubrange(count: 2)})
!152 = !DIDerivedType(tag: DW_TAG_pointer_type, baseType: !153, size: 64)
!153 = !DICompositeType(tag: DW_TAG_array_type, baseType: !10, size: 32, elements: !{!DISubrange(count: 1)})
!154 = !DIDerivedType(tag: DW_TAG_pointer_type, baseType: !155, size: 64)
!155 = !DICompositeType(tag: DW_TAG_array_type, baseType: !10, size: 864, elements: !{!DISubrange(count: 27)})
!156 = !DIDerivedType(tag: DW_TAG_pointer_type, baseType: !157, size: 64)
!157 = !DICompositeType(tag: DW_TAG_array_type, baseType: !10, size: 131072, elements: !{!DISubrange(count: 4096)})
!158 = !DIDerivedType(tag: DW_TAG_pointer_type, baseType: !11, size: 64)
!159 = !DIDerivedType(tag: DW_TAG_pointer_type, baseType: !12, size: 64)
!160 = !DISubroutineType(types: !{!10, !13})
!161 = !DISubroutineType(types: !{!12, !12})
"""

_SUBPROGRAMS = {
    "p0_BEGIN": (200, 1, 9),
    "p1_END": (210, 2, 7),
    "p2_getpid": (220, 3, 40),
    "p3_bad": (230, 3, 40),
    "p4_loop": (250, 1, 5),
}


def _subprogram(name: str, base: int, line: int, col: int) -> str:
    return (f'!{base} = distinct !DISubprogram(name: "{name}", scope: !3, file: !3, line: {line}, '
            f"type: !160, scopeLine: {line}, flags: DIFlagPrototyped, spFlags: DISPFlagDefinition "
            f"| DISPFlagOptimized, unit: !2, retainedNodes: !{{!{base + 1}}})\n"
            f'!{base + 1} = !DILocalVariable(name: "ctx", arg: 1, scope: !{base}, file: !3, '
            f"line: {line}, type: !13)\n"
            f"!{base + 3} = !DILocation(line: {line}, column: {col}, scope: !{base})\n"
            f"!{base + 4} = !DILocation(line: {line}, column: {col + 2}, scope: !{base})\n")


_HELPER_DEBUG = (
    '!240 = distinct !DISubprogram(name: "helper", scope: !3, file: !3, line: 1, type: !161, '
    "scopeLine: 1, flags: DIFlagPrototyped, spFlags: DISPFlagLocalToUnit | DISPFlagDefinition | "
    "DISPFlagOptimized, unit: !2, retainedNodes: !{!241})\n"
    '!241 = !DILocalVariable(name: "x", arg: 1, scope: !240, file: !3, line: 1, type: !12)\n'
    "!243 = !DILocation(line: 1, column: 1, scope: !240)\n")

PROG_TYPES = {"p0_BEGIN": 17, "p1_END": 17, "p2_getpid": 5, "p3_bad": 5, "p4_loop": 17}
SECTIONS = {"p0_BEGIN": "raw_tp", "p1_END": "raw_tp",
            "p2_getpid": "tracepoint/syscalls/sys_enter_getpid",
            "p3_bad": "tracepoint/syscalls/sys_enter_getpid", "p4_loop": "raw_tp"}
PROBES = {"p0_BEGIN": "BEGIN", "p1_END": "END", "p2_getpid": "tracepoint:syscalls:sys_enter_getpid",
          "p3_bad": "tracepoint:syscalls:sys_enter_getpid", "p4_loop": "BEGIN"}
ATTACH = {"p4_loop": {"kind": "begin"},"p0_BEGIN": {"kind": "begin"}, "p1_END": {"kind": "end"},
          "p2_getpid": {"kind": "tracepoint", "category": "syscalls", "name": "sys_enter_getpid"},
          "p3_bad": {"kind": "tracepoint", "category": "syscalls", "name": "sys_enter_getpid"}}


def metadata(funcs: list[str]) -> dict:
    return {
        "version": 1, "dialect": "btrace", "source_name": "test.bt",
        "programs": [{"func": f, "section": SECTIONS[f], "prog_type": PROG_TYPES[f],
                      "probe": PROBES[f], "attach": ATTACH[f]} for f in funcs],
        "maps": [{"name": "@count", "sym": "m_count", "map_type": 2, "key_size": 4,
                  "value_size": 8, "max_entries": 1, "flags": 0, "key": None,
                  "value": {"k": "int", "size": 8, "signed": True}, "agg": "none",
                  "percpu": False, "hist_bits": 0, "lhist": None}],
        "events": {}, "print_at_exit": ["@count"],
    }


def _llvm_bytes(data: bytes) -> str:
    return "".join(chr(b) if 32 <= b < 127 and b not in (34, 92) else f"\\{b:02X}" for b in data)


def build_ir(funcs: list[str], meta: dict | bytes | None = None) -> str:
    """`meta`: a dict (JSON-encoded), raw bytes, or None for metadata(funcs); b"" = no section."""
    if isinstance(meta, bytes):
        meta_bytes = meta
    else:
        meta_bytes = json.dumps(meta if meta is not None else metadata(funcs)).encode()
    used = ["@m_count", "@events", "@LICENSE"] + (["@btc_meta"] if meta_bytes else [])
    used += [f"@{f}" for f in funcs]
    meta_global = (f'@btc_meta = internal constant [{len(meta_bytes)} x i8] '
                   f'c"{_llvm_bytes(meta_bytes)}", section ".btc.meta", align 1\n') if meta_bytes else ""
    parts = [
        _HEADER,
        meta_global,
        f"@llvm.compiler.used = appending global [{len(used)} x ptr] [{', '.join('ptr ' + u for u in used)}]"
        ', section "llvm.metadata"\n',
    ]
    parts += [_FUNCS[f] for f in funcs]
    parts.append(_HELPER)
    if "p4_loop" in funcs:
        parts.append(_CB)
    parts.append(_META_DEBUG.replace('"SOURCE"', '"' + _llvm_bytes(SOURCE.encode()) + '"'))
    parts += [_subprogram(f, *_SUBPROGRAMS[f]) for f in funcs]
    parts.append(_HELPER_DEBUG)
    if "p4_loop" in funcs:
        parts.append(_CB_DEBUG)
    return "".join(parts)


def build_object(funcs: list[str], meta: dict | bytes | None = None) -> bytes:
    return compile_ir(build_ir(funcs, meta))


def compile_ir(ir: str) -> bytes:
    import llvmlite.binding as llvm

    llvm.initialize_all_targets()
    llvm.initialize_all_asmprinters()
    tm = llvm.Target.from_triple("bpfel").create_target_machine(cpu="v3", opt=2)
    mod = llvm.parse_assembly(ir)
    mod.data_layout = str(tm.target_data)
    mod.verify()
    return tm.emit_object(mod)
