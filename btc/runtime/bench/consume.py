"""Read a variant's ring buffer while the driver runs, as `btc run` would, so that a printf
probe is measured delivering events rather than hitting a full buffer. The reader counts and
discards records; it runs on a thread kept off the driver's CPU when another CPU is allowed
(the driver's native loop releases the GIL, so the two really run in parallel)."""
from __future__ import annotations

import os
import threading

from btc.runtime.ringbuf import RingBuffer

POLL_MS = 20


class Consumer:
    def __init__(self, ring: RingBuffer, avoid_cpu: int | None):
        self.ring, self.avoid_cpu = ring, avoid_cpu
        self.delivered = 0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def _count(self, _view) -> None:
        self.delivered += 1

    def _loop(self) -> None:
        if self.avoid_cpu is not None:
            others = set(range(os.cpu_count() or 1)) - {self.avoid_cpu}
            try:
                os.sched_setaffinity(0, others)  # this thread only
            except (OSError, ValueError):
                pass
        while not self._stop.is_set():
            self.ring.poll(POLL_MS, self._count)

    def __enter__(self) -> "Consumer":
        self._thread = threading.Thread(target=self._loop, name="btc-bench-reader", daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        self.ring.drain(self._count)
