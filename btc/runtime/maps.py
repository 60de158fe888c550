"""BPF maps: creation and raw byte access (lookup, update, delete, batch reads into numpy).

Values stay bytes here; btc.runtime.output decides what they mean. Per-CPU values are laid out
as round_up(value_size, 8) bytes per possible CPU, as the kernel copies them.
"""
from __future__ import annotations

import ctypes
import errno
import re
TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (~6 ms)

from btc.diagnostics import BtcError
from btc.records import Record
from btc.runtime import abi, syscalls
from btc.runtime.cpus import possible_cpu_count

if TYPE_CHECKING:  # numpy costs ~0.2 s to import: only whole-map reads need it
    import numpy as np

_ENOTSUPP = 524
_BATCH_UNSUPPORTED = (errno.EINVAL, errno.EOPNOTSUPP, _ENOTSUPP, errno.ENOSYS)
_ARRAY_TYPES = (abi.MapType.ARRAY, abi.MapType.PERCPU_ARRAY)
# From this size on, whole reads try a BPF program walking the map (map_dump: ~3x faster per
# element) before BPF_MAP_LOOKUP_BATCH; below it the program's set-up (~2 ms) is not worth it.
DUMP_MIN_ENTRIES = 1 << 15


def round8(n: int) -> int:
    return (n + 7) & ~7


def kernel_name(name: str) -> bytes:
    """A kernel object name: at most 15 chars of [A-Za-z0-9_.]."""
    return re.sub(r"[^A-Za-z0-9_.]", "_", name)[: abi.BPF_OBJ_NAME_LEN - 1].encode()


class MapSpec(Record):
    name: str
    map_type: int
    key_size: int
    value_size: int
    max_entries: int
    flags: int = 0
    btf_fd: int = 0
    btf_key_type_id: int = 0
    btf_value_type_id: int = 0


