"""bpf_attr / perf_event_attr / info layouts match linux-bpf.md §2 and §6 (uapi offsets)."""
import ctypes

import pytest

from btc.runtime import abi

LAYOUTS = {
    abi.AttrMapCreate: {"map_type": 0, "key_size": 4, "value_size": 8, "max_entries": 12,
                        "map_flags": 16, "inner_map_fd": 20, "numa_node": 24, "map_name": 28,
                        "map_ifindex": 44, "btf_fd": 48, "btf_key_type_id": 52,
                        "btf_value_type_id": 56, "btf_vmlinux_value_type_id": 60,
                        "map_extra": 64},
    abi.AttrMapElem: {"map_fd": 0, "key": 8, "value": 16, "flags": 24},
    abi.AttrMapBatch: {"in_batch": 0, "out_batch": 8, "keys": 16, "values": 24, "count": 32,
                       "map_fd": 36, "elem_flags": 40, "flags": 48},
    abi.AttrProgLoad: {"prog_type": 0, "insn_cnt": 4, "insns": 8, "license": 16, "log_level": 24,
                       "log_size": 28, "log_buf": 32, "kern_version": 40, "prog_flags": 44,
                       "prog_name": 48, "prog_ifindex": 64, "expected_attach_type": 68,
                       "prog_btf_fd": 72, "func_info_rec_size": 76, "func_info": 80,
                       "func_info_cnt": 88, "line_info_rec_size": 92, "line_info": 96,
                       "line_info_cnt": 104, "attach_btf_id": 108, "attach_prog_fd": 112,
                       "core_relo_cnt": 116, "fd_array": 120, "core_relos": 128,
                       "core_relo_rec_size": 136, "log_true_size": 140},
    abi.AttrTestRun: {"prog_fd": 0, "retval": 4, "data_size_in": 8, "data_size_out": 12,
                      "data_in": 16, "data_out": 24, "repeat": 32, "duration": 36,
                      "ctx_size_in": 40, "ctx_size_out": 44, "ctx_in": 48, "ctx_out": 56,
                      "flags": 64, "cpu": 68, "batch_size": 72},
    abi.AttrInfoByFd: {"bpf_fd": 0, "info_len": 4, "info": 8},
    abi.AttrRawTracepointOpen: {"name": 0, "prog_fd": 8, "cookie": 16},
    abi.AttrBtfLoad: {"btf": 0, "btf_log_buf": 8, "btf_size": 16, "btf_log_size": 20,
                      "btf_log_level": 24, "btf_log_true_size": 28, "btf_flags": 32},
    abi.AttrLinkCreate: {"prog_fd": 0, "target_fd": 4, "attach_type": 8, "flags": 12,
                         "bpf_cookie": 16},
    abi.AttrGetId: {"start_id": 0, "next_id": 4, "open_flags": 8},
    abi.PerfEventAttr: {"type": 0, "size": 4, "config": 8, "sample_period": 16,
                        "sample_type": 24, "read_format": 32, "flags": 40, "wakeup_events": 48,
                        "bp_type": 52, "config1": 56, "config2": 64},
    abi.BpfProgInfo: {"type": 0, "id": 4, "tag": 8, "jited_prog_len": 16, "xlated_prog_len": 20,
                      "nr_map_ids": 52, "map_ids": 56, "name": 64, "btf_id": 128,
                      "run_time_ns": 192, "run_cnt": 200, "recursion_misses": 208,
                      "verified_insns": 216},
    abi.BpfMapInfo: {"type": 0, "id": 4, "key_size": 8, "value_size": 12, "max_entries": 16,
                     "map_flags": 20, "name": 24},
}

SIZES = {abi.AttrProgLoad: 144, abi.PerfEventAttr: abi.PERF_ATTR_SIZE_VER7,
         abi.BpfProgInfo: 232, abi.BpfMapInfo: 104, abi.AttrMapCreate: 72,
         abi.BpfFuncInfo: 8, abi.BpfLineInfo: 16}


@pytest.mark.parametrize("struct", list(LAYOUTS), ids=lambda s: s.__name__)
def test_offsets(struct):
    got = {name: getattr(struct, name).offset for name in LAYOUTS[struct]}
    assert got == LAYOUTS[struct]


@pytest.mark.parametrize("struct", list(SIZES), ids=lambda s: s.__name__)
def test_sizes(struct):
    assert ctypes.sizeof(struct) == SIZES[struct]


def test_attrs_fit_in_bpf_attr():
    for struct in LAYOUTS:
        if struct.__name__.startswith("Attr"):
            assert ctypes.sizeof(struct) <= 168


def test_constants():
    assert abi.BpfCmd.LINK_CREATE == 28 and abi.BpfCmd.MAP_LOOKUP_BATCH == 24
    assert abi.MapType.RINGBUF == 27 and abi.ProgType.RAW_TRACEPOINT == 17
    assert abi.AttachType.PERF_EVENT == 41
    assert abi.PERF_EVENT_IOC_SET_BPF == 0x40042408
