"""Programs built from raw instructions, attached for real: ring buffer, tracepoint, raw
tracepoint, perf events, uprobe, BEGIN-style test runs, verifier rejection."""
import ctypes
import ctypes.util
import os
import struct
import time

import pytest
from elftools.elf.elffile import ELFFile
from kernel import (R0, R1, R2, R3, R4, R10, call, count_into_array, exit_, insn, ld_map_fd,
                    mov64_imm, mov64_reg, add64_imm, require_bpf, require_path, st_dw, st_w)

from btc.diagnostics import BtcError
from btc.runtime import abi, attach, tracefs
from btc.runtime.maps import MapHandle, MapSpec
from btc.runtime.progs import ProgSpec, VerifierError, load_program
from btc.runtime.ringbuf import RingBuffer, create_ringbuf_map
from btc.runtime.syscalls import close


@pytest.fixture
def counter():
    require_bpf()
    m = MapHandle.create(MapSpec("counter", abi.MapType.ARRAY, 4, 8, 1))
    yield m
    m.close()


@pytest.fixture
def loaded():
    fds = []

    def load(prog_type, code, name="t"):
        fd = load_program(ProgSpec(name, prog_type, code))
        fds.append(fd)
        return fd

    yield load
    for fd in fds:
        close(fd)


def count(m: MapHandle) -> int:
    return struct.unpack("<q", m.lookup(b"\0" * 4))[0]


def test_ringbuf_round_trip_via_test_run(loaded):
    require_bpf()
    rb_map = create_ringbuf_map(5000)
    assert rb_map.max_entries == 8192
    try:
        code = b"".join([
            st_dw(R10, -16, 0x11223344), st_dw(R10, -8, 42),
            ld_map_fd(R1, rb_map.fd), mov64_reg(R2, R10), add64_imm(R2, -16),
            mov64_imm(R3, 16), mov64_imm(R4, 0), call(130),  # bpf_ringbuf_output
            mov64_imm(R0, 7), exit_(),
        ])
        fd = loaded(abi.ProgType.RAW_TRACEPOINT, code, "p0_BEGIN")
        with RingBuffer.for_map(rb_map) as rb:
            got = []
            for _ in range(600):  # 600 * 24 bytes wraps the 8 KiB buffer twice
                assert attach.run_once(fd) == 7
                assert rb.drain(lambda v: got.append(bytes(v))) == 1
            assert got[0] == struct.pack("<qq", 0x11223344, 42) and len(set(got)) == 1
            assert attach.run_once(fd, cpu=0) == 7
            seen = []
            assert rb.poll(100, lambda v: seen.append(len(v))) == 1 and seen == [16]
            assert rb.poll(10, lambda v: seen.append(1)) == 0
    finally:
        rb_map.close()


def test_ringbuf_odd_sized_records_wrap(loaded):
    require_bpf()
    rb_map = create_ringbuf_map(4096)
    try:
        code = b"".join([st_w(R10, -16, 0x04030201), st_w(R10, -12, 0x08070605),
                         st_w(R10, -8, 0x0C0B0A09), st_w(R10, -4, 0x100F0E0D),
                         ld_map_fd(R1, rb_map.fd), mov64_reg(R2, R10), add64_imm(R2, -16),
                         mov64_imm(R3, 13), mov64_imm(R4, 0), call(130), mov64_imm(R0, 0), exit_()])
        fd = loaded(abi.ProgType.RAW_TRACEPOINT, code)
        got = []
        with RingBuffer.for_map(rb_map) as rb:
            for i in range(1000):  # 24-byte records through a 4 KiB buffer: wraps ~6 times
                attach.run_once(fd)
                if i % 3 == 2:
                    rb.drain(lambda v: got.append(bytes(v)))
            rb.drain(lambda v: got.append(bytes(v)))
        assert len(got) == 1000 and set(got) == {bytes(range(1, 14))}
    finally:
        rb_map.close()


def test_ringbuf_poll_wakes_up(loaded):
    require_bpf()
    import threading

    rb_map = create_ringbuf_map(4096)
    try:
        code = b"".join([st_dw(R10, -8, 99), ld_map_fd(R1, rb_map.fd), mov64_reg(R2, R10),
                         add64_imm(R2, -8), mov64_imm(R3, 8), mov64_imm(R4, 0), call(130),
                         mov64_imm(R0, 0), exit_()])
        fd = loaded(abi.ProgType.RAW_TRACEPOINT, code)
        with RingBuffer.for_map(rb_map) as rb:
            timer = threading.Timer(0.05, attach.run_once, (fd,))
            timer.start()
            t0 = time.monotonic()
            got = []
            assert rb.poll(5000, lambda v: got.append(bytes(v))) == 1
            assert time.monotonic() - t0 < 2.0 and got == [struct.pack("<q", 99)]
            timer.join()
    finally:
        rb_map.close()


def test_ringbuf_callback_can_stop(loaded):
    require_bpf()
    rb_map = create_ringbuf_map(4096)
    try:
        code = b"".join([st_dw(R10, -8, 1), ld_map_fd(R1, rb_map.fd), mov64_reg(R2, R10),
                         add64_imm(R2, -8), mov64_imm(R3, 8), mov64_imm(R4, 0), call(130),
                         mov64_imm(R0, 0), exit_()])
        fd = loaded(abi.ProgType.RAW_TRACEPOINT, code)
        for _ in range(3):
            attach.run_once(fd)
        with RingBuffer.for_map(rb_map) as rb:
            assert rb.drain(lambda v: True) == 1
            assert rb.drain(lambda v: None) == 2
    finally:
        rb_map.close()


