"""Walk the kernel's BPF object ids and read info by fd (leak checks, stats, btf_id checks)."""
from __future__ import annotations

import ctypes
import errno

from btc.runtime import abi, syscalls


def _ids(cmd: abi.BpfCmd) -> list[int]:
    out, start = [], 0
    while True:
        attr = abi.AttrGetId(start_id=start)
        res = syscalls.bpf_raw(cmd, attr)
        if res == -errno.ENOENT:
            return out
        if res < 0:
            raise syscalls.SyscallError(f"bpf({cmd.name})", -res)
        start = attr.next_id
        out.append(start)


def prog_ids() -> list[int]:
    return _ids(abi.BpfCmd.PROG_GET_NEXT_ID)


def map_ids() -> list[int]:
    return _ids(abi.BpfCmd.MAP_GET_NEXT_ID)


def link_ids() -> list[int]:
    return _ids(abi.BpfCmd.LINK_GET_NEXT_ID)


def _info(fd: int, info: ctypes.Structure, what: str) -> ctypes.Structure:
    attr = abi.AttrInfoByFd(bpf_fd=fd, info_len=ctypes.sizeof(info), info=syscalls.addr(info))
    syscalls.bpf(abi.BpfCmd.OBJ_GET_INFO_BY_FD, attr, what)
    return info


def prog_info(fd: int) -> abi.BpfProgInfo:
    """bpf_prog_info of a program fd (run_cnt/run_time_ns need BPF stats enabled)."""
    return _info(fd, abi.BpfProgInfo(), "reading program info")


def map_info(fd: int) -> abi.BpfMapInfo:
    return _info(fd, abi.BpfMapInfo(), "reading map info")


def enable_stats() -> int:
    """BPF_ENABLE_STATS(RUN_TIME): stats stay on while the returned fd is open."""
    attr = abi.AttrEnableStats(type=abi.BPF_STATS_RUN_TIME)
    return syscalls.bpf(abi.BpfCmd.ENABLE_STATS, attr, "enabling BPF run-time statistics")


def _name_by_id(cmd: abi.BpfCmd, obj_id: int, reader) -> str | None:
    res = syscalls.bpf_raw(cmd, abi.AttrGetId(start_id=obj_id))
    if res < 0:
        return None  # gone meanwhile
    try:
        return reader(res).name.decode("utf-8", "replace")
    finally:
        syscalls.close(res)


def prog_name_by_id(prog_id: int) -> str | None:
    return _name_by_id(abi.BpfCmd.PROG_GET_FD_BY_ID, prog_id, prog_info)


def map_name_by_id(map_id: int) -> str | None:
    return _name_by_id(abi.BpfCmd.MAP_GET_FD_BY_ID, map_id, map_info)
