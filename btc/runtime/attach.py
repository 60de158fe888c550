"""Attach loaded programs to their probes, one function per AttachPlan kind (design.md §3).

Each returns an Attachment owning every fd it opened; on failure, fds opened so far are closed.
BEGIN/END programs are not attached: `run_once` runs them with BPF_PROG_TEST_RUN.
"""
from __future__ import annotations

import ctypes
import errno

from btc.diagnostics import BtcError
from btc.records import Record, field
from btc.runtime import abi, syscalls
from btc.runtime.cpus import online_cpus

_ENOTSUPP = 524
_NO_PERF_LINK = (errno.EINVAL, errno.EOPNOTSUPP, _ENOTSUPP, errno.ENOSYS)
_NO_PERF_EVENTS = ("raw_tracepoint", "syscall_dispatch")
WORKING_PROBES = "tracepoint, rawtracepoint, uprobe/uretprobe, profile and interval probes"


class Attachment(Record, frozen=False):
    """Open fds that keep one probe attached; close() detaches."""

    kind: str
    target: str
    fds: list[int] = field(default_factory=list)
    links: list[int] = field(default_factory=list)  # the BPF link fds among `fds`
    members: list[str] = field(default_factory=list)  # programs a syscall dispatcher serves

    def stop(self) -> None:
        """Take the program off its hook now, keeping the perf events open (disabled) for
        close(). Why: closing a perf link waits for one RCU tasks-trace grace period (15-35
        ms here), closing the perf event as well took 60-90 ms in all: a run prints its maps
        in between. Without links, detaching needs close()."""
        if not self.links:
            self.close()
            return
        for fd in self.links:
            syscalls.close(fd)
            self.fds.remove(fd)
        self.links.clear()
        if self.kind in _NO_PERF_EVENTS:
            return  # the rest are maps and programs: nothing fires without the link
        for fd in self.fds:  # perf events, no longer feeding a program: stop them firing
            try:
                syscalls.ioctl(fd, abi.PERF_EVENT_IOC_DISABLE, 0)
            except syscalls.SyscallError:
                pass  # close() releases it anyway

    def close(self) -> None:
        # links before perf events: the link holds the event, closing order keeps it tidy
        for fd in reversed(self.fds):
            syscalls.close(fd)
        self.fds.clear()
        self.links.clear()

    def __enter__(self) -> "Attachment":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def stop_all(attachments: list[Attachment]) -> None:
    """stop() every attachment, concurrently when there are many."""
    _each(attachments, Attachment.stop)


def close_all(attachments: list[Attachment]) -> None:
    """close() every attachment, concurrently when there are many."""
    _each(attachments, Attachment.close)


_SERIAL_MAX = 4  # up to this many, one thread: a thread pool costs more than it saves
_THREADS_MAX = 64


def _each(attachments: list[Attachment], fn) -> None:
    """Why threads: each detach sleeps in the kernel for an RCU grace period (15-90 ms), and
    waits started together end together; 370 wildcard probes took 27 s one by one."""
    if len(attachments) <= _SERIAL_MAX:
        for a in attachments:
            fn(a)
        return
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=min(_THREADS_MAX, len(attachments))) as pool:
        list(pool.map(fn, attachments))


def attach(plan: dict, prog_fd: int) -> Attachment:
    """Attach by an AttachPlan dict from .btc.meta."""
    kind = plan.get("kind")
    if kind == "tracepoint":
        return attach_tracepoint(prog_fd, plan["category"], plan["name"])
    if kind == "raw_tracepoint":
        return attach_raw_tracepoint(prog_fd, plan["name"])
    if kind == "perf_event":
        return attach_perf_event(prog_fd, int(plan["type"]), int(plan["config"]),
                                 bool(plan.get("freq")), int(plan["value"]), plan.get("cpus", "all"),
                                 plan.get("event", ""))
    if kind == "uprobe":
        return attach_uprobe(prog_fd, plan["path"], int(plan.get("offset", 0)),
                             bool(plan.get("retprobe")), plan.get("pid"),
                             int(plan.get("ref_ctr_offset", 0)))
    if kind == "kprobe":
        return attach_kprobe(prog_fd, plan["function"], int(plan.get("offset", 0)),
                             bool(plan.get("retprobe")))
    if kind in ("begin", "end"):
        raise BtcError(f"{kind} programs are not attached; run them with run_once()")
    raise BtcError(f"unknown attach kind {kind!r}")


