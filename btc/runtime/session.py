"""The run lifecycle: load an object, run BEGIN, attach, deliver events, detach, run END,
print the maps, release every kernel object.

This module never imports the compiler: `btc run prog.o` goes through here alone.
"""
from __future__ import annotations

import ctypes
import os
import signal
import sys

from btc.diagnostics import BtcError
from btc.runtime import meta_read
from btc.runtime.attach import (Attachment, attach, attach_program, close_all, run_once,
                                stop_all)
from btc.runtime.elf_loader import LoadedObject, load_object
from btc.runtime.events import EventSink
from btc.runtime.privileges import check_bpf_available, raise_memlock_limit
from btc.runtime.ringbuf import RingBuffer

POLL_MS = 100
_SIGNALS = (signal.SIGINT, signal.SIGTERM)
_TOOL_NAME = {"btrace": b"btrace", "bpftrace": b"bpftrace"}
PR_SET_NAME = 15  # include/uapi/linux/prctl.h


class RunOptions:
    """How to run (a plain class: a dataclass costs ~1 ms to define, on the start-up path)."""

    __slots__ = ("pid", "cmd", "quiet", "verbose", "output", "fmt", "unsafe")

    def __init__(self, pid: int | None = None, cmd: str | None = None, quiet: bool = False,
                 verbose: bool = False, output: str | None = None, fmt: str = "text",
                 unsafe: bool = False):
        self.pid, self.cmd, self.quiet, self.verbose = pid, cmd, quiet, verbose
        self.output, self.fmt, self.unsafe = output, fmt, unsafe


def _check_unsafe(meta: dict, allowed: bool) -> None:
    """system() and signal() run only with --unsafe (bpftrace's wording)."""
    used = meta.get("events", {}).get("unsafe") or []
    if used and not allowed:
        raise BtcError(f"{used[0]}() is an unsafe function being used in safe mode")


def run_object(obj: bytes, params: list[str], opts: RunOptions) -> int:
    """Run a compiled object until exit(), Ctrl-C, SIGTERM or the end of `-c CMD`."""
    meta = meta_read.read_meta(obj, whole=False)  # load_object parses (and checks) the rest
    out = open(opts.output, "w", encoding="utf-8", errors="surrogateescape") if opts.output \
        else sys.stdout
    session = Session(obj, meta, params, opts, out)
    try:
        return session.run()
    finally:
        session.close()
        if out is not sys.stdout:
            out.close()


