"""Builders of raw map arrays in the BPF_MAP_LOOKUP_BATCH layout (design.md §3); no tests here."""
from __future__ import annotations

import struct

import numpy as np


def skey(text: str, size: int = 16) -> bytes:
    raw = text.encode()
    return raw + b"\0" * (size - len(raw))


def ikey(value: int, size: int = 8, signed: bool = True) -> bytes:
    return value.to_bytes(size, "little", signed=signed)


def words(*vals: int) -> bytes:
    return b"".join(struct.pack("<q", v) for v in vals)


def arrays(rows: list[tuple[bytes, list[bytes]]], key_size: int, slot: int):
    """rows: (key bytes, [per-CPU value bytes]) -> (keys (n,K), values (n,ncpu,slot))."""
    n = len(rows)
    ncpu = max((len(v) for _, v in rows), default=1)
    keys = np.zeros((n, key_size), np.uint8)
    values = np.zeros((n, ncpu, slot), np.uint8)
    for i, (k, per_cpu) in enumerate(rows):
        keys[i, :len(k)] = np.frombuffer(k, np.uint8)
        for c, v in enumerate(per_cpu):
            values[i, c, :len(v)] = np.frombuffer(v, np.uint8)
    return keys, values


def desc(name: str, agg: str, key=None, value=None, key_size=8, value_size=8, **extra) -> dict:
    d = {"name": name, "sym": "m_" + name.lstrip("@"), "map_type": 1, "key_size": key_size,
         "value_size": value_size, "max_entries": 4096, "flags": 0, "key": key,
         "value": value or {"k": "int", "size": 8, "signed": True}, "agg": agg,
         "percpu": agg != "none", "hist_bits": 0, "lhist": None}
    d.update(extra)
    return d


STR16 = {"k": "str", "size": 16}
I64 = {"k": "int", "size": 8, "signed": True}
U64 = {"k": "int", "size": 8, "signed": False}


def hist_rows(counts: dict, user_key: bytes = b"") -> list:
    """{bucket: count} -> rows whose key is user key + 8-aligned u64 bucket (2 CPUs split)."""
    pad = b"\0" * (-len(user_key) % 8)
    rows = []
    for bucket, count in counts.items():
        half = count // 2
        rows.append((user_key + pad + struct.pack("<Q", bucket), [words(half), words(count - half)]))
    return rows
