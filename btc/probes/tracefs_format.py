"""Parse tracefs `events/CAT/NAME/format` files into field layouts.

A field line reads `field:TYPE NAME; offset:N; size:N; signed:N;` where NAME may carry an
array suffix (`char comm[16]`, `unsigned long args[]`) and TYPE may be `__data_loc T[]`
(a u32 `(len << 16) | offset` from the record start) or `__rel_loc T[]` (same, but the
offset counts from the end of the field itself).
"""
from __future__ import annotations

import functools
import re
from dataclasses import dataclass

from btc.diagnostics import BtcError
from btc.probes import _tracefs
from btc.probes.base import ArgInfo

_DECL = re.compile(r"^(?P<type>.*?)\s*(?<![\w])(?P<name>[A-Za-z_]\w*)\s*(?:\[(?P<len>[^\]]*)\])?$")


@dataclass(frozen=True)
class TracepointFormat:
    category: str
    name: str
    id: int | None
    fields: tuple[ArgInfo, ...]  # every field, common_* first, in record order
    print_fmt: str = ""

    @property
    def common(self) -> tuple[ArgInfo, ...]:
        return tuple(f for f in self.fields if f.name.startswith("common_"))

    @property
    def args(self) -> tuple[ArgInfo, ...]:
        return tuple(f for f in self.fields if not f.name.startswith("common_"))

    def field(self, name: str) -> ArgInfo | None:
        for f in self.fields:
            if f.name == name:
                return f
        return None


def parse_format(text: str, category: str = "", name: str = "") -> TracepointFormat:
    """Parse the text of a format file (pure function: no tracefs access)."""
    fields: list[ArgInfo] = []
    ev_id: int | None = None
    print_fmt = ""
    for raw in text.splitlines():
        line = raw.strip()
        if line.startswith("field:"):
            fields.append(parse_field_line(line))
        elif line.startswith("ID:"):
            ev_id = int(line[3:].strip())
        elif line.startswith("name:") and not name:
            name = line[5:].strip()
        elif line.startswith("print fmt:"):
            print_fmt = line[len("print fmt:"):].strip()
    return TracepointFormat(category, name, ev_id, tuple(fields), print_fmt)


def parse_field_line(line: str) -> ArgInfo:
    attrs: dict[str, str] = {}
    decl = ""
    for part in line.split(";"):
        key, sep, value = part.strip().partition(":")
        if not sep:
            continue
        if key == "field":
            decl = value.strip()
        else:
            attrs[key] = value.strip()
    m = _DECL.match(decl)
    if m is None:
        raise BtcError(f"cannot parse tracepoint field '{decl}'")
    ctype, fname, alen = m.group("type").strip(), m.group("name"), m.group("len")
    size = int(attrs.get("size", "0"))
    loc = ctype.startswith(("__data_loc", "__rel_loc"))
    return ArgInfo(
        name=fname,
        offset=int(attrs.get("offset", "0")),
        size=size,
        signed=attrs.get("signed", "0") == "1",
        type_text=ctype,
        is_data_loc=loc,
        array_len=None if alen is None else _array_len(alen, size, ctype),
    )


def _array_len(text: str, size: int, ctype: str) -> int:
    text = text.strip()
    if text == "":
        return 0
    if text.isdigit():
        return int(text)
    # a macro (TASK_COMM_LEN on old kernels): only byte arrays can be sized from `size`
    return size if ctype in ("char", "unsigned char", "u8", "__u8", "s8") else 0


def c_decl(f: ArgInfo) -> str:
    """The field as C, like `bpftrace -lv` prints it: `char prev_comm[16]`."""
    if f.array_len is not None:
        return f"{f.type_text} {f.name}[{f.array_len or ''}]"
    return f"{f.type_text} {f.name}"


@functools.lru_cache(maxsize=None)
def tracepoint_format(category: str, name: str) -> TracepointFormat:
    """The parsed format of tracepoint CAT:NAME (read once per process)."""
    if "/" in category + name or category.startswith(".") or name.startswith("."):
        raise BtcError(f"tracepoint not found: {category}:{name}")
    path = _tracefs.tracefs_root() / "events" / category / name / "format"
    try:
        text = path.read_text()
    except FileNotFoundError:
        raise BtcError(f"tracepoint not found: {category}:{name}") from None
    except OSError as e:
        raise BtcError(f"cannot read {path}: {e.strerror}") from None
    return parse_format(text, category, name)