class Session:
    """Every kernel object of one run, and the state of its event loop."""

    def __init__(self, obj: bytes, meta: dict, params: list[str], opts: RunOptions, out):
        self.obj, self.meta, self.params, self.opts = obj, meta, params, opts
        self.dialect = meta["dialect"]
        self.loaded: LoadedObject | None = None
        self.ringbuf: RingBuffer | None = None
        self.attachments: list[Attachment] = []
        self.child = None  # subprocess.Popen of `-c CMD`
        self._child_gate: int | None = None
        self.stop_requested = False
        self.interrupted = False
        self.sink = EventSink(meta, self.dialect, out, opts.fmt)

    # -- lifecycle ---------------------------------------------------------------------------

    def run(self) -> int:
        _check_unsafe(self.meta, self.opts.unsafe)
        check_bpf_available()
        raise_memlock_limit()
        _check_target_pid(self.opts.pid)
        _set_thread_name(_TOOL_NAME.get(self.dialect, b"btc"))
        self._spawn_child()  # held before its exec: its pid is known before loading (cpid)
        clocks = meta_read.Clocks()
        values = meta_read.LoadValues(target_pid=self.opts.pid or 0,
                                      cpid=self.child.pid if self.child is not None else 0)
        patch = meta_read.rodata_image(self.meta, self.params, self.dialect, clocks, values)
        self.loaded = load_object(self.obj, patch)
        self.sink.bind(self.loaded, clocks.realtime_offset_ns)
        self.ringbuf = RingBuffer.for_map(self.loaded.maps[self.meta["events"]["ringbuf"]])
        probes = [p for p in self.meta["programs"] if p["attach"].get("kind") not in ("begin", "end")]
        if self.dialect == "bpftrace" and not self.opts.quiet:
            self.sink.banner(len(self.meta["programs"]))
        with _signals_caught(self._on_signal):
            self._run_special("begin")
            if not self.sink.exited:
                self._attach_all(probes)
                self._release_child()
                if self._should_wait(probes):
                    self._loop()
            self._detach_all()
            if self.interrupted and self.dialect == "btrace":
                self.sink.write("\n")
            self.sink.accept_events()  # END's output is printed even after exit()
            self._run_special("end")
            self.sink.report_lost()
            self.sink.print_exit_maps()
        self.sink.flush()
        return self.sink.exit_code

    def close(self) -> None:
        self.sink.drop_prepared()
        self._release_child()
        close_all(self.attachments)
        self.attachments.clear()
        if self.child is not None and self.child.poll() is None:
            self.child.terminate()
            self.child.wait()
        if self.ringbuf is not None:
            self.ringbuf.close()
            self.ringbuf = None
        if self.loaded is not None:
            self.loaded.close()
            self.loaded = None

    # -- steps -------------------------------------------------------------------------------

    def _run_special(self, kind: str) -> None:
        for p in self.meta["programs"]:
            if p["attach"].get("kind") == kind:
                run_once(self.loaded.progs[p["func"]].fd)
                self._drain()
                if not self.sink.accepting:  # exit() in one piece of a split BEGIN/END
                    break

    def _attach_all(self, probes: list[dict]) -> None:
        # The kernel runs a uprobe's (and kprobe's, fentry's) programs newest first: attach
        # those last to first so that same-point probes fire in source order (as bpftrace).
        first = [p for p in probes if not _runs_newest_first(p["attach"])]
        last = [p for p in reversed(probes) if _runs_newest_first(p["attach"])]
        steps: list = first
        if any("syscall_nr" in p["attach"] for p in first):
            from btc.runtime import syscall_dispatch  # only then: start-up time

            steps = syscall_dispatch.plan(first)
        for p in steps + last:
            if not isinstance(p, dict):  # a syscall_dispatch.Group: one dispatcher for many
                self.attachments.extend(syscall_dispatch.attach(
                    p, self.loaded.progs, self.meta.get("kernel", {}).get("machine")))
                continue
            prog = self.loaded.progs[p["func"]]
            plan = p["attach"]
            if plan.get("kind") == "uprobe" and self.opts.pid and not plan.get("pid"):
                # -p: the kernel installs the uprobe in that process only
                self.attachments.append(attach({**plan, "pid": self.opts.pid}, prog.fd))
            else:
                self.attachments.append(attach_program(prog))

    def _detach_all(self) -> None:
        """Stop every program (the maps are final from here); close() releases the rest.
        Unlinking sleeps through RCU grace periods (15-35 ms): meanwhile this thread makes
        the walk programs of the big maps printed at exit."""
        stopper = None
        if self.attachments:
            import threading

            stopper = threading.Thread(target=stop_all, args=(self.attachments,))
            stopper.start()
        try:
            if self.loaded is not None:
                self.sink.prepare_exit_maps()
        finally:
            if stopper is not None:
                stopper.join()
        self._drain()

    def _spawn_child(self) -> None:
        """Start `-c CMD` held before its exec, so tracing sees it from its first
        instruction: a shell waits on a pipe, then execs CMD in the same process (its pid is
        `cpid`). `_release_child` lets it go once every probe is attached."""
        if not self.opts.cmd:
            return
        import shlex  # only with -c: keeps `btc run` start-up lean
        import subprocess

        try:
            argv = shlex.split(self.opts.cmd)
        except ValueError as e:
            raise BtcError(f"can't parse the command '{self.opts.cmd}': {e}") from None
        if not argv:
            raise BtcError("-c needs a command")
        read_end, self._child_gate = os.pipe()
        gate = 'read _ <&3; exec 3<&-; exec "$@"'  # dash only knows fds 0-9
        try:
            self.child = subprocess.Popen(["/bin/sh", "-c", gate, "sh", *argv], pass_fds=(3,),
                                          preexec_fn=lambda: os.dup2(read_end, 3))
        except OSError as e:
            raise BtcError(f"can't run '{self.opts.cmd}': {e.strerror}") from None
        finally:
            os.close(read_end)

    def _release_child(self) -> None:
        if self._child_gate is not None:
            os.close(self._child_gate)
            self._child_gate = None

    def _should_wait(self, probes: list[dict]) -> bool:
        # btrace exits at once when only BEGIN/END exist; classic bpftrace waits for exit()
        return bool(probes) or self.dialect == "bpftrace" or self.child is not None

    def _loop(self) -> None:
        while not (self.stop_requested or self.sink.exited):
            self.ringbuf.poll(POLL_MS, self.sink.handle, self.sink.handle_run)
            self.sink.check_lost()
            self._note_traced()
            if self.child is not None and self.child.poll() is not None:
                break
        self._drain()

    def _note_traced(self) -> None:
        """Keep the traced process's mappings fresh, for its user stacks after it exits."""
        for pid in (self.child.pid if self.child else None, self.opts.pid):
            if pid:
                self.sink.note_process(pid)

    def _drain(self) -> None:
        if self.ringbuf is not None:
            self.ringbuf.drain(self.sink.handle, self.sink.handle_run)

    def _on_signal(self, signum, frame) -> None:
        self.stop_requested = True
        self.interrupted = True


class _signals_caught:
    """SIGINT/SIGTERM set a flag instead of raising, and are restored afterwards."""

    def __init__(self, handler):
        self.handler = handler
        self.saved = {}

    def __enter__(self):
        for s in _SIGNALS:
            self.saved[s] = signal.signal(s, self.handler)
        return self

    def __exit__(self, *exc):
        for s, h in self.saved.items():
            signal.signal(s, h)


def _check_target_pid(pid: int | None) -> None:
    if pid is None:
        return
    if pid <= 0 or not os.path.exists(f"/proc/{pid}"):
        raise BtcError(f"-p {pid}: no such process")


def _set_thread_name(name: bytes) -> None:
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_NAME, ctypes.c_char_p(name[:15]), 0, 0, 0)
    except (OSError, AttributeError):
        pass  # comm stays the interpreter's name: cosmetic only


def _runs_newest_first(plan: dict) -> bool:
    """bpftrace 0.23's attach_reverse(): kretprobes keep their attach order."""
    kind = plan.get("kind")
    return kind in ("uprobe", "fentry") or (kind == "kprobe" and not plan.get("retprobe"))
