"""The ring-buffer consumer on a real RINGBUF map: runs of like records decoded at once (the
printf fast path) give the same text as one record at a time; a signal ends a wait."""
import ctypes
import io
import signal
import struct
import time

import pytest
from kernel import (R0, R1, R2, R3, R4, R10, call, exit_, ld_map_fd, ldx_dw, mov64_imm,
                    mov64_reg, add64_imm, stx_dw, require_bpf)

from btc.runtime import abi, syscalls
from btc.runtime.events import EventSink
from btc.runtime.maps import MapHandle, MapSpec
from btc.runtime.progs import ProgSpec, load_program
from btc.runtime.ringbuf import RingBuffer

# printf("%d %s\n", u32, str[16]) and printf("<%d>\n", s64): the payload is the ctx's 3 u64s
DESCS = [
    {"fmt": "%d %s\n", "args": {"k": "tuple", "size": 24, "fields": [
        {"off": 0, "t": {"k": "int", "signed": False, "size": 4}},
        {"off": 4, "t": {"k": "str", "size": 16}}]}},
    {"fmt": "<%d>\n", "args": {"k": "tuple", "size": 24, "fields": [
        {"off": 0, "t": {"k": "int", "signed": True, "size": 8}}]}},
]


@pytest.fixture
def ring():
    require_bpf()
    rb_map = MapHandle.create(MapSpec("events", abi.MapType.RINGBUF, 0, 0, 1 << 16))
    insns = b"".join([
        mov64_reg(R2, R1),
        *[b for i in range(3) for b in (ldx_dw(R3, R2, 8 * i), stx_dw(R10, R3, -24 + 8 * i))],
        ldx_dw(R3, R2, 24), stx_dw(R10, R3, -32),  # kind | id << 32 from the 4th argument
        ld_map_fd(R1, rb_map.fd), mov64_reg(R2, R10), add64_imm(R2, -32),
        mov64_imm(R3, 32), mov64_imm(R4, 0), call(130),  # bpf_ringbuf_output
        mov64_imm(R0, 0), exit_(),
    ])
    fd = load_program(ProgSpec(name="rb_test", prog_type=abi.ProgType.RAW_TRACEPOINT, insns=insns))
    rb = RingBuffer.for_map(rb_map)

    def emit(ident: int, *words: int) -> None:
        ctx = (ctypes.c_uint64 * 4)(*words, *[0] * (3 - len(words)), 1 | ident << 32)
        attr = abi.AttrTestRun(prog_fd=fd, ctx_in=ctypes.addressof(ctx), ctx_size_in=32)
        syscalls.bpf(abi.BpfCmd.PROG_TEST_RUN, attr, "test run")

    yield rb, emit
    rb.close()
    syscalls.close(fd)
    rb_map.close()


def _text(rb, run: bool) -> str:
    out = io.StringIO()
    sink = EventSink({"events": {"printf": DESCS}}, "bpftrace", out)
    rb.drain(sink.handle, sink.handle_run if run else None)
    sink.flush()
    return out.getvalue()


def _tail(text: bytes) -> tuple[int, int]:
    """The string's bytes after its first four (which share a word with the u32)."""
    return struct.unpack("<QQ", text.ljust(16, b"\0"))


def test_runs_print_what_single_records_print(ring):
    rb, emit = ring
    for n in range(2):
        for i in range(50):  # two runs of printf 0 around a run of printf 1
            emit(0, 1000 + i | struct.unpack("<I", b"ab\xffc")[0] << 32, *_tail(b"%d" % i))
        for i in range(30):
            emit(1, (-i) & (2 ** 64 - 1))
        emit(0, 7, *_tail(b"x"))
        if n == 0:
            single = _text(rb, run=False)
    batched = _text(rb, run=True)
    assert batched == single
    assert single.count("\n") == 81 and "<-29>\n" in single and "1049 ab\udcffc49\n" in single and "7 \n" in single


def test_run_callback_sees_strides_and_is_optional(ring):
    rb, emit = ring
    for i in range(5):
        emit(0, i)
    seen, single = [], []

    def run(data, rec, stride, avail):
        seen.append((stride, avail))
        return 2 if len(seen) == 1 else 0  # take two, then leave the rest to the callback

    assert rb.drain(lambda v: single.append(bytes(v[8:12])), run) == 5
    assert seen == [(40, 200), (40, 120), (40, 80), (40, 40)]  # offered every record
    assert single == [struct.pack("<I", i) for i in (2, 3, 4)]


def test_signal_ends_the_wait(ring):
    rb, _ = ring
    got = []
    before = signal.set_wakeup_fd(-1)
    signal.set_wakeup_fd(before)
    old = signal.signal(signal.SIGALRM, lambda *a: got.append("alarm"))
    try:
        signal.setitimer(signal.ITIMER_REAL, 0.05)
        t0 = time.monotonic()
        assert rb.poll(5000, lambda v: None) == 0
        assert time.monotonic() - t0 < 2 and got == ["alarm"]
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)
    assert signal.set_wakeup_fd(before) == before  # the poll put the previous wake-up fd back