def attach_program(prog) -> Attachment:
    """Attach a loaded program (elf_loader's ProgHandle) by its metadata AttachPlan."""
    return attach(prog.meta.get("attach", {}), prog.fd)


def run_once(prog_fd: int, cpu: int | None = None) -> int:
    """Run a RAW_TRACEPOINT program once with an empty ctx (BEGIN/END); returns its r0."""
    attr = abi.AttrTestRun(prog_fd=prog_fd)
    if cpu is not None:
        attr.flags, attr.cpu = abi.BPF_F_TEST_RUN_ON_CPU, cpu
    syscalls.bpf(abi.BpfCmd.PROG_TEST_RUN, attr, "running a BEGIN/END program (BPF_PROG_TEST_RUN)")
    return attr.retval


def attach_raw_tracepoint(prog_fd: int, name: str) -> Attachment:
    buf = ctypes.create_string_buffer(name.encode())
    attr = abi.AttrRawTracepointOpen(name=syscalls.addr(buf), prog_fd=prog_fd)
    fd = syscalls.bpf(abi.BpfCmd.RAW_TRACEPOINT_OPEN, attr, f"attaching to raw tracepoint {name}")
    return Attachment("raw_tracepoint", name, [fd], [fd])  # the fd is a BPF link


def attach_tracepoint(prog_fd: int, category: str, name: str) -> Attachment:
    from btc.runtime import tracefs  # here, not at the top: pathlib costs ~6 ms of start-up

    tp_id = tracefs.tracepoint_id(category, name)
    attr = _perf_attr(abi.PerfType.TRACEPOINT, tp_id)
    attr.sample_period, attr.sample_type, attr.wakeup_events = 1, abi.PERF_SAMPLE_RAW, 1
    # one event covers all CPUs: the program hangs on the tracepoint itself
    return _open_and_attach("tracepoint", f"{category}:{name}", prog_fd, attr, [(-1, 0)])


def attach_perf_event(prog_fd: int, type_: int, config: int, freq: bool, value: int,
                      cpus: str = "all", event: str = "") -> Attachment:
    """profile (cpus "all": one event per online CPU) and interval (cpus "one")."""
    if value <= 0:
        raise BtcError(f"perf event {'frequency' if freq else 'period'} must be positive")
    attr = _perf_attr(type_, config)
    attr.sample_period = value  # the same word is sample_freq when the freq flag is set
    if freq:
        attr.flags |= abi.PERF_ATTR_FLAG_FREQ
    if type_ == abi.PerfType.HARDWARE and not _has_cpu_pmu():
        what = event or f"hardware event {config}"
        raise BtcError(f"cannot attach to {what}: this machine has no hardware "
                       "PMU (no cpu PMU in /sys/bus/event_source/devices); probe types that work "
                       f"here: software, {WORKING_PROBES}")
    online = online_cpus()
    targets = [(-1, c) for c in (online if cpus == "all" else online[:1])]
    return _open_and_attach("perf_event", f"type {type_} config {config}", prog_fd, attr, targets)


