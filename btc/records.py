"""Frozen slotted record classes that behave like `@dataclass(frozen=True, slots=True)` but
cost ~30 µs to define instead of ~1.4 ms (CPython 3.11 compiles each dataclass method with
its own exec, at import time). The AST, IR nodes and IR types are ~100 such classes: with
dataclasses they were ~70 ms of the compiler's start-up.

What stays the same as dataclasses (code and tests rely on it): keyword (or positional)
construction with the same fields and defaults, `field(default=, default_factory=,
compare=, repr=)`, equality and hashing over the compared fields, the dataclass repr format,
assignment raising `dataclasses.FrozenInstanceError`, `__slots__`, `__match_args__`, copy and
pickle, and `dataclasses.fields()` / `replace()` / `is_dataclass()` (through a real
`__dataclass_fields__` dict, built on first use).

What differs: a class's `__init__`, `__repr__`, `__eq__` and `__hash__` are compiled the
first time one of them runs (one exec, ~0.3 ms: a run that builds ten kinds of node
compiles ten classes).
"""
from __future__ import annotations

_MISSING = object()


class FieldSpec:
    """One field as declared; `dataclasses.Field` objects are made from these on demand."""

    __slots__ = ("name", "type", "default", "default_factory", "compare", "repr")

    def __init__(self, default=_MISSING, default_factory=_MISSING, compare=True, repr=True):
        self.default, self.default_factory = default, default_factory
        self.compare, self.repr = compare, repr
        self.name, self.type = "", ""


def field(*, default=_MISSING, default_factory=_MISSING, compare: bool = True,
          repr: bool = True) -> FieldSpec:
    """`dataclasses.field` for record classes (the options btc uses)."""
    if default is not _MISSING and default_factory is not _MISSING:
        raise ValueError("cannot specify both default and default_factory")
    return FieldSpec(default, default_factory, compare, repr)


class _DataclassFields:
    """A class's `__dataclass_fields__`, built when first asked for (dataclasses.fields,
    replace and generic walkers read it), then stored on the class in its place. Every record
    class gets its own: a dict stored on a base class would answer for its subclasses."""

    def __get__(self, obj, cls):
        out = _dataclass_fields(cls)
        type.__setattr__(cls, "__dataclass_fields__", out)
        return out


def _dataclass_fields(cls: type) -> dict:
    import dataclasses

    out = {}
    for f in cls._rec_fields.values():
        kw = {"default": f.default} if f.default is not _MISSING else {}
        if f.default_factory is not _MISSING:
            kw["default_factory"] = f.default_factory
        d = dataclasses.field(compare=f.compare, repr=f.repr, kw_only=cls._rec_kw_only, **kw)
        d.name, d.type, d._field_type = f.name, f.type, dataclasses._FIELD
        out[f.name] = d
    return out


class RecordMeta(type):
    """Turns annotated class attributes into slots and records the fields; `kw_only=True`
    as a class keyword makes the class and its subclasses keyword-only."""

    def __new__(mcls, name, bases, ns, kw_only: bool | None = None):
        fields: dict[str, FieldSpec] = {}
        inherited_kw = False
        for base in reversed(bases):
            fields.update(getattr(base, "_rec_fields", {}))
            inherited_kw = inherited_kw or getattr(base, "_rec_kw_only", False)
        kw = inherited_kw if kw_only is None else kw_only
        own = []
        for fname, ftype in ns.get("__annotations__", {}).items():
            if str(ftype).startswith(("ClassVar", "typing.ClassVar")):
                continue
            value = ns.pop(fname, _MISSING)
            spec = value if isinstance(value, FieldSpec) else FieldSpec(default=value)
            spec.name, spec.type = fname, ftype
            if fname not in fields:
                own.append(fname)
            fields[fname] = spec
        ns["__slots__"] = tuple(own)
        ns["_rec_fields"] = fields
        ns["_rec_kw_only"] = kw
        ns["__match_args__"] = () if kw else tuple(fields)
        ns["__dataclass_fields__"] = _DataclassFields()
        for meth, stub in _STUBS.items():
            ns.setdefault(meth, stub)
        return super().__new__(mcls, name, bases, ns)


def _materialize(cls: type) -> None:
    """Compile `cls`'s __init__, __repr__, __eq__ and __hash__ (one exec) and install them
    where the first-use stubs were."""
    fields = list(cls._rec_fields.values())
    env = {"_osa": object.__setattr__, "_MISSING": _MISSING}
    params, body = [], []
    for f in fields:
        if f.default_factory is not _MISSING:
            env[f"_f_{f.name}"] = f.default_factory
            params.append(f"{f.name}=_MISSING")
            body.append(f"    _osa(self, {f.name!r}, _f_{f.name}() if {f.name} is _MISSING "
                        f"else {f.name})")
            continue
        if f.default is not _MISSING:
            env[f"_d_{f.name}"] = f.default
            params.append(f"{f.name}=_d_{f.name}")
        else:
            params.append(f.name)
        body.append(f"    _osa(self, {f.name!r}, {f.name})")
    if not cls._rec_kw_only:  # positional: required fields first, as dataclass demands
        params.sort(key=lambda p: "=" in p)
    sig = ", ".join((["*"] if cls._rec_kw_only and params else []) + params)
    shown = ", ".join(f"{f.name}={{self.{f.name}!r}}" for f in fields if f.repr)
    cmp = "".join(f"self.{f.name}," for f in fields if f.compare)
    other = cmp.replace("self.", "other.")
    src = "\n".join([
        f"def __init__(self{', ' if sig else ''}{sig}):", *(body or ["    pass"]),
        "def __repr__(self):",
        f"    return f\"{{self.__class__.__qualname__}}({shown})\"",
        "def __eq__(self, other):",
        "    if other.__class__ is self.__class__:",
        f"        return ({cmp}) == ({other})",
        "    return NotImplemented",
        "def __hash__(self):",
        f"    return hash(({cmp}))",
    ])
    exec(src, env)
    for meth in _STUBS:
        if cls.__dict__.get(meth) is _STUBS[meth]:
            fn = env[meth]
            fn.__qualname__ = f"{cls.__qualname__}.{meth}"
            type.__setattr__(cls, meth, fn)


def _init_stub(self, *args, **kwargs):
    _materialize(type(self))
    type(self).__init__(self, *args, **kwargs)


def _repr_stub(self):
    _materialize(type(self))
    return type(self).__repr__(self)


def _eq_stub(self, other):
    _materialize(type(self))
    return type(self).__eq__(self, other)


def _hash_stub(self):
    _materialize(type(self))
    return type(self).__hash__(self)


_STUBS = {"__init__": _init_stub, "__repr__": _repr_stub, "__eq__": _eq_stub,
          "__hash__": _hash_stub}


class Record(metaclass=RecordMeta):
    """Base of frozen record classes: subclass it, annotate the fields."""

    def __setattr__(self, name, value):
        from dataclasses import FrozenInstanceError

        raise FrozenInstanceError(f"cannot assign to field {name!r}")

    def __delattr__(self, name):
        from dataclasses import FrozenInstanceError

        raise FrozenInstanceError(f"cannot delete field {name!r}")

    def __getstate__(self):
        return [getattr(self, name) for name in self._rec_fields]

    def __setstate__(self, state):
        for name, value in zip(self._rec_fields, state):
            object.__setattr__(self, name, value)
