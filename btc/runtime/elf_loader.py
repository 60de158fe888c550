"""Load a btc object into the kernel: BTF, maps, global data, programs (with relocations).

`load_object(elf_bytes, rodata_patch)` does it all and returns a LoadedObject; on any failure
every fd created so far is closed before the BtcError propagates.
"""
from __future__ import annotations

import errno
import struct

from btc.diagnostics import BtcError
from btc.records import Record, field
from btc.runtime import abi, syscalls
from btc.runtime.btf import load_btf
from btc.runtime.maps import MapHandle, MapSpec
from btc.runtime.objfile import Function, ObjectFile, Reloc, parse_object
from btc.runtime.progs import ProgHandle, ProgSpec, SourceLine, load_program

_INSN = struct.Struct("<BBhi")
_ENOTSUPP = 524  # include/linux/errno.h (kernel-internal, leaks to user space)
_DATA_MAP_FLAGS = {".rodata": abi.MapFlags.RDONLY_PROG}


class LoadedObject(Record, frozen=False):
    meta: dict
    maps: dict[str, MapHandle] = field(default_factory=dict)  # by .maps symbol
    data_maps: dict[str, MapHandle] = field(default_factory=dict)  # by section (.rodata …)
    progs: dict[str, ProgHandle] = field(default_factory=dict)  # by function name
    btf_fd: int = -1

    def map_by_name(self, name: str) -> MapHandle:
        """A map by its bt name ("@x") or symbol ("m_x")."""
        for desc in self.meta.get("maps", []):
            if desc.get("name") == name and desc.get("sym") in self.maps:
                return self.maps[desc["sym"]]
        return self.maps[name]

    def close(self) -> None:
        for p in self.progs.values():
            p.close()
        for m in list(self.maps.values()) + list(self.data_maps.values()):
            m.close()
        syscalls.close(self.btf_fd)
        self.btf_fd = -1

    def __enter__(self) -> "LoadedObject":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def load_object(elf_bytes: bytes, rodata_patch: dict[str, bytes] | None = None,
                only: set[str] | None = None) -> LoadedObject:
    """Create the object's maps and load its programs (all of them, or the functions in `only`)."""
    obj = parse_object(elf_bytes)
    loaded = LoadedObject(meta=obj.meta)
    try:
        if obj.btf_bytes is not None:
            loaded.btf_fd = load_btf(obj.btf_bytes)
        _create_maps(obj, loaded)
        _create_data_maps(obj, loaded, rodata_patch or {})
        for pdesc in obj.meta["programs"]:
            if only is None or pdesc.get("func") in only:
                _load_prog(obj, loaded, pdesc)
    except BaseException:
        loaded.close()
        raise
    return loaded


# --- maps ----------------------------------------------------------------------------------
def _create_maps(obj: ObjectFile, loaded: LoadedObject) -> None:
    descs = {d.get("sym"): d for d in obj.meta.get("maps", []) if isinstance(d, dict)}
    for sym in sorted(obj.map_symbols.values(), key=lambda s: s.value):
        spec = _map_spec(obj, sym.name, descs.get(sym.name), loaded.btf_fd)
        loaded.maps[sym.name] = _create_map(spec)


def _map_spec(obj: ObjectFile, sym: str, desc: dict | None, btf_fd: int) -> MapSpec:
    found = obj.btf.map_definition(sym) if obj.btf else None
    bdef = found.fields if found else {}
    src = desc or {}

    def get(meta_key: str, btf_key: str, default: int | None = None) -> int:
        val = src.get(meta_key, bdef.get(btf_key, default))
        if val is None:
            raise BtcError(f"map {sym}: no {meta_key} in .btc.meta or BTF")
        return int(val)

    map_type = get("map_type", "type")
    key_size = get("key_size", "key_size", bdef.get("key_size", 0))
    value_size = get("value_size", "value_size", bdef.get("value_size", 0))
    kid, vid = bdef.get("key_type_id", 0), bdef.get("value_type_id", 0)
    btf_ok = (btf_fd >= 0 and kid and vid and map_type != abi.MapType.RINGBUF
              and bdef.get("key_size") == key_size and bdef.get("value_size") == value_size)
    return MapSpec(name=sym, map_type=map_type, key_size=key_size, value_size=value_size,
                   max_entries=get("max_entries", "max_entries"),
                   flags=get("flags", "map_flags", 0),
                   btf_fd=btf_fd if btf_ok else 0, btf_key_type_id=kid if btf_ok else 0,
                   btf_value_type_id=vid if btf_ok else 0)


