"""cgroupid(path): a cgroup's id where the object runs, read from its kernfs file handle.

The id the kernel reports for a task (bpf_get_current_cgroup_id) is the cgroup directory's
kernfs node id, which name_to_handle_at(2) returns as the 8-byte handle; a path outside a
cgroup file system has a larger handle (EOVERFLOW) or none.
"""
from __future__ import annotations

import ctypes
import os

from btc.diagnostics import BtcError
from btc.runtime import abi


def cgroup_id(path: str, dialect: str) -> int:
    libc = ctypes.CDLL(None, use_errno=True)
    fh = abi.FileHandle8(handle_bytes=8)
    mount_id = ctypes.c_int(0)
    rc = libc.name_to_handle_at(abi.AT_FDCWD, os.fsencode(path), ctypes.byref(fh),
                                ctypes.byref(mount_id), 0)
    if rc != 0:
        reason = os.strerror(ctypes.get_errno())
        if dialect == "bpftrace":
            raise BtcError(f'Failed to get `cgroupid` for path: "{path}": {reason}')
        raise BtcError(f'cgroupid: cannot get the cgroup id of "{path}": {reason}')
    return int.from_bytes(bytes(fh.f_handle), "little")