def test_tracepoint_counts_getpid(counter, loaded):
    fd = loaded(abi.ProgType.TRACEPOINT, count_into_array(counter.fd))
    with attach.attach_tracepoint(fd, "syscalls", "sys_enter_getpid") as att:
        for _ in range(1000):
            os.getpid()
        n = count(counter)
    assert n >= 1000
    assert att.fds == []
    for _ in range(1000):
        os.getpid()
    assert count(counter) - n < 1000  # detached: our calls are no longer counted


def test_raw_tracepoint_sys_enter(counter, loaded):
    fd = loaded(abi.ProgType.RAW_TRACEPOINT, count_into_array(counter.fd))
    with attach.attach({"kind": "raw_tracepoint", "name": "sys_enter"}, fd):
        for _ in range(100):
            os.getppid()
    assert count(counter) >= 100


@pytest.mark.parametrize("plan", [
    {"kind": "perf_event", "type": 1, "config": 0, "freq": False, "value": 1_000_000, "cpus": "one"},
    {"kind": "perf_event", "type": 1, "config": 0, "freq": True, "value": 997, "cpus": "all"},
])
def test_perf_event_fires(counter, loaded, plan):
    fd = loaded(abi.ProgType.PERF_EVENT, count_into_array(counter.fd))
    with attach.attach(plan, fd) as att:
        assert len(att.fds) >= 1
        time.sleep(0.3)
    assert count(counter) > 20


def _libc_symbol_offset(name: str) -> tuple[str, int]:
    path = ctypes.util.find_library("c")
    for cand in ("/lib/x86_64-linux-gnu/libc.so.6", "/usr/lib/x86_64-linux-gnu/libc.so.6",
                 "/lib64/libc.so.6", "/usr/lib64/libc.so.6"):
        if os.path.exists(cand):
            path = cand
            break
    with open(path, "rb") as f:
        elf = ELFFile(f)
        sym = elf.get_section_by_name(".dynsym").get_symbol_by_name(name)[0]
        for seg in elf.iter_segments("PT_LOAD"):
            if seg["p_vaddr"] <= sym["st_value"] < seg["p_vaddr"] + seg["p_memsz"]:
                return path, sym["st_value"] - seg["p_vaddr"] + seg["p_offset"]
    raise AssertionError("no segment")


@pytest.mark.parametrize("retprobe", [False, True])
def test_uprobe_libc_getppid(counter, loaded, retprobe):
    require_path("/sys/bus/event_source/devices/uprobe/type", "the uprobe PMU")
    path, off = _libc_symbol_offset("getppid")
    fd = loaded(abi.ProgType.KPROBE, count_into_array(counter.fd))
    plan = {"kind": "uprobe", "path": path, "offset": off, "retprobe": retprobe, "pid": None}
    with attach.attach(plan, fd):
        for _ in range(50):
            os.getppid()
    assert count(counter) >= 50


def test_kprobe_missing_is_plain_error(counter, loaded):
    if tracefs.has_kprobes():
        pytest.skip("this kernel has kprobes")
    fd = loaded(abi.ProgType.KPROBE, count_into_array(counter.fd))
    with pytest.raises(BtcError) as e:
        attach.attach({"kind": "kprobe", "function": "do_sys_open", "offset": 0}, fd)
    # one plain line: what the kernel lacks and the probe types that work instead
    assert "no kprobes" in e.value.message and "tracepoint" in e.value.message
    assert e.value.hint is None


def test_unknown_tracepoint(counter, loaded):
    fd = loaded(abi.ProgType.TRACEPOINT, count_into_array(counter.fd))
    with pytest.raises(BtcError, match="does not exist"):
        attach.attach_tracepoint(fd, "syscalls", "sys_enter_nope")


def test_verifier_rejection_is_btcerror():
    require_bpf()
    bad = insn(0x79, R0, R2, 0) + exit_()  # r0 = *(u64 *)(r2 + 0) with r2 uninitialised
    with pytest.raises(VerifierError) as e:
        load_program(ProgSpec("bad", abi.ProgType.RAW_TRACEPOINT, bad, label="BEGIN"))
    assert isinstance(e.value, BtcError)
    assert e.value.message == "the BPF verifier rejected BEGIN: R2 !read_ok"
    assert "processed" in e.value.verifier_log


def test_tracepoint_ioctl_fallback(counter, loaded):
    """The SET_BPF ioctl path used when BPF links to perf events are unavailable (< 5.15)."""
    fd = loaded(abi.ProgType.TRACEPOINT, count_into_array(counter.fd))
    attr = attach._perf_attr(abi.PerfType.TRACEPOINT, tracefs.tracepoint_id("syscalls", "sys_enter_getpid"))
    attr.sample_period, attr.sample_type = 1, abi.PERF_SAMPLE_RAW
    with attach._open_and_attach("tracepoint", "getpid", fd, attr, [(-1, 0)], use_link=False) as att:
        assert len(att.fds) == 1  # just the perf event, no link
        for _ in range(200):
            os.getpid()
    assert count(counter) >= 200


def test_attach_failure_closes_fds(counter, loaded):
    from btc.runtime import kernel_objects

    fd = loaded(abi.ProgType.RAW_TRACEPOINT, count_into_array(counter.fd))  # wrong type
    before = os.listdir("/proc/self/fd")
    links = set(kernel_objects.link_ids())
    with pytest.raises(BtcError, match="attaching the program to tracepoint"):
        attach.attach_tracepoint(fd, "syscalls", "sys_enter_getpid")
    assert os.listdir("/proc/self/fd") == before
    assert set(kernel_objects.link_ids()) <= links
