"""The programs `btc bench` measures for each probe, built from the user's source text.

For every probe of the program:
  * `empty`   -- `PROBE { }`: the attach type's floor (dispatch + an empty program);
  * `filter`  -- the user's rule with its filter F replaced by `(F) && $K`, $K = 0 at load
                 time: F is evaluated exactly as written and then fails, so the body never
                 runs. This is what `/pid == 123/` costs on every event it rejects;
  * `program` -- the rule with F replaced by `(F) || $K`, $K = 1: F is evaluated and the body
                 always runs, whatever process the driver is. Without a filter: as written.

$K is one positional parameter past the user's own. It lives in the frozen `.rodata`, so
neither btc nor the verifier can fold it away at compile time, while the verifier does see
its value at load time and prunes the branch it makes impossible (so the extra test costs
nothing at run time). The whole program is compiled (types may come from other rules) and
only the probe's own function is loaded.

Every variant is compiled as `btc run` compiles without `-p` (no target-pid test), and with
the `--syscall-attach` mode the caller bound into `compile`. The empty program must attach as
the probe does (a raw sys_enter program is not a perf tracepoint's floor): where the policy
put them apart (a rule kept as a tracepoint for what it reads), the empty one is compiled
again with the probe's mode forced.
This module must not import the compiler (btc.runtime never does): `parse` and `compile` are
passed in by the command line (`compile` takes `pid_check`, as btc.driver.compile_cached).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

from btc.runtime.meta_read import read_meta

VARIANTS = ("empty", "filter", "program")


@dataclass
class Variant:
    obj: bytes
    func: str
    params: list[str]


@dataclass
class ProbeBench:
    """What is measured for one probe of the user's program."""

    probe: str
    attach: dict
    prog_type: int
    filter_text: str | None
    variants: dict[str, Variant] = field(default_factory=dict)


def build(source: str, filename: str, dialect: str, params: list[str],
          parse: Callable, compile: Callable) -> list[ProbeBench]:
    """One ProbeBench per attachable probe (BEGIN/END are not per-event)."""
    tree = parse(source, filename, dialect)
    filters = _filter_spans(source, tree)
    main_obj = compile(source, filename, dialect, params, pid_check=False)
    probes = [p for p in read_meta(main_obj)["programs"]
              if p["attach"].get("kind") not in ("begin", "end")]
    if not probes:
        return []
    k = len(params) + 1
    forced: dict[str, tuple[bytes, list[str]]] = {}
    if filters:
        for name, op, value in (("filter", "&&", "0"), ("program", "||", "1")):
            text = _splice(source, filters, op, k, dialect)
            forced[name] = (compile(text, filename, dialect, params + [value], pid_check=False),
                            params + [value])
    empties = _EmptyPrograms(probes, filename, dialect, compile)
    out = []
    for p in probes:
        ftext = filters.get(p.get("rule_index"), (None, None, None))[2]
        pb = ProbeBench(p["probe"], p["attach"], int(p.get("prog_type", 0)), ftext)
        pb.variants["empty"] = empties.variant(p)
        if ftext is not None:
            obj, prm = forced["filter"]
            pb.variants["filter"] = Variant(obj, p["func"], prm)
            obj, prm = forced["program"]
            pb.variants["program"] = Variant(obj, p["func"], prm)
        else:
            pb.variants["program"] = Variant(main_obj, p["func"], list(params))
        out.append(pb)
    return out


class _EmptyPrograms:
    """`PROBE { }` for every probe, compiled once per syscall attach mode needed."""

    def __init__(self, probes: list[dict], filename: str, dialect: str, compile: Callable):
        self.src = "".join(f"{p['probe']} {{ }}\n" for p in probes)
        self.filename, self.dialect, self.compile = filename, dialect, compile
        self.objs: dict[str | None, tuple[bytes, dict[str, dict]]] = {}

    def variant(self, p: dict) -> Variant:
        obj, progs = self._compiled(None)
        if progs[p["probe"]]["attach"].get("kind") != p["attach"].get("kind"):
            forced = "raw" if p["attach"].get("kind") == "raw_tracepoint" else "tracepoint"
            obj, progs = self._compiled(forced)
        return Variant(obj, progs[p["probe"]]["func"], [])

    def _compiled(self, mode: str | None) -> tuple[bytes, dict[str, dict]]:
        if mode not in self.objs:
            kw = {"syscall_attach": mode} if mode else {}
            obj = self.compile(self.src, self.filename, self.dialect, [], pid_check=False, **kw)
            self.objs[mode] = (obj, {q["probe"]: q for q in read_meta(obj)["programs"]})
        return self.objs[mode]


def _filter_spans(source: str, tree) -> dict[int, tuple[int, int, str]]:
    """{rule index: (start offset, end offset, filter text)} for rules with a filter."""
    starts = _line_starts(source)
    spans = {}
    for i, rule in enumerate(tree.rules):
        f = getattr(rule, "filter", None)
        if f is None or f.span.line < 1:
            continue
        a = starts[f.span.line - 1] + f.span.col - 1
        b = starts[f.span.end_line - 1] + f.span.end_col - 1
        spans[i] = (a, b, source[a:b])
    return spans


def _line_starts(source: str) -> list[int]:
    starts, pos = [0], 0
    for line in source.split("\n"):
        pos += len(line) + 1
        starts.append(pos)
    return starts


def _splice(source: str, filters: dict[int, tuple[int, int, str]], op: str, k: int,
            dialect: str) -> str:
    out, last = [], 0
    for a, b, text in sorted(filters.values()):
        out.append(source[last:a])
        out.append(f"({text}) {op} ${k}")
        last = b
    out.append(source[last:])
    return "".join(out)
