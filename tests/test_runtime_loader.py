"""The ELF loader on objects built by llvmlite the way the back end builds them."""
import os
import shutil
import struct
import time

import pytest
from bpf_object_builder import SOURCE, build_object
from kernel import require_bpf

from btc.diagnostics import BtcError, render
from btc.runtime import abi, attach, kernel_objects
from btc.runtime.elf_loader import load_object
from btc.runtime.objfile import parse_object
from btc.runtime.progs import VerifierError
from btc.runtime.ringbuf import RingBuffer

GOOD = ["p0_BEGIN", "p1_END", "p2_getpid"]


@pytest.fixture(scope="module")
def good_obj() -> bytes:
    return build_object(GOOD)


@pytest.fixture(scope="module")
def bad_obj() -> bytes:
    return build_object(["p3_bad"])


def count(obj) -> int:
    return struct.unpack("<q", obj.map_by_name("@count").lookup(b"\0" * 4))[0]


def test_parse_without_kernel(good_obj):
    obj = parse_object(good_obj)
    assert obj.meta["source_name"] == "test.bt"
    assert obj.license == b"GPL"
    assert {f: obj.functions[f].section for f in GOOD} == {
        "p0_BEGIN": "raw_tp", "p1_END": "raw_tp",
        "p2_getpid": "tracepoint/syscalls/sys_enter_getpid"}
    assert obj.functions["p1_END"].offset > 0  # two programs share the raw_tp section
    assert set(obj.map_symbols) == {"m_count", "events"}
    assert set(obj.data_sections) == {".rodata", ".bss"}
    # DATASEC sizes and VAR offsets were 0 from LLVM and are fixed from the symbol table
    from btc.runtime.btf import Btf
    btf = Btf(obj.btf_bytes)
    bss = btf.types[btf.find(".bss", abi.BtfKind.DATASEC)]
    assert bss.size_or_type == 16
    assert sorted(off for _t, off, _s in bss.members) == [0, 8]
    assert obj.btf.map_definition("events").fields == {"type": 27, "max_entries": 4096}
    assert obj.btf_ext.line_info["raw_tp"]


def test_load_run_attach(good_obj):
    require_bpf()
    with load_object(good_obj, {"rd_inc": struct.pack("<q", 7)}) as obj:
        assert obj.maps["events"].map_type == abi.MapType.RINGBUF  # defined by BTF only
        assert obj.maps["events"].max_entries == 4096
        for p in obj.progs.values():
            info = kernel_objects.prog_info(p.fd)
            assert info.btf_id != 0 and info.nr_line_info > 0, p.func
        assert obj.progs["p0_BEGIN"].insn_cnt > 28  # the .text helper was appended
        with RingBuffer.for_map(obj.maps["events"]) as rb:
            assert attach.run_once(obj.progs["p0_BEGIN"].fd) == 0
            got = []
            assert rb.drain(lambda v: got.append(bytes(v))) == 1
        assert got == [struct.pack("<q", 4242)]
        assert count(obj) == 7  # the patched .rodata value, not the compiled-in 5
        assert obj.data_maps[".bss"].lookup(b"\0" * 4) == struct.pack("<qq", 0, 6)
        with attach.attach(obj.meta["programs"][2]["attach"], obj.progs["p2_getpid"].fd):
            for _ in range(100):
                os.getpid()
        after = count(obj)
        assert after >= 107
        attach.run_once(obj.progs["p1_END"].fd)
        assert count(obj) == after + 1000


def test_rodata_is_frozen_and_unpatched_default(good_obj):
    require_bpf()
    with load_object(good_obj) as obj:
        attach.run_once(obj.progs["p0_BEGIN"].fd)
        assert count(obj) == 5
        with pytest.raises(BtcError, match="EPERM"):
            obj.data_maps[".rodata"].update(b"\0" * 4, bytes(8))


def test_rodata_patch_errors(good_obj):
    require_bpf()
    with pytest.raises(BtcError, match="no such global data symbol"):
        load_object(good_obj, {"nope": b"\0"})
    with pytest.raises(BtcError, match="do not fit"):
        load_object(good_obj, {"rd_inc": bytes(16)})


def test_verifier_rejection_points_at_bt_line(bad_obj):
    require_bpf()
    with pytest.raises(VerifierError) as e:
        load_object(bad_obj)
    err = e.value
    assert err.message == ("the BPF verifier rejected tracepoint:syscalls:sys_enter_getpid: "
                           "invalid bpf_context access off=16000 size=8")
    assert (err.span.file, err.span.line, err.span.col) == ("test.bt", 3, 40)
    assert "processed 1 insns" in err.verifier_log
    assert render(err, SOURCE).splitlines()[1] == SOURCE.splitlines()[2]


def test_no_leaks_on_close_and_on_failure(good_obj, bad_obj):
    require_bpf()
    fds_before = sorted(os.listdir("/proc/self/fd"))
    obj = load_object(good_obj)
    ids = ({kernel_objects.prog_info(p.fd).id for p in obj.progs.values()},
           {kernel_objects.map_info(m.fd).id
            for m in list(obj.maps.values()) + list(obj.data_maps.values())})
    assert len(ids[0]) == 3 and len(ids[1]) == 4
    obj.close()
    with pytest.raises(VerifierError):
        load_object(bad_obj)
    with pytest.raises(BtcError):
        load_object(good_obj, {"nope": b""})  # fails after maps exist
    assert sorted(os.listdir("/proc/self/fd")) == fds_before
    # programs drop their map references after an RCU grace period: wait for that, boundedly
    deadline = time.monotonic() + 5
    while True:
        leaked = (ids[0] & set(kernel_objects.prog_ids()), ids[1] & set(kernel_objects.map_ids()))
        if not any(leaked) or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    assert not any(leaked), leaked


def test_bad_inputs_are_plain_errors(good_obj, tmp_path):
    cases = {
        b"": "not an ELF file",
        b"hello world": "not an ELF file",
        good_obj[:200]: "truncated or corrupt",
        open(shutil.which("true") or "/bin/true", "rb").read(): "not a BPF object",
        build_object(GOOD, meta=b""): "no .btc.meta section",
        build_object(GOOD, meta=b"{not json"): "not valid JSON",
        build_object(GOOD, meta=b"[1, 2]"): "no `programs` list",
    }
    for data, msg in cases.items():
        with pytest.raises(BtcError) as e:
            parse_object(data)
        assert msg in e.value.message, (msg, e.value.message)
        assert "\n" not in e.value.message


def test_meta_naming_a_missing_function(good_obj):
    require_bpf()
    from bpf_object_builder import metadata
    meta = metadata(GOOD)
    meta["programs"][0]["func"] = "p9_missing"
    with pytest.raises(BtcError, match="no program function 'p9_missing'"):
        load_object(build_object(GOOD, meta=meta))


def test_bpf_loop_callback_address_relocation():
    require_bpf()
    with load_object(build_object(["p4_loop"])) as obj:
        attach.run_once(obj.progs["p4_loop"].fd)
        assert count(obj) == 4