def _create_map(spec: MapSpec) -> MapHandle:
    try:
        return MapHandle.create(spec)
    except syscalls.SyscallError as e:
        if e.errno not in (errno.EINVAL, _ENOTSUPP) or not spec.btf_fd:
            raise
    # BTF types on maps only help bpftool display them: retry without rather than fail
    # (STACK_TRACE maps refuse BTF key/value types with ENOTSUPP)
    return MapHandle.create(MapSpec(spec.name, spec.map_type, spec.key_size, spec.value_size,
                                    spec.max_entries, spec.flags))


def _create_data_maps(obj: ObjectFile, loaded: LoadedObject, patch: dict[str, bytes]) -> None:
    images = {name: bytearray(sec.data) for name, sec in obj.data_sections.items()}
    for name, value in patch.items():
        _patch(obj, images, name, bytes(value))
    for name, sec in obj.data_sections.items():
        kind = next(p for p in (".rodata", ".data", ".bss") if name.startswith(p))
        spec = MapSpec(name=f"btc{name}", map_type=abi.MapType.ARRAY, key_size=4,
                       value_size=len(sec.data), max_entries=1,
                       flags=int(_DATA_MAP_FLAGS.get(kind, 0)))
        handle = MapHandle.create(spec)
        loaded.data_maps[name] = handle
        handle.update(b"\0\0\0\0", bytes(images[name]))
        if kind == ".rodata":
            handle.freeze()  # with RDONLY_PROG, the verifier may treat the bytes as constants


def _patch(obj: ObjectFile, images: dict[str, bytearray], name: str, value: bytes) -> None:
    sym = obj.data_symbols.get(name)
    if sym is None:
        raise BtcError(f"cannot set {name}: the object has no such global data symbol")
    sec = obj.section_names[sym.shndx]
    if (sym.size and len(value) > sym.size) or sym.value + len(value) > len(images[sec]):
        raise BtcError(f"cannot set {name}: {len(value)} bytes do not fit its {sym.size}")
    images[sec][sym.value:sym.value + len(value)] = value


# --- programs ------------------------------------------------------------------------------
def _load_prog(obj: ObjectFile, loaded: LoadedObject, pdesc: dict) -> None:
    func = obj.functions.get(pdesc.get("func", ""))
    if func is None:
        raise BtcError(f"the object has no program function {pdesc.get('func')!r}")
    spec = link_program(obj, func, loaded)
    spec.prog_type = int(pdesc.get("prog_type", 0))
    spec.expected_attach_type = int(pdesc.get("expected_attach_type", 0))
    spec.label = pdesc.get("probe") or func.name
    spec.source_name = obj.meta.get("source_name", "")
    fd = load_program(spec)
    loaded.progs[func.name] = ProgHandle(fd, spec, func.name, func.section, pdesc)


def link_program(obj: ObjectFile, main: Function, loaded: LoadedObject) -> ProgSpec:
    """Instructions of `main` plus the subprograms it calls, relocated against `loaded`'s fds."""
    linker = _Linker(obj, loaded)
    linker.place(main)
    i = 0
    while i < len(linker.placed):
        linker.relocate(*linker.placed[i])
        i += 1
    return linker.spec(main.name, obj.license)


