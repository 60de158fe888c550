"""The one place btc.ir talks to btc.probes: resolve a probe's text into `ProbeFacts`.

Everything semantic analysis needs about an attach point (its ir.ProbeInfo, what `argN`,
`retval` and `args.f` read) is answered here, so a change in btc.probes touches only this
module (and syscall_attach.py, which moves syscall probes to their raw-tracepoint variants
through btc.probes.syscall_raw).
"""
from __future__ import annotations

from btc.diagnostics import BtcError, Span
from btc.ir import nodes as ir
from btc.ir.types import INT64, UINT64, IntType, StrType, Type
from btc.probes import ArgInfo, ProbeSpec, resolve_all
from btc.records import Record  # cheaper to define than a dataclass (start-up)


class ProbeFacts(Record):
    """A resolved probe as analysis sees it."""

    spec: ProbeSpec
    info: ir.ProbeInfo
    # the raw-tracepoint variant chosen by `--syscall-attach` (btc/ir/syscall_attach.py);
    # the code is lowered against `spec` and then moved over to it
    raw: ProbeSpec | None = None

    @property
    def provider(self) -> str:
        return self.spec.provider

    @property
    def is_special(self) -> bool:
        """BEGIN or END: no arguments, no retval."""
        return self.spec.provider in ("BEGIN", "END", "begin", "end")

    @property
    def is_return(self) -> bool:
        return self.spec.is_return

    @property
    def argn_kind(self) -> str:
        return self.spec.argn_kind

    def arg(self, index: int, span: Span) -> ir.Expr | None:
        """What `arg<index>` reads, or None when the probe has no such argument."""
        if self.spec.argn_kind in ("none", "btf"):
            return None
        a = self.spec.argn(index)
        if a is None:
            return None
        return _load(a, span)

    def retval(self, span: Span) -> ir.Expr | None:
        r = self.spec.retval
        if r is None:
            return None
        t = IntType(r.size * 8, r.signed) if r.size in (1, 2, 4, 8) else INT64
        return ir.CtxLoad(offset=r.offset, type=t, span=span)

    def fields(self) -> list[ArgInfo]:
        """Tracepoint record fields (non-common) for `args.f`; [] when the probe has none."""
        if self.spec.argn_kind not in ("tp_slot", "tp_field"):
            return []
        return list(self.spec.args)

    def field(self, name: str, span: Span) -> ir.Expr | None:
        for a in self.fields():
            if a.name == name:
                return _load(a, span)
        return None


def field_type(a: ArgInfo) -> Type:
    """The IR type of a tracepoint field: char arrays and __data_loc become strings."""
    if a.is_data_loc:
        return StrType(64)
    if a.array_len is not None and "char" in a.type_text:
        return StrType(max(a.size, 1))
    if a.size in (1, 2, 4, 8):
        return IntType(a.size * 8, a.signed)
    return UINT64


def _load(a: ArgInfo, span: Span) -> ir.Expr:
    t = field_type(a)
    if a.constant is not None:
        return ir.Const(value=a.constant, type=t, span=span)
    if a.user_deref is not None:
        return ir.CtxLoad(offset=a.offset, deref_offset=a.user_deref, deref_user=True, type=t,
                          span=span)
    if a.is_data_loc:
        return ir.CtxDataLoc(offset=a.offset, type=t, span=span)
    if a.array_len is not None and not isinstance(t, StrType):
        # an integer array read as a whole is its first element (btrace argN semantics)
        size = a.size // a.array_len if a.array_len else 8
        t = IntType(size * 8, a.signed) if size in (1, 2, 4, 8) else UINT64
    return ir.CtxLoad(offset=a.offset, type=t, span=span)


MAX_PROBE_MATCHES = 512  # one BPF program each: beyond this, loading takes minutes


def resolve(text: str, span: Span, dialect: str) -> list[ProbeFacts]:
    """Resolve a probe as written into one or more attach points (wildcards expand)."""
    specs = _resolve_specs(text, span, dialect)
    if len(specs) > MAX_PROBE_MATCHES:
        raise BtcError(f"{text} matches {len(specs)} probes; btc attaches one program per "
                       f"match and allows at most {MAX_PROBE_MATCHES}: use a narrower pattern",
                       span)
    return [ProbeFacts(s, _info(s, text if len(specs) == 1 else s.display)) for s in specs]


# Resolved specs by (text, dialect): a script naming the same probe many times, or a process
# compiling several scripts, resolves each once. Only successes are kept (an error carries
# the span of the probe as written), and only specs naming no file (uprobes read binaries
# that may change). ProbeSpecs are frozen; the ProbeInfo (holding a dict) is built afresh.
_CACHE: dict[tuple[str, str], tuple[ProbeSpec, ...]] = {}
_CACHE_MAX = 4096


def _resolve_specs(text: str, span: Span, dialect: str) -> tuple[ProbeSpec, ...]:
    got = _CACHE.get((text, dialect))
    if got is None:
        got = tuple(resolve_all(text, span, dialect))
        if all(not s.path for s in got):
            if len(_CACHE) >= _CACHE_MAX:
                _CACHE.clear()
            _CACHE[(text, dialect)] = got
    return got


def _info(spec: ProbeSpec, text: str) -> ir.ProbeInfo:
    return ir.ProbeInfo(text=text, display=spec.display, section=spec.section,
                        prog_type=spec.prog_type, attach=spec.attach_plan())
