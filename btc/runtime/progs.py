"""BPF_PROG_LOAD with func/line info, and verifier rejections turned into bt-level errors."""
from __future__ import annotations

import ctypes
import errno
import re

from btc.diagnostics import BtcError, Span
from btc.records import Record, field
from btc.runtime import abi, syscalls
from btc.runtime.maps import kernel_name

_LOG_START = 1 << 20
_LOG_MAX = 1 << 28
# Patterns as text, compiled (and cached by `re`) on the first verifier error, not at start-up.
_TRAILER = (r"^(processed \d+ insns|verification time|stack depth|max_states_per_insn"
            r"|peak_states|mark_read|-- END PROG LOAD LOG --)")
_INSN = r"^(\d+): "
_SRC = r"^; (.*) @ (.+):(\d+)$"


class SourceLine(Record):
    insn: int
    file: str
    line: int
    col: int
    text: str


class ProgSpec(Record, frozen=False):
    name: str  # kernel name (sanitised on load)
    prog_type: int
    insns: bytes
    license: bytes = b"GPL"
    expected_attach_type: int = 0
    btf_fd: int = 0
    func_info: list[tuple[int, int]] = field(default_factory=list)  # (insn index, type id)
    line_info: list[tuple[int, int, int, int]] = field(default_factory=list)
    source_lines: list[SourceLine] = field(default_factory=list)  # decoded line_info
    label: str = ""  # what to call it in messages ("tracepoint:syscalls:sys_enter_read")
    source_name: str = ""


class VerifierError(BtcError):
    """The kernel refused the program; the full log is on `verifier_log`."""

    def __init__(self, message: str, span: Span | None, verifier_log: str, err: int,
                 hint: str | None = None):
        super().__init__(message, span, hint)
        self.verifier_log = verifier_log
        self.errno = err


class ProgHandle:
    def __init__(self, fd: int, spec: ProgSpec, func: str = "", section: str = "",
                 meta: dict | None = None):
        self.fd = fd
        self.spec = spec
        self.func = func or spec.name
        self.section = section
        self.prog_type = spec.prog_type
        self.meta = meta or {}
        self.insn_cnt = len(spec.insns) // abi.BPF_INSN_SIZE

    def close(self) -> None:
        syscalls.close(self.fd)
        self.fd = -1

    def __repr__(self) -> str:
        return f"ProgHandle({self.func!r}, fd={self.fd}, type={self.prog_type})"


def load_program(spec: ProgSpec) -> int:
    """Load one program; returns its fd or raises SyscallError / VerifierError."""
    res = _prog_load(spec, None)
    if res >= 0:
        return res
    err = -res
    if err == errno.EPERM:
        raise syscalls.SyscallError(f"loading program {spec.label or spec.name}", err)
    size = _LOG_START
    while True:
        log = ctypes.create_string_buffer(size)
        attr_holder: list[abi.AttrProgLoad] = []
        res2 = _prog_load(spec, log, attr_holder)
        if res2 >= 0:  # loads with a log but not without: keep it rather than fail
            return res2
        true_size = attr_holder[0].log_true_size
        if -res2 == errno.ENOSPC and size < _LOG_MAX:
            size = min(_LOG_MAX, max(size * 4, true_size + 1))
            continue
        text = log.value.decode("utf-8", "replace")
        if not text.strip() and -res2 in (errno.EPERM, errno.EACCES):
            raise syscalls.SyscallError(f"loading program {spec.label or spec.name}", -res2)
        raise verifier_error(spec, text, -res2 or err)


def _prog_load(spec: ProgSpec, log: ctypes.Array | None, keep: list | None = None) -> int:
    insns = ctypes.create_string_buffer(spec.insns, len(spec.insns))
    lic = ctypes.create_string_buffer(spec.license)
    attr = abi.AttrProgLoad(
        prog_type=spec.prog_type, insn_cnt=len(spec.insns) // abi.BPF_INSN_SIZE,
        insns=syscalls.addr(insns), license=syscalls.addr(lic),
        prog_name=kernel_name(spec.name), expected_attach_type=spec.expected_attach_type)
    if log is not None:
        attr.log_level, attr.log_size, attr.log_buf = 1, len(log), syscalls.addr(log)
    bufs = []
    if spec.btf_fd and spec.func_info:
        fi = (abi.BpfFuncInfo * len(spec.func_info))(*[abi.BpfFuncInfo(*r) for r in spec.func_info])
        bufs.append(fi)
        attr.prog_btf_fd = spec.btf_fd
        attr.func_info_rec_size = ctypes.sizeof(abi.BpfFuncInfo)
        attr.func_info, attr.func_info_cnt = syscalls.addr(fi), len(spec.func_info)
        if spec.line_info:
            li = (abi.BpfLineInfo * len(spec.line_info))(*[abi.BpfLineInfo(*r) for r in spec.line_info])
            bufs.append(li)
            attr.line_info_rec_size = ctypes.sizeof(abi.BpfLineInfo)
            attr.line_info, attr.line_info_cnt = syscalls.addr(li), len(spec.line_info)
    res = syscalls.bpf_raw(abi.BpfCmd.PROG_LOAD, attr)
    if keep is not None:
        keep.append(attr)
    return res


def verifier_error(spec: ProgSpec, log: str, err: int) -> VerifierError:
    message, insn, src = summarize_log(log)
    if insn is not None:
        known = source_line_for(spec.source_lines, insn)
        if src is None or (known is not None and known.line == src.line):
            src = known or src  # line_info also knows the column
    span = None
    where = spec.label or spec.name
    if src is not None:
        col = max(src.col, 1)
        span = Span(spec.source_name or src.file, src.line, col, src.line, col + 1)
    name = errno.errorcode.get(err, str(err))
    if spec.prog_type == abi.ProgType.TRACING:
        from btc.runtime.attach import WORKING_PROBES

        return VerifierError(f"cannot load {where}: btc cannot load fentry/fexit programs "
                             f"(no BTF attach support in its loader, and this kernel has no "
                             f"fentry); probe types that work here: {WORKING_PROBES}", None, log, err, None)
    text = f"the BPF verifier rejected {where}: {message or name}"
    hint = None
    if src is not None and span is None:
        hint = f"at {src.file}:{src.line}: {src.text.strip()}"
    return VerifierError(text, span, log, err, hint)


def summarize_log(log: str) -> tuple[str, int | None, SourceLine | None]:
    """(the verifier's error line, the failing insn index, the bt source line it printed)."""
    lines = [ln.rstrip() for ln in log.splitlines() if ln.strip()]
    msg_idx = None
    for i in range(len(lines) - 1, -1, -1):
        ln = lines[i]
        if re.match(_TRAILER, ln) or re.match(_INSN, ln) or ln.startswith(";"):
            continue
        msg_idx = i
        break
    if msg_idx is None:
        return "", None, None
    insn = src = None
    for ln in reversed(lines[:msg_idx]):
        if insn is None and (m := re.match(_INSN, ln)) and ": (" in ln:
            insn = int(m.group(1))
        if src is None and (m := re.match(_SRC, ln)):
            src = SourceLine(insn if insn is not None else -1, m.group(2), int(m.group(3)), 0,
                             m.group(1))
        if insn is not None and src is not None:
            break
    return lines[msg_idx], insn, src


def source_line_for(lines: list[SourceLine], insn: int) -> SourceLine | None:
    best = None
    for sl in lines:
        if sl.insn <= insn and (best is None or sl.insn >= best.insn):
            best = sl
    return best
