"""Raw map and event bytes -> numpy arrays and Python values.

Everything here is dialect-neutral except the min/max rule (btrace slots are always set).
Python value conventions used by the whole output package:
  int TypeDesc -> int, str -> bytes (cut at the first NUL), tuple -> tuple, stack -> int (id),
  ksym -> int (address), usym -> int (pid << 64 | address); see symbolic.py; username ->
  bytes (the uid's name); array -> ArrayValue (a tuple of ints, printed `[1,2,3]`).
"""
from __future__ import annotations

import os
import struct

from btc.records import Record  # not dataclasses: start-up time

TypeDesc = dict


class _Numpy:
    """numpy, imported on first use: printf's scalar decoding (value_from_bytes) needs none,
    and importing numpy costs ~0.2 s of a printf program's start-up."""

    def __getattr__(self, name: str):
        import numpy

        globals()["np"] = numpy
        return getattr(numpy, name)


np = _Numpy()


def np_dtype(td: TypeDesc) -> np.dtype:
    """The numpy dtype laid out like `td` (little endian, C offsets)."""
    kind = td["k"]
    if kind == "int":
        return np.dtype(f"<{'i' if td['signed'] else 'u'}{td['size']}")
    if kind == "str":
        return np.dtype(f"S{td['size']}")
    if kind in ("stack", "ksym"):
        return np.dtype("<u8")
    if kind == "usym":
        return np.dtype([("addr", "<u8"), ("pid", "<u8")])
    if kind == "tuple":
        fields = td["fields"]
        return np.dtype({"names": [f"f{i}" for i in range(len(fields))],
                         "formats": [np_dtype(f["t"]) for f in fields],
                         "offsets": [f["off"] for f in fields],
                         "itemsize": td["size"]})
    return np.dtype("V0")


def td_size(td: TypeDesc | None) -> int:
    if td is None:
        return 0
    if td["k"] in ("stack", "ksym"):
        return 8
    if td["k"] == "usym":
        return 16
    return int(td.get("size", 0))


def cut_nul(raw: bytes) -> bytes:
    return raw.split(b"\0", 1)[0]


def value_from_bytes(td: TypeDesc, buf: bytes, off: int = 0):
    """One value of type `td` read from `buf` at `off`."""
    kind = td["k"]
    if kind == "int":
        size = td["size"]
        return int.from_bytes(buf[off:off + size], "little", signed=td["signed"])
    if kind == "str":
        return cut_nul(bytes(buf[off:off + td["size"]]))
    if kind in ("stack", "ksym"):
        return struct.unpack_from("<Q", buf, off)[0]
    if kind == "usym":
        addr, pid = struct.unpack_from("<QQ", buf, off)
        return (pid & 0xFFFFFFFF) << 64 | addr
    if kind == "tuple":
        return tuple(value_from_bytes(f["t"], buf, off + f["off"]) for f in td["fields"])
    if kind == "inet":
        return inet_text(bytes(buf[off:off + 24]))
    if kind == "username":
        return user_name(struct.unpack_from("<Q", buf, off)[0])
    if kind == "strerror":
        return os.strerror(struct.unpack_from("<q", buf, off)[0]).encode()
    if kind == "strftime":
        from btc.runtime.output.time_fmt import format_boot_ns

        return format_boot_ns(td["fmt"], struct.unpack_from("<Q", buf, off)[0])
    if kind == "array":
        elem = td["elem"]
        step = elem["size"]
        return ArrayValue(value_from_bytes(elem, buf, off + i * step) for i in range(td["n"]))
    if kind == "buf":
        n = min(struct.unpack_from("<Q", buf, off)[0], td["len"])
        return RawBuf(bytes(buf[off + 8:off + 8 + n]))
    return None


class RawBuf(bytes):
    """A `buf()` value: raw bytes printed with escapes (%r, %rx, %rh; print shows %r)."""


class ArrayValue(tuple):
    """A whole integer array: printed as bpftrace's `[1,2,3]` (no spaces), not a tuple."""


