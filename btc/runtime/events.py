"""Delivering ring-buffer events and printing maps: the user-visible side of a run.

Each record is `u32 kind; u32 id` plus a payload (docs/design.md §3); the sink turns it into
text (or bpftrace JSON lines) on the output stream, and performs the map-wide actions
(clear, zero, print) that programs ask user space to do.
"""
from __future__ import annotations

import struct
import sys

from btc.meta import STACK_MAPS
from btc.runtime import output
from btc.runtime.elf_loader import LoadedObject

_HDR = struct.Struct("<II")
_RUN_HDR = struct.Struct("<I4xQ")  # ring-buffer record length, then our kind | id << 32
_UNBUILT = object()
_U64 = struct.Struct("<Q")
_I64 = struct.Struct("<q")

_PENDING_MAX = 1024  # printf texts per write
_BIG_TEXT = 1 << 20  # a text this long (a big map) first grows an output pipe
_PIPE_SIZES = (8 << 20, 1 << 20)  # in turn: above fs/pipe-max-size needs CAP_SYS_RESOURCE

EV_PRINTF, EV_PRINT, EV_PRINT_MAP, EV_CLEAR, EV_ZERO, EV_EXIT, EV_TIME, EV_DELETE = range(1, 9)
EV_SYSTEM, EV_CAT = 9, 10  # btc.meta: printf-shaped payloads that user space acts on
EV_JOIN = 11  # btc.meta: JOIN_ARGS x char[JOIN_LEN], id = index into events.join