class MapHandle:
    """An open BPF map fd plus its shape."""

    def __init__(self, fd: int, spec: MapSpec):
        self.fd = fd
        self.spec = spec
        self.name = spec.name
        self.map_type = spec.map_type
        self.key_size = spec.key_size
        self.value_size = spec.value_size
        self.max_entries = spec.max_entries
        self.percpu = spec.map_type in abi.PERCPU_MAP_TYPES
        self.ncpu = possible_cpu_count() if self.percpu else 1
        # bytes per CPU slot in lookups/batches; non-per-CPU values are exactly value_size
        self.slot_size = round8(spec.value_size) if self.percpu else spec.value_size
        self.elem_size = self.slot_size * self.ncpu

    @classmethod
    def create(cls, spec: MapSpec) -> "MapHandle":
        attr = abi.AttrMapCreate(
            map_type=spec.map_type, key_size=spec.key_size, value_size=spec.value_size,
            max_entries=spec.max_entries, map_flags=spec.flags, map_name=kernel_name(spec.name),
            btf_fd=spec.btf_fd if spec.btf_key_type_id or spec.btf_value_type_id else 0,
            btf_key_type_id=spec.btf_key_type_id, btf_value_type_id=spec.btf_value_type_id)
        what = f"creating map {spec.name} ({_type_name(spec.map_type)})"
        return cls(syscalls.bpf(abi.BpfCmd.MAP_CREATE, attr, what), spec)

    def __repr__(self) -> str:
        return f"MapHandle({self.name!r}, fd={self.fd}, {_type_name(self.map_type)})"

    def close(self) -> None:
        syscalls.close(self.fd)
        self.fd = -1

    # --- single elements -------------------------------------------------------------------
    def _elem(self, cmd: abi.BpfCmd, key: bytes | None, value, flags: int = 0) -> int:
        kbuf = None if key is None else self._key_buf(key)
        attr = abi.AttrMapElem(map_fd=self.fd, key=syscalls.addr(kbuf), value=syscalls.addr(value),
                               flags=flags)
        return syscalls.bpf_raw(cmd, attr)

    def _key_buf(self, key: bytes) -> ctypes.Array:
        if len(key) != self.key_size:
            raise BtcError(f"map {self.name}: key is {len(key)} bytes, expected {self.key_size}")
        return ctypes.create_string_buffer(bytes(key), max(self.key_size, 1))

    def lookup(self, key: bytes) -> bytes | None:
        """The value bytes (all CPUs' slots for per-CPU maps) or None when absent."""
        out = ctypes.create_string_buffer(max(self.elem_size, 1))
        res = self._elem(abi.BpfCmd.MAP_LOOKUP_ELEM, key, out)
        if res == -errno.ENOENT:
            return None
        self._check(res, "lookup")
        return out.raw[: self.elem_size]

    def update(self, key: bytes, value: bytes, flags: int = abi.BPF_ANY) -> None:
        if len(value) != self.elem_size:
            raise BtcError(f"map {self.name}: value is {len(value)} bytes, expected {self.elem_size}")
        vbuf = ctypes.create_string_buffer(bytes(value), max(self.elem_size, 1))
        self._check(self._elem(abi.BpfCmd.MAP_UPDATE_ELEM, key, vbuf, flags), "update")

    def delete(self, key: bytes) -> bool:
        """Delete `key`; False when it was not there."""
        res = self._elem(abi.BpfCmd.MAP_DELETE_ELEM, key, None)
        if res == -errno.ENOENT:
            return False
        self._check(res, "delete")
        return True

    def next_key(self, key: bytes | None) -> bytes | None:
        out = ctypes.create_string_buffer(max(self.key_size, 1))
        res = self._elem(abi.BpfCmd.MAP_GET_NEXT_KEY, key, out)
        if res == -errno.ENOENT:
            return None
        self._check(res, "get_next_key")
        return out.raw[: self.key_size]

    def keys(self) -> list[bytes]:
        out, key = [], None
        limit = self.max_entries + 1  # guard against a concurrent writer looping us forever
        while len(out) < limit and (key := self.next_key(key)) is not None:
            out.append(key)
        return out

    def clear(self) -> None:
        """Remove every element (arrays cannot delete: their values are zeroed instead)."""
        if self.map_type in _ARRAY_TYPES:
            self.zero()
            return
        for key in self.keys():
            self.delete(key)

    def zero(self) -> None:
        """Set every existing element's value to zero bytes."""
        zeros = bytes(self.elem_size)
        for key in self.keys():
            res = self._elem(abi.BpfCmd.MAP_UPDATE_ELEM, key,
                             ctypes.create_string_buffer(zeros, max(self.elem_size, 1)), abi.BPF_EXIST)
            if res != -errno.ENOENT:
                self._check(res, "update")

    def freeze(self) -> None:
        syscalls.bpf(abi.BpfCmd.MAP_FREEZE, abi.AttrMapFd(map_fd=self.fd), f"freezing map {self.name}")

    def _check(self, res: int, op: str) -> None:
        if res < 0:
            raise syscalls.SyscallError(f"map {self.name}: {op}", -res)

    # --- whole-map reads -------------------------------------------------------------------
    def lookup_batch(self, delete: bool = False,
                     prepared=None) -> tuple[np.ndarray, np.ndarray]:
        """All elements: keys (n, key_size) u8 and values (n, ncpu or 1, round8(value_size)) u8.

        `delete=True` reads and removes in one pass (hash maps only). `prepared`: this map's
        map_dump.prepare() result, used up here.
        """
        if not delete and (self.max_entries >= DUMP_MIN_ENTRIES or prepared is not None):
            from btc.runtime import map_dump

            dumped = map_dump.dump(self, prepared)
            if dumped is not None:
                return self._shape(*dumped)
        try:
            keys, vals = self._batch(delete)
        except _Unsupported:
            keys, vals = self._iterate(delete)
        return self._shape(keys, vals)

    def _batch(self, delete: bool) -> tuple[bytes, bytes]:
        cmd = abi.BpfCmd.MAP_LOOKUP_AND_DELETE_BATCH if delete else abi.BpfCmd.MAP_LOOKUP_BATCH
        chunk = max(1, min(self.max_entries, 4096))
        tok = max(self.key_size, 8)
        in_b, out_b = ctypes.create_string_buffer(tok), ctypes.create_string_buffer(tok)
        keys, vals, first = [], [], True
        while True:
            kbuf = ctypes.create_string_buffer(chunk * self.key_size)
            vbuf = ctypes.create_string_buffer(chunk * self.elem_size)
            attr = abi.AttrMapBatch(in_batch=0 if first else syscalls.addr(in_b),
                                    out_batch=syscalls.addr(out_b), keys=syscalls.addr(kbuf),
                                    values=syscalls.addr(vbuf), count=chunk, map_fd=self.fd)
            res = syscalls.bpf_raw(cmd, attr)
            err = -res if res < 0 else 0
            if err == errno.ENOSPC and attr.count == 0 and chunk <= self.max_entries:
                chunk *= 2  # one hash bucket holds more than `chunk` elements
                continue
            if err in _BATCH_UNSUPPORTED and first and not keys:
                raise _Unsupported()
            if err not in (0, errno.ENOENT):
                raise syscalls.SyscallError(f"map {self.name}: batch lookup", err)
            n = attr.count
            keys.append(kbuf.raw[: n * self.key_size])
            vals.append(vbuf.raw[: n * self.elem_size])
            if err == errno.ENOENT:
                return b"".join(keys), b"".join(vals)
            ctypes.memmove(in_b, out_b, tok)
            first = False

    def _iterate(self, delete: bool) -> tuple[bytes, bytes]:
        keys, vals = [], []
        for key in self.keys():
            val = self.lookup(key)
            if val is None:
                continue  # deleted under us
            keys.append(key)
            vals.append(val)
            if delete and self.map_type not in _ARRAY_TYPES:
                self.delete(key)
        return b"".join(keys), b"".join(vals)

    def _shape(self, keys, vals) -> tuple[np.ndarray, np.ndarray]:
        """Bytes or (n, ...) u8 arrays -> writable (n, key_size), (n, ncpu, round8) arrays."""
        import numpy as np

        n = len(keys) // self.key_size if self.key_size else len(vals) // max(self.elem_size, 1)
        if isinstance(keys, np.ndarray):  # map_dump's arrays: already copies
            n = len(keys)
            k, v = keys, vals.reshape(n, self.ncpu, self.slot_size)
        else:
            k = np.frombuffer(keys, np.uint8).reshape(n, self.key_size).copy()
            v = np.frombuffer(vals, np.uint8).reshape(n, self.ncpu, self.slot_size).copy()
        width = round8(self.value_size)
        if width != self.slot_size:
            v = np.pad(v, ((0, 0), (0, 0), (0, width - self.slot_size)))
        return k, v


class _Unsupported(Exception):
    """Batch operations are not available for this map type or kernel."""


def _type_name(map_type: int) -> str:
    try:
        return abi.MapType(map_type).name
    except ValueError:
        return f"type {map_type}"