def user_name(uid: int) -> bytes:
    """bpftrace's resolve_uid: the first /etc/passwd entry with this uid, '' when none."""
    want = str(uid).encode()
    try:
        with open("/etc/passwd", "rb") as f:
            for line in f:
                fields = line.rstrip(b"\n").split(b":")
                if len(fields) >= 3 and fields[2] == want:
                    return fields[0]
    except OSError:
        pass
    return b""


def inet_text(raw: bytes) -> bytes:
    """`ntop()`: `u64 af; u8 addr[16]` as the address text (AF_INET 2, AF_INET6 10)."""
    import socket

    af = struct.unpack_from("<Q", raw, 0)[0]
    if af == socket.AF_INET6:
        return socket.inet_ntop(socket.AF_INET6, raw[8:24]).encode()
    return socket.inet_ntop(socket.AF_INET, raw[8:12]).encode()


def column(td: TypeDesc, raw: np.ndarray):
    """Decode n rows of raw bytes (n, >= size) uint8: a numpy array for ints, else a list."""
    kind = td["k"]
    n = raw.shape[0]
    if kind in ("int", "stack", "ksym"):
        size = td_size(td)
        return np.ascontiguousarray(raw[:, :size]).view(np_dtype(td)).reshape(n)
    if kind == "str":
        arr = np.ascontiguousarray(raw[:, :td["size"]]).view(np_dtype(td)).reshape(n)
        return [cut_nul(x) for x in arr.tolist()]
    if kind == "usym":
        return [value_from_bytes(td, bytes(row)) for row in raw[:, :16]]
    if kind in ("inet", "buf", "username", "array", "strftime", "strerror"):
        return [value_from_bytes(td, bytes(row)) for row in raw[:, :td["size"]]]
    if kind == "tuple":
        cols = [column(f["t"], raw[:, f["off"]:]) for f in td["fields"]]
        cols = [c.tolist() if isinstance(c, np.ndarray) else c for c in cols]
        return list(zip(*cols)) if cols else [()] * n
    return [None] * n


def is_int(td: TypeDesc | None) -> bool:
    return td is not None and td["k"] == "int"


class MapData(Record, frozen=False):
    """A map's entries after combining per-CPU slots. Row i of every array is entry i.

    `keys` holds the user key bytes (no hist bucket); `value` the combined integer value
    (count/sum/min/max, avg for avg/stats, total count for hist/lhist, plain int values);
    `objects` the plain non-int values; `hist` per entry (bucket numbers, counts) ascending.
    """

    keys: np.ndarray
    value: np.ndarray | None = None
    objects: list | None = None
    count: np.ndarray | None = None
    total: np.ndarray | None = None
    hist: list | None = None

    def __len__(self) -> int:
        return self.keys.shape[0]

    def take(self, idx: np.ndarray) -> "MapData":
        """The entries at `idx`, in that order."""
        pick = (lambda a: None if a is None else a[idx])
        plist = (lambda a: None if a is None else [a[i] for i in idx.tolist()])
        return MapData(_take_rows(self.keys, idx), pick(self.value), plist(self.objects),
                       pick(self.count), pick(self.total), plist(self.hist))


def _take_rows(rows: np.ndarray, idx: np.ndarray) -> np.ndarray:
    """rows[idx] for an (n, w) uint8 array, gathering whole rows at once (much faster)."""
    width = rows.shape[1]
    if width == 0:
        return rows[idx]
    flat = np.ascontiguousarray(rows).view(np.dtype((np.void, width))).reshape(-1)
    return flat[idx].view(np.uint8).reshape(len(idx), width)


def _words(values: np.ndarray) -> np.ndarray:
    """(n, ncpu, slot) uint8 -> (n, ncpu, slot/8) int64."""
    n, ncpu, slot = values.shape
    if slot % 8:
        pad = np.zeros((n, ncpu, 8 - slot % 8), np.uint8)
        values = np.concatenate([values, pad], axis=2)
    return np.ascontiguousarray(values).view("<i8")


def _cpu_sum(w: np.ndarray) -> np.ndarray:
    """(n, ncpu) -> (n,) sum over CPUs: one add per CPU (sum(axis=1) over a short axis costs
    ~4x more)."""
    total = w[:, 0].copy()
    for cpu in range(1, w.shape[1]):
        total += w[:, cpu]
    return total