class _Linker:
    def __init__(self, obj: ObjectFile, loaded: LoadedObject):
        self.obj = obj
        self.loaded = loaded
        self.code = bytearray()
        self.placed: list[tuple[Function, int]] = []  # (function, first insn index)
        self.starts: dict[tuple[int, int], int] = {}

    def place(self, f: Function) -> int:
        key = (f.shndx, f.offset)
        if key not in self.starts:
            self.starts[key] = len(self.code) // abi.BPF_INSN_SIZE
            self.placed.append((f, self.starts[key]))
            self.code += f.code
        return self.starts[key]

    def relocate(self, f: Function, start: int) -> None:
        relocs = {r.offset: r for r in self.obj.relocs.get(f.shndx, [])
                  if f.offset <= r.offset < f.offset + len(f.code)}
        for local in range(len(f.code) // abi.BPF_INSN_SIZE):
            sec_off = f.offset + local * abi.BPF_INSN_SIZE
            idx = start + local
            rel = relocs.get(sec_off)
            if rel is not None and rel.type == abi.R_BPF_64_64:
                self._reloc_ld64(idx, rel, f)
            elif self._is_subprog_call(idx):
                self._reloc_call(idx, f, sec_off, rel)
            elif rel is not None and rel.type not in (abi.R_BPF_NONE, abi.R_BPF_64_NODYLD32):
                raise BtcError(f"{f.name}: unsupported relocation type {rel.type} "
                               f"against {rel.sym.name or 'a section'}")

    def _is_subprog_call(self, idx: int) -> bool:
        code, regs, _off, _imm = self._insn(idx)
        return code == abi.BPF_JMP_CALL and regs >> 4 == abi.BPF_PSEUDO_CALL

    def _insn(self, idx: int) -> tuple[int, int, int, int]:
        return _INSN.unpack_from(self.code, idx * abi.BPF_INSN_SIZE)

    def _set(self, idx: int, code: int, regs: int, off: int, imm: int) -> None:
        _INSN.pack_into(self.code, idx * abi.BPF_INSN_SIZE, code, regs, off, _s32(imm))

    def _reloc_ld64(self, idx: int, rel: Reloc, f: Function) -> None:
        code, regs, off, imm = self._insn(idx)
        if code != abi.BPF_LD_IMM64:
            raise BtcError(f"{f.name}: R_BPF_64_64 relocation on a non-ld_imm64 instruction")
        dst = regs & 0x0F
        sec = self.obj.section_names.get(rel.sym.shndx, "")
        if rel.sym.shndx >= 0 and rel.sym.shndx == self.obj.maps_shndx:
            handle = self._map_for(rel, imm, f)
            self._set(idx, code, dst | abi.BPF_PSEUDO_MAP_FD << 4, off, handle.fd)
            return
        if self.obj.function_at(rel.sym.shndx, rel.sym.value + imm) is not None:
            self._reloc_func_addr(idx, rel, f)
            return
        handle = self.loaded.data_maps.get(sec)
        if handle is None:
            raise BtcError(f"{f.name}: reference to {rel.sym.name or sec!r}, which is neither a "
                           "map nor global data")
        self._set(idx, code, dst | abi.BPF_PSEUDO_MAP_VALUE << 4, off, handle.fd)
        c2, r2, o2, _imm2 = self._insn(idx + 1)
        self._set(idx + 1, c2, r2, o2, imm + rel.sym.value)

    def _reloc_func_addr(self, idx: int, rel: Reloc, f: Function) -> None:
        """ld_imm64 of a subprogram (a bpf_loop callback): imm = byte offset in its section."""
        code, regs, off, imm = self._insn(idx)
        target_off = rel.sym.value + imm
        callee = self.obj.function_at(rel.sym.shndx, target_off)
        target = self.place(callee) + (target_off - callee.offset) // abi.BPF_INSN_SIZE
        self._set(idx, code, (regs & 0x0F) | abi.BPF_PSEUDO_FUNC << 4, off, target - (idx + 1))

    def _map_for(self, rel: Reloc, imm: int, f: Function) -> MapHandle:
        name = rel.sym.name
        if rel.sym.kind == "STT_SECTION":
            name = next((s.name for s in self.obj.map_symbols.values() if s.value == imm), "")
        handle = self.loaded.maps.get(name)
        if handle is None:
            raise BtcError(f"{f.name}: reference to unknown map {name or '?'}")
        return handle

    def _reloc_call(self, idx: int, f: Function, sec_off: int, rel: Reloc | None) -> None:
        code, regs, off, imm = self._insn(idx)
        if rel is not None:
            shndx, target_off = rel.sym.shndx, rel.sym.value + (imm + 1) * abi.BPF_INSN_SIZE
        else:
            shndx, target_off = f.shndx, sec_off + (imm + 1) * abi.BPF_INSN_SIZE
        callee = self.obj.function_at(shndx, target_off)
        if callee is None:
            raise BtcError(f"{f.name}: call to an unknown subprogram")
        target = self.place(callee) + (target_off - callee.offset) // abi.BPF_INSN_SIZE
        self._set(idx, code, regs, off, target - (idx + 1))

    def spec(self, name: str, license_: bytes) -> ProgSpec:
        spec = ProgSpec(name=name, prog_type=0, insns=bytes(self.code), license=license_)
        btf = self.obj.btf
        if self.loaded.btf_fd < 0 or btf is None:
            return spec
        spec.btf_fd = self.loaded.btf_fd
        ext = self.obj.btf_ext
        for f, start in self.placed:
            end = f.offset + len(f.code)
            for off, tid in ext.func_info.get(f.section, []):
                if f.offset <= off < end:
                    spec.func_info.append((start + (off - f.offset) // 8, tid))
            for off, file_off, line_off, line_col in ext.line_info.get(f.section, []):
                if f.offset <= off < end:
                    insn = start + (off - f.offset) // 8
                    spec.line_info.append((insn, file_off, line_off, line_col))
                    spec.source_lines.append(SourceLine(insn, btf.string(file_off), line_col >> 10,
                                                        line_col & 0x3FF, btf.string(line_off)))
        spec.func_info.sort()
        spec.line_info.sort()
        return spec


def _s32(v: int) -> int:
    v &= 0xFFFFFFFF
    return v - (1 << 32) if v & 0x80000000 else v
