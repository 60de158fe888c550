"""Start-up: record classes behave like frozen dataclasses, the probe registry's name table
matches the providers, and the run paths import only what they need."""
from __future__ import annotations

import copy
import dataclasses
import pickle
import subprocess
import sys

import pytest

from btc.diagnostics import Span
from btc.ir import nodes as N
from btc.ir import types as T
from btc.parser import ast as A
from btc.records import Record, field


def test_record_keyword_construction_eq_hash_repr_ignore_span():
    a = A.Int(value=3, span=Span("f", 1, 1, 1, 2))
    b = A.Int(value=3)
    assert a == b and hash(a) == hash(b)
    assert repr(a) == "Int(value=3)"
    assert a != A.Str(value="3") and A.Int(value=4) != b
    with pytest.raises(TypeError):
        A.Int(3)  # keyword-only, as kw_only=True dataclasses
    with pytest.raises(TypeError):
        A.Int()  # required field


def test_record_frozen_slots_and_copy():
    n = N.Const(value=1, type=T.INT64)
    with pytest.raises(dataclasses.FrozenInstanceError):
        n.value = 2
    with pytest.raises(AttributeError):
        object.__setattr__(n, "extra", 1)  # slots: no __dict__
    assert copy.copy(n) == n and copy.deepcopy(n) == n
    assert pickle.loads(pickle.dumps(n)) == n


def test_record_dataclasses_api():
    n = N.Const(value=1, type=T.INT64, span=Span("f", 1, 1, 1, 2))
    assert dataclasses.is_dataclass(n) and dataclasses.is_dataclass(N.Const)
    names = [f.name for f in dataclasses.fields(n)]
    assert names == ["span", "type", "value"]
    span = dataclasses.fields(N.Const)[0]
    assert span.compare is False and span.repr is False and span.type == "Span"
    m = dataclasses.replace(n, value=2)
    assert m.value == 2 and m.span == n.span and m.type is T.INT64


def test_fields_of_a_base_first_do_not_hide_a_subclass_fields():
    class Base(Record):
        a: int = 0

    class Sub(Base):
        b: int = 1

    assert [f.name for f in dataclasses.fields(Base)] == ["a"]  # asked first
    assert [f.name for f in dataclasses.fields(Sub)] == ["a", "b"]
    assert [f.name for f in dataclasses.fields(Sub(a=2))] == ["a", "b"]


def test_positional_types_and_defaults():
    assert T.IntType(32, False) == T.UINT32 and T.IntType() == T.INT64
    assert repr(T.IntType(8, True)) == "IntType(bits=8, signed=True)"
    assert str(T.UINT32) == "uint32"  # the class's own __str__ is kept
    assert T.AggType("count").elem == T.INT64
    assert T.IntType.__match_args__ == ("bits", "signed") and A.Int.__match_args__ == ()
    assert {T.IntType(64, False): 1}[T.BOOL] == 1


def test_default_factory_gives_a_fresh_value_each_time():
    class Rec(Record, kw_only=True):
        items: dict = field(default_factory=dict, compare=False)
        name: str = "x"

    a, b = Rec(), Rec()
    assert a.items == {} and a.items is not b.items and a == Rec(items={1: 2})


def test_registry_table_matches_the_providers():
    from btc.probes import registry

    for entry, p in zip(registry._TABLE, registry.PROVIDERS, strict=True):
        assert entry[2:] == (p.name, p.word, p.aliases, p.dialects)


def _modules_after(code: str) -> set[str]:
    out = subprocess.run([sys.executable, "-c", code + "\nimport sys\nprint(' '.join(sys.modules))"],
                         capture_output=True, text=True, check=True).stdout
    return set(out.split())


def test_run_path_imports_no_compiler():
    mods = _modules_after("import btc.cli, btc.driver, btc.runtime.session")
    for heavy in ("llvmlite", "lark", "elftools", "numpy", "btc.parser", "btc.ir",
                  "btc.backend_bpf", "btc.probes", "subprocess", "shlex"):
        assert heavy not in mods, heavy


def test_resolving_begin_loads_only_its_provider():
    mods = _modules_after("from btc.probes import resolve_all\nresolve_all('BEGIN')")
    assert "btc.probes.special" in mods
    assert not {"btc.probes.uprobe", "btc.probes.kprobe", "btc.probes.listing"} & mods