class EventSink:
    def __init__(self, meta: dict, dialect: str, out, fmt: str = "text"):
        self.meta, self.dialect, self.out = meta, dialect, out
        self.json = fmt == "json"
        self.loaded: LoadedObject | None = None
        self.exited = False
        self.accepting = True
        self.exit_code = 0
        self.lost_seen = 0
        self.realtime_offset_ns = 0
        self.symbols = None  # symbols.RunSymbols, set by bind()
        self._user_symbols = False
        self.sym = None  # output.SymbolText for stacks/ksym/usym, set by bind()
        self._printf_fns: dict = {}  # printf id -> formatter (printf_compiled), built on use
        self._batch_fns: dict = {}  # (printf id, stride) -> run formatter or None, built on use
        self._pending: list[str] = []  # printf text not yet handed to `out` (one write per batch)
        self._pipe_grown = False
        self._prepared: dict = {}  # map sym -> map_dump.Prepared, made by prepare_exit_maps
        self._handlers = {
            EV_PRINTF: self._printf, EV_PRINT: self._print, EV_PRINT_MAP: self._print_map,
            EV_CLEAR: self._clear, EV_ZERO: self._zero, EV_EXIT: self._exit, EV_TIME: self._time,
            EV_DELETE: self._delete, EV_SYSTEM: self._system, EV_CAT: self._cat,
            EV_JOIN: self._join,
        }

    def bind(self, loaded: LoadedObject, realtime_offset_ns: int = 0) -> None:
        self.loaded = loaded
        self.realtime_offset_ns = realtime_offset_ns
        self.symbols = _symbol_text(loaded, self.dialect)
        self.sym = self.symbols.text()
        self._printf_fns = {}  # formatters hold `sym`
        self._user_symbols = STACK_MAPS["user"] in loaded.maps or "'usym'" in repr(self.meta)

    # -- records -----------------------------------------------------------------------------

    def handle(self, view: memoryview) -> bool:
        """Ring-buffer callback; True stops consuming (after exit() in btrace)."""
        if not self.accepting:
            return False
        kind, ident = _HDR.unpack_from(view, 0)
        if kind == EV_PRINTF:  # the hot path: no payload copy, formatter built once
            fn = self._printf_fns.get(ident) or self._printf_fn(ident)
            text, warnings = fn(view, _HDR.size)
            if self.json:
                text = output_json_message("printf", text)
            pending = self._pending
            pending.append(text)
            if warnings or len(pending) >= _PENDING_MAX:
                self._write_pending()
                self.warn(warnings)
            return False
        handler = self._handlers.get(kind)
        if handler is not None:
            handler(ident, bytes(view[_HDR.size:]))
        return False

    def handle_run(self, data: memoryview, rec: int, stride: int, avail: int) -> int:
        """Ring-buffer run callback: a run of records of one printf, formatted at once;
        returns how many it consumed (0 leaves the record to `handle`)."""
        if not self.accepting or self.json or avail < 2 * stride:
            return 0
        length, kind_id = _RUN_HDR.unpack_from(data, rec)
        if kind_id & 0xFFFFFFFF != EV_PRINTF:
            return 0
        key = (kind_id >> 32, stride)
        fn = self._batch_fns.get(key, _UNBUILT)
        if fn is _UNBUILT:
            fn = self._batch_fn(*key)
        if fn is None:
            return 0
        view = data[rec:rec + avail - avail % stride]
        try:
            texts = fn(view, length, kind_id)
        finally:
            view.release()
        if texts:  # out at once: the stream's buffer batches small runs into one write(2)
            self._pending.append(b"".join(texts).decode("utf-8", "surrogateescape"))
            self._write_pending()
        return len(texts)

    def _batch_fn(self, ident: int, stride: int):
        from btc.runtime.output.printf_compiled import compile_printf_batch

        fn = compile_printf_batch(self.meta["events"]["printf"][ident], self.dialect, stride)
        self._batch_fns[(ident, stride)] = fn
        return fn

    def accept_events(self) -> None:
        self.accepting = True

    def _printf_fn(self, ident: int):
        from btc.runtime.output.printf_compiled import compile_printf

        fn = compile_printf(self.meta["events"]["printf"][ident], self.dialect, self.sym)
        self._printf_fns[ident] = fn
        return fn

    def _printf(self, ident: int, payload: bytes) -> None:
        desc = self.meta["events"]["printf"][ident]
        text, warnings = output.format_printf(desc, payload, self.dialect, sym=self.sym)
        self.write(output.json_message("printf", text) if self.json else text)
        self.warn(warnings)

    def _system(self, ident: int, payload: bytes) -> None:
        """system(fmt, ...): run the formatted command with /bin/sh; its output joins ours."""
        import subprocess

        desc = self.meta["events"]["printf"][ident]
        cmd, _ = output.format_printf(desc, payload, self.dialect, sym=self.sym)
        self.out.flush()
        done = subprocess.run(["/bin/sh", "-c", cmd], stdout=subprocess.PIPE, check=False)
        text = done.stdout.decode("utf-8", "surrogateescape")
        self.write(output.json_message("syscall", text) if self.json else text)

    def _join(self, ident: int, payload: bytes) -> None:
        from btc.meta import JOIN_ARGS, JOIN_LEN

        sep = self.meta["events"]["join"][ident].encode("utf-8", "surrogateescape")
        parts = []
        for i in range(JOIN_ARGS):
            s = payload[i * JOIN_LEN:(i + 1) * JOIN_LEN].split(b"\0", 1)[0]
            if not s and i > 0 and not any(payload[i * JOIN_LEN:]):
                break
            parts.append(s)
        text = sep.join(parts).decode("utf-8", "surrogateescape")
        self.write(output.json_message("join", text) if self.json else text + "\n")

    def _cat(self, ident: int, payload: bytes) -> None:
        """cat(fmt, ...): print the named file's contents (bpftrace's error text if unreadable)."""
        desc = self.meta["events"]["printf"][ident]
        path, _ = output.format_printf(desc, payload, self.dialect, sym=self.sym)
        try:
            with open(path, "rb") as f:
                data = f.read()
        except OSError as e:
            self.warn([f"ERROR: failed to open file '{path}': {e.strerror}"])
            return
        text = data.decode("utf-8", "surrogateescape")
        self.write(output.json_message("cat", text) if self.json else text)

    def _print(self, ident: int, payload: bytes) -> None:
        td = self.meta["events"]["print"][ident]
        self.write(output.json_value(td, payload, self.sym) if self.json
                   else output.format_value(td, payload, self.dialect, self.sym))

    def _print_map(self, ident: int, payload: bytes) -> None:
        top, div = struct.unpack_from("<QQ", payload, 0) if len(payload) >= 16 else (0, 1)
        self.write_parts(self.map_parts(self.meta["maps"][ident], top, div or 1))

    def _clear(self, ident: int, payload: bytes) -> None:
        self._map(ident).clear()

    def _zero(self, ident: int, payload: bytes) -> None:
        self._map(ident).zero()

    def _delete(self, ident: int, payload: bytes) -> None:
        """btrace delete(@m[k]): the payload is the user key; a histogram loses every bucket
        of that key (its BPF key is the user key, padded to 8, then a u64 bucket)."""
        desc = self.meta["maps"][ident]
        handle = self._map(ident)
        if desc.get("key") is None:
            handle.clear()
            return
        user = payload[:desc["key"]["size"]]
        if desc.get("agg") in ("hist", "lhist"):
            for key in handle.keys():
                if key[:len(user)] == user:
                    handle.delete(key)
            return
        handle.delete(user.ljust(handle.key_size, b"\0")[:handle.key_size])

    def _exit(self, ident: int, payload: bytes) -> None:
        self.exit_code = _I64.unpack_from(payload, 0)[0] if len(payload) >= 8 else 0
        self.exited = True
        self.accepting = False  # later events of this run are dropped

    def _time(self, ident: int, payload: bytes) -> None:
        fmt = self.meta["events"]["time"][ident]
        event_ns = _U64.unpack_from(payload, 0)[0] + self.realtime_offset_ns if payload else None
        text, warnings = output.format_time(fmt, self.dialect, event_ns=event_ns)
        self.write(output.json_message("time", text) if self.json else text)
        self.warn(warnings)

    # -- maps --------------------------------------------------------------------------------

    def _map(self, index: int):
        return self.loaded.maps[self.meta["maps"][index]["sym"]]

    def map_text(self, desc: dict, top: int = 0, div: int = 1) -> str:
        from btc.runtime.output.text import join_parts

        return join_parts(self.map_parts(desc, top, div))

    def map_parts(self, desc: dict, top: int = 0, div: int = 1) -> list:
        """The map's text in parts (output.text.Parts), read from the kernel now."""
        prepared = self._prepared.pop(desc["sym"], None)
        keys, values = self.loaded.maps[desc["sym"]].lookup_batch(prepared=prepared)
        if self.json:
            return [output.json_map(desc, keys, values, top, div, self.sym)]
        from btc.runtime.output.text import format_map_parts

        return format_map_parts(desc, keys, values, self.dialect, top, div, self.sym)

    def prepare_exit_maps(self) -> None:
        """Make the walk programs and arrays of the big maps printed at exit (map_dump)."""
        from btc.runtime import map_dump
        from btc.runtime.maps import DUMP_MIN_ENTRIES

        names = set(self.meta.get("print_at_exit", []))
        for desc in self.meta["maps"]:
            h = self.loaded.maps.get(desc["sym"]) if desc["name"] in names else None
            if (h is not None and h.max_entries >= DUMP_MIN_ENTRIES
                    and desc["sym"] not in self._prepared):
                prepared = map_dump.prepare(h)
                if prepared is not None:
                    self._prepared[desc["sym"]] = prepared

    def drop_prepared(self) -> None:
        for prepared in self._prepared.values():
            prepared.close()
        self._prepared.clear()

    def print_exit_maps(self) -> None:
        """After END: the maps the program's dialect prints at exit, in its order."""
        if self.dialect == "bpftrace" and not self.json:
            self.write("\n\n")
        by_name = {m["name"]: m for m in self.meta["maps"] if not m.get("internal")}
        for name in self.meta.get("print_at_exit", []):
            if name in by_name:
                self.write_parts(self.map_parts(by_name[name]))

    def note_process(self, pid: int) -> None:
        """Snapshot a live process's mappings (the -c child) when the program symbolizes
        user addresses, so its stacks resolve after it exits."""
        if self.symbols is not None and self._user_symbols:
            self.symbols.note_process(pid)

    # -- lost events -------------------------------------------------------------------------

    def lost_count(self) -> int:
        lost = self.loaded.maps.get(self.meta["events"].get("lost", "lost"))
        if lost is None:
            return 0
        value = lost.lookup(b"\0\0\0\0")
        return _U64.unpack_from(value, 0)[0] if value else 0

    def check_lost(self) -> None:
        """bpftrace prints `Lost N events` whenever the counter grew since the last poll.
        Called after every poll: the batch of printf text goes out here, flushed so that a
        reader of a pipe sees it within one poll."""
        if self._pending:
            self.flush()
        n = self.lost_count()
        if n > self.lost_seen:
            grew, self.lost_seen = n - self.lost_seen, n
            if self.dialect == "bpftrace":
                self.write(output.json_lost_events(grew) if self.json
                           else output.lost_events_text(grew))

    def report_lost(self) -> None:
        self.check_lost()
        if self.lost_seen and self.dialect == "btrace":
            self.warn([f"btc: {self.lost_seen} events lost (ring buffer full)"])

    # -- streams -----------------------------------------------------------------------------

    def banner(self, n: int) -> None:
        self.write(output.json_attached_probes(n) if self.json else output.attach_banner(n))

    def write(self, text: str) -> None:
        if self._pending:
            self._write_pending()
        if text:
            if len(text) >= _BIG_TEXT and not self._pipe_grown:
                self._pipe_grown = True
                _grow_pipe(self.out)
            self.out.write(text)

    def write_parts(self, parts: list) -> None:
        """Text parts in order; the pieces of a big int map go out as they are built."""
        for part in parts:
            if isinstance(part, str):
                self.write(part)
            else:
                for piece in part:
                    self.write_bytes(piece)

    def write_bytes(self, data) -> None:
        """UTF-8 text as bytes, straight to the binary stream under `out` when there is one
        (no decoding to str and encoding back: a 1,000,000-line map is ~22 MB)."""
        raw = getattr(self.out, "buffer", None)
        if raw is None or not _is_utf8(getattr(self.out, "encoding", None)):
            self.write(str(data, "utf-8", "surrogateescape"))
            return
        self._write_pending()
        if len(data) >= _BIG_TEXT and not self._pipe_grown:
            self._pipe_grown = True
            _grow_pipe(self.out)
        self.out.flush()  # text written before goes first
        raw.write(data)  # a piece above the buffer's size goes to the fd at once

    def _write_pending(self) -> None:
        if self._pending:
            self.out.write("".join(self._pending))
            self._pending.clear()

    def warn(self, lines: list[str]) -> None:
        if lines:
            self._write_pending()
            self.out.flush()  # keep program order in a merged 2>&1 stream
            for line in lines:
                print(line, file=sys.stderr)

    def flush(self) -> None:
        self._write_pending()
        self.out.flush()


def _is_utf8(encoding: str | None) -> bool:
    import codecs

    try:
        return encoding is not None and codecs.lookup(encoding).name == "utf-8"
    except LookupError:
        return False


def _grow_pipe(out) -> None:
    """Give a pipe on `out` a bigger buffer. Why: a 1,000,000-line map is ~25 MB; through the
    default 64 KiB each write wakes the reader ~400 times, and on a busy CPU every wake-up
    waits for the scheduler. Not a pipe, or refused: nothing changes."""
    import fcntl
    import os
    import stat

    try:
        fd = out.fileno()
        if not stat.S_ISFIFO(os.fstat(fd).st_mode):
            return
    except (AttributeError, OSError, ValueError):
        return
    for size in _PIPE_SIZES:
        try:
            fcntl.fcntl(fd, fcntl.F_SETPIPE_SZ, size)
            return
        except OSError:
            continue


def output_json_message(kind: str, text: str) -> str:
    from btc.runtime.output.json_out import json_message

    return json_message(kind, text)


def _symbol_text(loaded: LoadedObject, dialect: str):
    """Stack, ksym and usym text for this run (symbols load lazily, on first use)."""
    from btc.runtime.symbols import RunSymbols

    return RunSymbols(loaded.maps, dialect)