def _as_unsigned(arr: np.ndarray, td: TypeDesc | None) -> np.ndarray:
    if td is not None and td["k"] == "int" and not td["signed"]:
        return arr.view(np.uint64)
    return arr


def trunc_div(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    """C integer division (toward zero) elementwise; x/0 gives 0."""
    safe = np.where(den == 0, 1, den)
    if num.dtype == np.uint64:
        q = num // safe.astype(np.uint64)
    else:
        q = np.abs(num) // np.abs(safe)
        q = np.where((num < 0) != (safe < 0), -q, q)
    return np.where(den == 0, 0, q).astype(num.dtype)


def _minmax(w: np.ndarray, td: TypeDesc, is_max: bool, all_set: bool) -> np.ndarray:
    val = _as_unsigned(np.ascontiguousarray(w[:, :, 0]), td)
    isset = np.ones(val.shape, bool) if all_set else (w[:, :, 1] == 1)
    info = np.iinfo(val.dtype)
    fill = info.min if is_max else info.max
    masked = np.where(isset, val, val.dtype.type(fill))
    res = masked.max(axis=1) if is_max else masked.min(axis=1)
    return np.where(isset.any(axis=1), res, val.dtype.type(0)).astype(val.dtype)


def _hist(keys: np.ndarray, counts: np.ndarray, key_size: int, ukey: int) -> MapData:
    bucket = np.ascontiguousarray(keys[:, key_size - 8:key_size]).view("<u8").reshape(-1)
    user = np.ascontiguousarray(keys[:, :ukey])
    if ukey == 0 or len(keys) == 0:
        inverse = np.zeros(len(keys), np.int64)
        ukeys = user[:1] if len(keys) else user[:0]
    else:
        void = user.view(np.dtype((np.void, ukey))).reshape(-1)
        _, first, inverse = np.unique(void, return_index=True, return_inverse=True)
        ukeys = user[first]
    order = np.lexsort((bucket, inverse))
    inv_s, b_s, c_s = inverse[order], bucket[order], counts[order].view(np.uint64)
    starts = np.flatnonzero(np.r_[True, inv_s[1:] != inv_s[:-1]]) if len(order) else np.array([], int)
    ends = np.r_[starts[1:], len(order)].astype(int)
    hist = [(b_s[s:e], c_s[s:e]) for s, e in zip(starts.tolist(), ends.tolist())]
    total = np.array([int(c.sum()) for _, c in hist], dtype=np.uint64)
    return MapData(ukeys, value=total, hist=hist)


def decode_map(desc: dict, keys: np.ndarray, values: np.ndarray, dialect: str) -> MapData:
    """Combine the raw batch-lookup arrays of one map into a MapData."""
    agg = desc.get("agg", "none")
    key_size = int(desc["key_size"])
    ukey = td_size(desc.get("key"))
    keys = np.asarray(keys, np.uint8).reshape(len(keys), key_size)
    values = np.asarray(values, np.uint8)
    if values.ndim == 2:
        values = values.reshape(values.shape[0], 1, values.shape[1])
    vtd = desc.get("value")
    w = _words(values) if agg != "none" else None
    if agg in ("hist", "lhist"):
        return _hist(keys, _cpu_sum(w[:, :, 0]), key_size, ukey)
    user = keys[:, :ukey]
    if agg in ("count", "sum"):
        return MapData(user, value=_as_unsigned(_cpu_sum(w[:, :, 0]), vtd))
    if agg in ("min", "max"):
        return MapData(user, value=_minmax(w, vtd, agg == "max", dialect == "btrace"))
    if agg in ("avg", "stats"):
        total = _as_unsigned(_cpu_sum(w[:, :, 0]), vtd)
        count = w[:, :, 1].sum(axis=1)
        count = count.view(np.uint64) if total.dtype == np.uint64 else count
        return MapData(user, value=trunc_div(total, count), count=count, total=total)
    raw = values[:, 0, :]
    if vtd is not None and vtd["k"] == "int":
        return MapData(user, value=column(vtd, raw).astype(
            np.int64 if vtd["signed"] else np.uint64))
    objects = column(vtd, raw) if vtd else [None] * len(user)
    return MapData(user, objects=objects.tolist() if isinstance(objects, np.ndarray) else objects)
