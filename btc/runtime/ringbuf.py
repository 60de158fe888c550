"""BPF ring buffer consumer (kernel/bpf/ringbuf.c protocol).

The data area is mapped twice back to back by the kernel, so every record is contiguous.
Callbacks get a memoryview of the record payload that is valid only during the call: copy
(`bytes(view)`) anything you keep.
"""
from __future__ import annotations

import mmap
import os
import select
import signal
import struct
from collections.abc import Callable  # not typing: ~6 ms of start-up

from btc.diagnostics import BtcError
from btc.runtime import abi, syscalls
from btc.runtime.maps import MapHandle, MapSpec

_U64 = struct.Struct("<Q")
_HDR = struct.Struct("<II")
_LEN_MASK = ~(abi.BPF_RINGBUF_BUSY_BIT | abi.BPF_RINGBUF_DISCARD_BIT) & 0xFFFFFFFF

# Return True to stop consuming after this record (e.g. on an exit event).
RecordCallback = Callable[[memoryview], "bool | None"]
# (ring data, offset of a committed record's 8-byte header, its stride, bytes from there to
# the producer) -> how many records, `stride` apart from that one, it consumed (0: none, the
# record goes to the RecordCallback). Lets a consumer decode a run of like records at once.
RunCallback = Callable[[memoryview, int, int, int], int]


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
        self._wake_r = self._wake_w = -1  # a pipe that signals write to, ending a wait
        try:
            self._cons = syscalls.mmap_fd(map_fd, self._page, mmap.PROT_READ | mmap.PROT_WRITE, 0,
                                          "mapping the ring buffer consumer page")
            self._prod = syscalls.mmap_fd(map_fd, self._page + 2 * size, mmap.PROT_READ,
                                          self._page, "mapping the ring buffer data")
            self._data = memoryview(self._prod)
            self._epoll = select.epoll()
            self._epoll.register(map_fd, select.EPOLLIN)
            self._wake_r, self._wake_w = os.pipe2(os.O_NONBLOCK | os.O_CLOEXEC)
            self._epoll.register(self._wake_r, select.EPOLLIN)
        except BaseException:
            self.close()
            raise

    @classmethod
    def for_map(cls, handle: MapHandle) -> "RingBuffer":
        return cls(handle.fd, handle.max_entries)

    def poll(self, timeout_ms: int, callback: RecordCallback,
             run: RunCallback | None = None) -> int:
        """Consume ready records, waiting up to `timeout_ms` (-1 = forever) if there are none.
        A signal ends the wait at once (else PEP 475 resumes it until the timeout)."""
        n = self.drain(callback, run)
        if n:
            return n
        old = self._wake_on_signals()
        try:
            events = self._epoll.poll(-1 if timeout_ms < 0 else timeout_ms / 1000.0)
        except InterruptedError:
            return 0
        finally:
            if old is not None:
                signal.set_wakeup_fd(old)
        if any(fd == self._wake_r for fd, _ in events):
            _drain_pipe(self._wake_r)
        return self.drain(callback, run)

    def _wake_on_signals(self) -> int | None:
        """Route signals to the wake-up pipe; the previous wake-up fd, None off the main thread."""
        try:
            return signal.set_wakeup_fd(self._wake_w)
        except ValueError:
            return None

    def drain(self, callback: RecordCallback, run: RunCallback | None = None) -> int:
        """Consume the records committed when it starts, without waiting; returns how many
        were delivered. Bounded by the ring's size, so a producer faster than the consumer
        cannot keep it from returning (the caller flushes output and sees signals between)."""
        delivered = 0
        cons = _U64.unpack_from(self._cons, 0)[0]
        prod = _U64.unpack_from(self._prod, 0)[0]
        while cons < prod:
            rec = self._page + (cons & self._mask)
            length, _pg_off = _HDR.unpack_from(self._prod, rec)
            if length & abi.BPF_RINGBUF_BUSY_BIT:
                break  # the producer has reserved but not yet committed it
            size = length & _LEN_MASK
            stride = (size + abi.BPF_RINGBUF_HDR_SZ + 7) & ~7
            if run is not None and not length & abi.BPF_RINGBUF_DISCARD_BIT:
                n = run(self._data, rec, stride, prod - cons)
                if n:
                    cons += n * stride
                    delivered += n
                    _U64.pack_into(self._cons, 0, cons)
                    continue
            cons += stride
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
        for fd in (self._wake_r, self._wake_w):
            if fd >= 0:
                os.close(fd)
        self._wake_r = self._wake_w = -1
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


def _drain_pipe(fd: int) -> None:
    try:
        while os.read(fd, 512):
            pass
    except BlockingIOError:
        pass


def _release(view: memoryview) -> None:
    try:
        view.release()
    except BufferError:
        pass
