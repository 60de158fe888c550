"""The facts about the kernel that a compiled object depends on: recorded in `.btc.meta` at
compile time (`facts`) and compared with the running kernel before loading (`check`).

What the generated code bakes in: the machine (syscall numbers, register layout) and the
field layout of every tracepoint it reads (offsets from the tracefs format file). The kernel
release alone does not matter: an object built on 6.18.1 runs on 6.18.2 when the layouts it
uses are the same, and is refused with one line when they differ.
"""
from __future__ import annotations

import functools
import os

from btc.diagnostics import BtcError


def tracepoint_layout(category: str, name: str) -> str | None:
    """A digest of the tracepoint's field layout, or None when this kernel lacks it.

    Only the `field:` lines count: the event id and print format differ between kernels (or
    boots) without changing what the program reads."""
    from btc.runtime import tracefs  # tracefs may be mounted on demand: only when needed

    try:
        with open(tracefs.event_dir(category, name) / "format", "rb") as f:
            text = f.read()
    except FileNotFoundError:
        return None
    except OSError as e:
        raise BtcError(f"cannot read the format of tracepoint {category}:{name}: {e.strerror}") from None
    import hashlib  # ~5 ms to import: only objects that read tracepoints need it

    fields = b"\n".join(line.strip() for line in text.splitlines() if b"field:" in line)
    return hashlib.sha256(fields).hexdigest()[:16]


def _tracepoints(programs: list[dict]) -> list[tuple[str, str]]:
    out = set()
    for p in programs:
        attach = p.get("attach") or {}
        if attach.get("kind") == "tracepoint":
            out.add((str(attach.get("category")), str(attach.get("name"))))
    return sorted(out)


@functools.cache
def btf_digest() -> str | None:
    """A fingerprint of /sys/kernel/btf/vmlinux, for objects with constants taken from it
    (bpftrace sizeof/offsetof of kernel types): the release string stays the same when a
    kernel is rebuilt with other struct layouts, and `uname -v` may be pinned (reproducible
    builds). Length and CRC-32 of the whole BTF: it detects a changed kernel (no adversary
    involved) without hashlib's import; ~10 ms of such an object's cached start, once per
    process."""
    import zlib

    try:
        with open("/sys/kernel/btf/vmlinux", "rb") as f:
            data = f.read()
    except OSError:
        return None
    return f"{len(data)}-{zlib.crc32(data):08x}"


def facts(programs: list[dict], btf: bool = False) -> dict:
    """The `kernel` entry of `.btc.meta` for programs with these attach plans; `btf`: the
    code uses constants from the kernel's BTF."""
    uname = os.uname()
    layouts = {}
    for cat, name in _tracepoints(programs):
        layouts[f"{cat}:{name}"] = tracepoint_layout(cat, name)
    out = {"release": uname.release, "machine": uname.machine, "tracepoints": layouts}
    if btf:
        out["btf"] = btf_digest()
    return out


def mismatch(meta: dict) -> str | None:
    """Why this object cannot run on this kernel, in one line; None when it can."""
    kernel = meta.get("kernel")
    if not isinstance(kernel, dict):
        return None
    uname = os.uname()
    built = kernel.get("release") or "?"
    machine = kernel.get("machine")
    if machine and machine != uname.machine:
        return (f"the object was built for {machine} (kernel {built}); this machine is "
                f"{uname.machine}: recompile it here")
    if "btf" in kernel and kernel["btf"] != btf_digest():
        return (f"the object was built for kernel {built}, whose types (BTF) differ from this "
                f"kernel's ({uname.release}): recompile it here")
    layouts = kernel.get("tracepoints")
    if not isinstance(layouts, dict):
        return None
    for tp, digest in sorted(layouts.items()):
        cat, _, name = tp.partition(":")
        here = tracepoint_layout(cat, name)
        if here is None:
            return (f"the object was built for kernel {built} and uses tracepoint {tp}, which "
                    f"this kernel ({uname.release}) does not have")
        if here != digest:
            return (f"the object was built for kernel {built}, where tracepoint {tp} has another "
                    f"layout than on this kernel ({uname.release}): recompile it here")
    return None


def check(meta: dict) -> None:
    problem = mismatch(meta)
    if problem:
        raise BtcError(problem)
