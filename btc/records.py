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

`class C(Record, frozen=False)` gives a mutable record (like a plain `@dataclass`):
assignment works, and instances are unhashable, as dataclasses with eq and no frozen.

What differs: a class's `__init__`, `__repr__`, `__eq__` and `__hash__` are each compiled
the first time they run (one small exec, ~0.1 ms: a run that builds ten kinds of node
compiles ten `__init__`s).
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
    as a class keyword makes the class and its subclasses keyword-only, `frozen=False`
    makes them mutable."""

    def __new__(mcls, name, bases, ns, kw_only: bool | None = None, frozen: bool | None = None):
        fields: dict[str, FieldSpec] = {}
        inherited_kw = False
        inherited_frozen = True
        for base in reversed(bases):
            fields.update(getattr(base, "_rec_fields", {}))
            inherited_kw = inherited_kw or getattr(base, "_rec_kw_only", False)
            inherited_frozen = inherited_frozen and getattr(base, "_rec_frozen", True)
        kw = inherited_kw if kw_only is None else kw_only
        frz = inherited_frozen if frozen is None else frozen
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
        ns["_rec_frozen"] = frz
        if not frz:  # a mutable record: plain assignment, unhashable (dataclass eq=True)
            ns.setdefault("__setattr__", object.__setattr__)
            ns.setdefault("__delattr__", object.__delattr__)
            ns.setdefault("__hash__", None)
        ns["__match_args__"] = () if kw else tuple(fields)
        ns["__dataclass_fields__"] = _DataclassFields()
        for meth, stub in _STUBS.items():
            ns.setdefault(meth, stub)
        return super().__new__(mcls, name, bases, ns)


def _materialize(cls: type, meth: str) -> None:
    """Compile `cls`'s `meth` (__init__, __repr__, __eq__ or __hash__) and install it where
    its first-use stub was. One method at a time: the runtime mostly only constructs its
    records, and each exec costs in proportion to the source it compiles."""
    fields = list(cls._rec_fields.values())
    env = {"_osa": object.__setattr__, "_MISSING": _MISSING}
    if meth == "__init__":
        src = _init_source(cls, fields, env)
    elif meth == "__repr__":
        shown = ", ".join(f"{f.name}={{self.{f.name}!r}}" for f in fields if f.repr)
        src = f"def __repr__(self):\n    return f\"{{self.__class__.__qualname__}}({shown})\""
    else:
        cmp = "".join(f"self.{f.name}," for f in fields if f.compare)
        if meth == "__eq__":
            src = "\n".join([
                "def __eq__(self, other):",
                "    if other.__class__ is self.__class__:",
                f"        return ({cmp}) == ({cmp.replace('self.', 'other.')})",
                "    return NotImplemented",
            ])
        else:
            src = f"def __hash__(self):\n    return hash(({cmp}))"
    exec(src, env)
    if cls.__dict__.get(meth) is _STUBS[meth]:
        fn = env[meth]
        fn.__qualname__ = f"{cls.__qualname__}.{meth}"
        type.__setattr__(cls, meth, fn)


def _init_source(cls: type, fields: list[FieldSpec], env: dict) -> str:
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
    return "\n".join([f"def __init__(self{', ' if sig else ''}{sig}):", *(body or ["    pass"])])


def _init_stub(self, *args, **kwargs):
    _materialize(type(self), "__init__")
    type(self).__init__(self, *args, **kwargs)


def _repr_stub(self):
    _materialize(type(self), "__repr__")
    return type(self).__repr__(self)


def _eq_stub(self, other):
    _materialize(type(self), "__eq__")
    return type(self).__eq__(self, other)


def _hash_stub(self):
    _materialize(type(self), "__hash__")
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
