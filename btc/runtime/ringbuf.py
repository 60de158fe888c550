"""BPF ring buffer consumer (kernel/bpf/ringbuf.c protocol).

The data area is mapped twice back to back by the kernel, so every record is contiguous.
Callbacks get a memoryview of the record payload that is valid only during the call: copy
(`bytes(view)`) anything you keep.
"""
from __future__ import annotations

import mmap
import select
import struct
from typing import Callable

from btc.diagnostics import BtcError
from btc.runtime import abi, syscalls
from btc.runtime.maps import MapHandle, MapSpec

_U64 = struct.Struct("<Q")
_HDR = struct.Struct("<II")
_LEN_MASK = ~(abi.BPF_RINGBUF_BUSY_BIT | abi.BPF_RINGBUF_DISCARD_BIT) & 0xFFFFFFFF

# Return True to stop consuming after this record (e.g. on an exit event).
RecordCallback = Callable[[memoryview], "bool | None"]


def create_ringbuf_map(size: int, name: str = "events") -> MapHandle:
    """A RINGBUF map; `size` is rounded up to a power of two of at least one page."""
    return MapHandle.create(MapSpec(name, abi.MapType.RINGBUF, 0, 0, ringbuf_size(size)))


def ringbuf_size(size: int) -> int:
    n = mmap.PAGESIZE
    while n < size:
        n *= 2
    return n


class RingBuffer:
    """Consumer side of one RINGBUF map (does not own the map fd)."""

    def __init__(self, map_fd: int, size: int):
        if size <= 0 or size & (size - 1) or size % mmap.PAGESIZE:
            raise BtcError(f"ring buffer size {size} is not a power-of-two multiple of the page size")
        self.size = size
        self._mask = size - 1
        self._page = mmap.PAGESIZE
        self._cons = self._prod = self._data = self._epoll = None
        try:
            self._cons = syscalls.mmap_fd(map_fd, self._page, mmap.PROT_READ | mmap.PROT_WRITE, 0,
                                          "mapping the ring buffer consumer page")
            self._prod = syscalls.mmap_fd(map_fd, self._page + 2 * size, mmap.PROT_READ,
                                          self._page, "mapping the ring buffer data")
            self._data = memoryview(self._prod)
            self._epoll = select.epoll()
            self._epoll.register(map_fd, select.EPOLLIN)
        except BaseException:
            self.close()
            raise

    @classmethod
    def for_map(cls, handle: MapHandle) -> "RingBuffer":
        return cls(handle.fd, handle.max_entries)

    def poll(self, timeout_ms: int, callback: RecordCallback) -> int:
        """Consume ready records, waiting up to `timeout_ms` (-1 = forever) if there are none."""
        n = self.drain(callback)
        if n:
            return n
        try:
            self._epoll.poll(-1 if timeout_ms < 0 else timeout_ms / 1000.0)
        except InterruptedError:
            return 0
        return self.drain(callback)

    def drain(self, callback: RecordCallback) -> int:
        """Consume every committed record without waiting; returns how many were delivered."""
        delivered = 0
        cons = _U64.unpack_from(self._cons, 0)[0]
        while cons < _U64.unpack_from(self._prod, 0)[0]:
            rec = self._page + (cons & self._mask)
            length, _pg_off = _HDR.unpack_from(self._prod, rec)
            if length & abi.BPF_RINGBUF_BUSY_BIT:
                break  # the producer has reserved but not yet committed it
            size = length & _LEN_MASK
            cons += (size + abi.BPF_RINGBUF_HDR_SZ + 7) & ~7
            stop = False
            if not length & abi.BPF_RINGBUF_DISCARD_BIT:
                start = rec + abi.BPF_RINGBUF_HDR_SZ
                view = self._data[start:start + size]
                try:
                    stop = bool(callback(view))
                    delivered += 1
                finally:
                    _release(view)
                    _U64.pack_into(self._cons, 0, cons)
            else:
                _U64.pack_into(self._cons, 0, cons)
            if stop:
                break
        return delivered

    def close(self) -> None:
        if self._epoll is not None:
            self._epoll.close()
            self._epoll = None
        if self._data is not None:
            _release(self._data)
            self._data = None
        for mm in (self._prod, self._cons):
            if mm is not None:
                try:
                    mm.close()
                except BufferError:
                    pass  # a callback kept a view; the mapping goes when that view does
        self._prod = self._cons = None

    def __enter__(self) -> "RingBuffer":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def _release(view: memoryview) -> None:
    try:
        view.release()
    except BufferError:
        pass