def attach_uprobe(prog_fd: int, path: str, offset: int, retprobe: bool = False,
                  pid: int | None = None, ref_ctr_offset: int = 0) -> Attachment:
    from btc.runtime import tracefs

    pmu = tracefs.pmu_type("uprobe")
    if pmu is None:
        raise BtcError("this kernel has no uprobe PMU (/sys/bus/event_source/devices/uprobe)",
                       hint=f"probe types that may work instead: tracepoint, rawtracepoint, "
                            "profile and interval")
    path_buf = ctypes.create_string_buffer(path.encode())
    attr = _perf_attr(pmu, 0)
    if retprobe:
        attr.config |= 1 << tracefs.pmu_retprobe_bit("uprobe")
    if ref_ctr_offset:
        # USDT semaphore: the kernel increments the u16 at this file offset while attached
        attr.config |= ref_ctr_offset << tracefs.pmu_format_shift("uprobe", "ref_ctr_offset")
    attr.config1, attr.config2 = syscalls.addr(path_buf), offset
    target = (pid, -1) if pid else (-1, 0)
    kind = "uretprobe" if retprobe else "uprobe"
    return _open_and_attach(kind, f"{path}+0x{offset:x}", prog_fd, attr, [target])


def attach_kprobe(prog_fd: int, function: str, offset: int = 0, retprobe: bool = False) -> Attachment:
    from btc.runtime import tracefs

    pmu = tracefs.pmu_type("kprobe")
    if pmu is None:
        raise BtcError(
            f"cannot attach to kprobe:{function}: this kernel has no kprobes "
            "(no /sys/bus/event_source/devices/kprobe and no tracefs kprobe_events); "
            f"probe types that work here: {WORKING_PROBES}")
    name_buf = ctypes.create_string_buffer(function.encode())
    attr = _perf_attr(pmu, 0)
    if retprobe:
        attr.config |= 1 << tracefs.pmu_retprobe_bit("kprobe")
    attr.config1, attr.config2 = syscalls.addr(name_buf), offset
    kind = "kretprobe" if retprobe else "kprobe"
    return _open_and_attach(kind, function, prog_fd, attr, [(-1, 0)])


def _has_cpu_pmu() -> bool:
    import os

    try:
        names = os.listdir("/sys/bus/event_source/devices")
    except OSError:
        return False
    return any(n in ("cpu", "cpu_core", "cpu_atom") or n.startswith("armv") for n in names)


def _perf_attr(type_: int, config: int) -> abi.PerfEventAttr:
    attr = abi.PerfEventAttr(type=type_, size=ctypes.sizeof(abi.PerfEventAttr), config=config)
    attr.flags = abi.PERF_ATTR_FLAG_DISABLED  # enabled only once the program is attached
    return attr


def _open_and_attach(kind: str, target: str, prog_fd: int, attr: abi.PerfEventAttr,
                     targets: list[tuple[int, int]], use_link: bool = True) -> Attachment:
    att = Attachment(kind, target)
    try:
        for pid, cpu in targets:
            pfd = syscalls.perf_event_open(attr, pid, cpu, what=f"opening {kind} {target}")
            att.fds.append(pfd)
            link = _attach_perf(pfd, prog_fd, f"{kind} {target}", use_link)
            if link is not None:
                att.fds.append(link)
                att.links.append(link)
            syscalls.ioctl(pfd, abi.PERF_EVENT_IOC_ENABLE, 0, f"enabling {kind} {target}")
    except BaseException:
        att.close()
        raise
    return att


def _attach_perf(pfd: int, prog_fd: int, what: str, use_link: bool = True) -> int | None:
    """BPF link to the perf event (kernel >= 5.15), else the SET_BPF ioctl; the link fd or None."""
    if use_link:
        attr = abi.AttrLinkCreate(prog_fd=prog_fd, target_fd=pfd,
                                  attach_type=abi.AttachType.PERF_EVENT)
        res = syscalls.bpf_raw(abi.BpfCmd.LINK_CREATE, attr)
        if res >= 0:
            return res
        if -res not in _NO_PERF_LINK:
            raise syscalls.SyscallError(f"attaching the program to {what}", -res)
    syscalls.ioctl(pfd, abi.PERF_EVENT_IOC_SET_BPF, prog_fd, f"attaching the program to {what}")
    return None
