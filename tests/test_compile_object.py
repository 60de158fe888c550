"""`btc compile`: the object follows libbpf's conventions (bpftool loads it and prints map
keys and values by field name), stages are emitted deterministically, and bad objects give
one plain line."""
from __future__ import annotations

import glob
import json
import os
import shutil
import subprocess
import sys
import uuid

import pytest

from kernel import require_bpf
from run_util import btc_env, run_btc

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
EXAMPLES = sorted(glob.glob(os.path.join(ROOT, "examples", "*.bt")))
BPFFS = "/sys/fs/bpf"
MACHINE = os.uname().machine.encode()

OTHERS = {
    "tuples.bt": 'syscall:read:entry { @k[pid, comm] = count(); @h[comm] = hist(arg2); @m = max(arg2) }\n'
                 'BEGIN { @t[2] = (3, "xy"); printf("%d %s\\n", $1, str($2)); }\n',
    "bpf_tp.bpf.bt": 'tracepoint:syscalls:sys_enter_openat { @files[comm, str(args.filename)] = count() }\n'
                     'interval:s:1 { print(@files); exit() }\n',
    "lhist.bpf.bt": 'tracepoint:raw_syscalls:sys_exit { @l[comm] = lhist(args.ret, 0, 100, 10); '
                    '@s = stats(args.ret); @a[tid] = avg(args.ret) }\n',
}


def _dialect(path: str) -> str:
    return "bpftrace" if path.endswith(".bpf.bt") else "btrace"


def _compile(src_path: str, out: str) -> None:
    """What `btc compile SRC -o OUT` writes (in-process: the CLI is tested separately)."""
    from btc import driver

    with open(src_path) as f:
        source = f.read()
    obj = driver.emit(source, src_path, _dialect(src_path), [], "obj")
    with open(out, "wb") as f:
        f.write(obj)


def _bpftool() -> str:
    path = shutil.which("bpftool")
    if path is None:
        if os.environ.get("BTC_REQUIRE_BPF") == "1":
            pytest.fail("bpftool is not installed (.ci/run installs it)")
        pytest.skip("bpftool is not installed")
    return path


def _bpffs() -> None:
    if not os.path.ismount(BPFFS):
        subprocess.run(["mount", "-t", "bpf", "bpf", BPFFS], capture_output=True)
    if not os.path.ismount(BPFFS):
        if os.environ.get("BTC_REQUIRE_BPF") == "1":
            pytest.fail("bpffs is not mounted on /sys/fs/bpf")
        pytest.skip("bpffs is not mounted on /sys/fs/bpf")


@pytest.fixture
def pinned():
    """(prog dir, map dir) on bpffs, removed afterwards (bpffs names may not contain dots)."""
    require_bpf()
    _bpftool()
    _bpffs()
    tag = "btctest_" + uuid.uuid4().hex[:12]
    dirs = (os.path.join(BPFFS, tag + "_p"), os.path.join(BPFFS, tag + "_m"))
    yield dirs
    for d in dirs:
        shutil.rmtree(d, ignore_errors=True)


def _loadall(obj: str, dirs: tuple[str, str]) -> None:
    res = subprocess.run([_bpftool(), "prog", "loadall", obj, dirs[0], "pinmaps", dirs[1]],
                         capture_output=True, text=True, timeout=60)
    assert res.returncode == 0, res.stderr


def _bpftool_json(*args: str):
    res = subprocess.run([_bpftool(), "-j", *args], capture_output=True, text=True, timeout=30)
    assert res.returncode == 0, res.stderr
    return json.loads(res.stdout)


def _sources(tmp_path) -> list[str]:
    paths = list(EXAMPLES)
    for name, text in OTHERS.items():
        p = tmp_path / name
        p.write_text(text)
        paths.append(str(p))
    return paths


def test_every_example_and_more_loads_with_bpftool(tmp_path, pinned):
    for src in _sources(tmp_path):
        obj = str(tmp_path / (os.path.basename(src) + ".o"))
        _compile(src, obj)
        _loadall(obj, pinned)
        progs = sorted(os.listdir(pinned[0]))
        maps = set(os.listdir(pinned[1]))
        assert progs, src
        assert {"events", "lost"} <= maps, (src, maps)
        for d in pinned:
            shutil.rmtree(d)


def test_object_sections_follow_libbpf_conventions(tmp_path):
    src = tmp_path / "tuples.bt"
    src.write_text(OTHERS["tuples.bt"])
    _compile(str(src), str(tmp_path / "t.o"))
    from btc.runtime.objfile import parse_object

    obj = parse_object((tmp_path / "t.o").read_bytes())
    names = set(obj.section_names.values())
    assert {"license", ".maps", ".BTF", ".BTF.ext", ".rodata", ".btc.meta",
            "tracepoint/syscalls/sys_enter_read", "raw_tp"} <= names
    assert obj.license == b"GPL"
    assert obj.btf_ext.line_info, "no bt line info in .BTF.ext"
    # line info points at the bt source, not at generated code
    assert any("syscall:read:entry" in obj.btf.string(r[2])
               for recs in obj.btf_ext.line_info.values() for r in recs)
    assert "btc_rodata" in obj.data_symbols


def _dump(pinned, name: str) -> list:
    return _bpftool_json("map", "dump", "pinned", os.path.join(pinned[1], name))


def _update(pinned, name: str, key: bytes, value: bytes) -> None:
    res = subprocess.run([_bpftool(), "map", "update", "pinned", os.path.join(pinned[1], name),
                          "key", *[str(b) for b in key], "value", *[str(b) for b in value]],
                         capture_output=True, text=True, timeout=30)
    assert res.returncode == 0, res.stderr


def test_bpftool_prints_map_keys_and_values_by_field_name(tmp_path, pinned):
    src = tmp_path / "named.bt"
    src.write_text('syscall:read:entry { @k[pid, comm] = 5; @t[tid] = (3, "xy"); $n = 2; '
                   '@h[comm, $n] = hist(arg2) }\n')
    _compile(str(src), str(tmp_path / "n.o"))
    _loadall(str(tmp_path / "n.o"), pinned)
    info = _bpftool_json("map", "show", "pinned", os.path.join(pinned[1], "m_k"))
    assert info["bytes_key"] == 24 and info["bytes_value"] == 8
    _update(pinned, "m_k", (7).to_bytes(8, "little") + b"ab".ljust(16, b"\0"), (5).to_bytes(8, "little"))
    [entry] = _dump(pinned, "m_k")
    assert entry["formatted"] == {"key": {"pid": 7, "comm": "ab"}, "value": 5}
    info = _bpftool_json("map", "show", "pinned", os.path.join(pinned[1], "m_t"))
    _update(pinned, "m_t", (1).to_bytes(8, "little"),
            (3).to_bytes(8, "little") + b"xy".ljust(info["bytes_value"] - 8, b"\0"))
    [entry] = _dump(pinned, "m_t")
    assert entry["formatted"] == {"key": 1, "value": {"f0": 3, "f1": "xy"}}
    # the key and value types are named structs in the object's BTF
    btf = subprocess.run([_bpftool(), "btf", "dump", "file", str(tmp_path / "n.o")],
                         capture_output=True, text=True, timeout=30).stdout
    for name in ("m_k_key", "m_t_value", "m_h_key", "m_h_ukey"):
        assert f"STRUCT '{name}'" in btf, name
    assert "'bucket'" in btf


def test_rodata_is_a_frozen_read_only_map_with_named_constants(tmp_path, pinned):
    src = tmp_path / "ro.bt"
    src.write_text('BEGIN { printf("%d %d\\n", $1, $#) }\n')
    _compile(str(src), str(tmp_path / "ro.o"))
    _loadall(str(tmp_path / "ro.o"), pinned)
    ro = [m for m in os.listdir(pinned[1]) if m.endswith("rodata")]
    assert len(ro) == 1
    info = _bpftool_json("map", "show", "pinned", os.path.join(pinned[1], ro[0]))
    assert info["frozen"] == 1 and info["flags"] & 0x80  # BPF_F_RDONLY_PROG
    [entry] = _dump(pinned, ro[0])
    [sec] = entry["formatted"]["value"][".rodata"]
    assert sec["btc_rodata"] == {"param1": 0, "param_count": 0}


# --- stages, determinism, output naming --------------------------------------------------
_ALL_STAGES = """
import hashlib, sys
from btc import driver
src = open(sys.argv[1]).read()
for stage in driver.STAGES:
    out = driver.emit(src, sys.argv[1], "btrace", [], stage)
    out = out if isinstance(out, bytes) else out.encode()
    print(stage, len(out), hashlib.sha256(out).hexdigest())
"""


def test_same_input_gives_same_bytes_across_processes(tmp_path):
    src = tmp_path / "d.bt"
    src.write_text(OTHERS["tuples.bt"])
    outs = []
    for seed in ("1", "2"):
        env = btc_env()
        env["PYTHONHASHSEED"] = seed
        res = subprocess.run([sys.executable, "-c", _ALL_STAGES, str(src)], capture_output=True,
                             text=True, env=env, timeout=120)
        assert res.returncode == 0, res.stderr
        outs.append(res.stdout)
    assert outs[0] == outs[1]
    assert [line.split()[0] for line in outs[0].splitlines()] == ["ast", "ir", "llvm", "asm", "obj"]
    assert all(int(line.split()[1]) > 0 for line in outs[0].splitlines())


def test_obj_to_stdout_is_the_object(tmp_path):
    src = tmp_path / "s.bt"
    src.write_text('BEGIN { exit() }\n')
    res = subprocess.run([sys.executable, "-m", "btc.cli", "compile", str(src), "-o", "-"],
                         capture_output=True, env=btc_env(), timeout=120)
    assert res.returncode == 0, res.stderr
    assert res.stdout[:4] == b"\x7fELF"
    assert res.stdout == _compiled_bytes(str(src))


def _compiled_bytes(path: str) -> bytes:
    from btc import driver

    return driver.emit(open(path).read(), path, "btrace", [], "obj")


def test_output_file_naming(tmp_path):
    src = tmp_path / "named.bt"
    src.write_text('BEGIN { exit() }\n')
    res = run_btc("compile", str(src))
    assert res.returncode == 0, res.stderr
    assert (tmp_path / "named.o").read_bytes()[:4] == b"\x7fELF"
    res = run_btc("compile", str(src), "--emit", "llvm")
    assert "target triple" in res.stdout
    res = run_btc("compile", str(src), "--emit", "asm", "-o", str(tmp_path / "x.s"))
    assert res.returncode == 0 and "exit" in (tmp_path / "x.s").read_text()
    res = run_btc("compile", str(tmp_path / "named.o"))
    assert res.returncode == 1 and "already a compiled object" in res.stderr


# --- bad objects ---------------------------------------------------------------------------
def _one_plain_line(res, *needles: str) -> None:
    assert res.returncode == 1, (res.returncode, res.stderr)
    assert "Traceback" not in res.stderr
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1, res.stderr
    for n in needles:
        assert n in lines[0], lines[0]


@pytest.fixture(scope="module")
def good_object(tmp_path_factory) -> bytes:
    d = tmp_path_factory.mktemp("objs")
    src = d / "g.bt"
    src.write_text('syscall:read:entry { @n = count() }\nBEGIN { printf("go\\n"); exit() }\n')
    _compile(str(src), str(d / "g.o"))
    return (d / "g.o").read_bytes()


def test_bad_objects_get_one_plain_line(tmp_path, good_object):
    true_bin = open(shutil.which("true") or "/bin/true", "rb").read()
    cases = {
        "empty.o": (b"", "not an ELF file"),
        "text.o": (b"BEGIN { exit() }\n", "not an ELF file"),
        "short.o": (good_object[:40], "truncated or corrupt"),
        "half.o": (good_object[: len(good_object) // 2], "truncated or corrupt"),
        "foreign.o": (true_bin, "not a BPF object"),
        "version.o": (good_object.replace(b'"version":1', b'"version":7'),
                      "metadata is version 7"),
        "machine.o": (good_object.replace(b'"machine":"' + MACHINE, b'"machine":"' + b"z" * len(MACHINE)),
                      "built for"),
        "layout.o": (_with_layout(good_object, b"0" * 16), "another layout"),
        "missing.o": (good_object.replace(b'"syscalls:sys_enter_read":', b'"syscalls:sys_enter_rea0":'),
                      "does not have"),
    }
    for name, (data, needle) in cases.items():
        path = tmp_path / name
        path.write_bytes(data)
        res = run_btc("run", str(path))
        _one_plain_line(res, needle)
    assert run_btc("run", str(tmp_path / "layout.o")).stderr.startswith("btc: ")


def _with_layout(obj: bytes, digest: bytes) -> bytes:
    marker = b'"syscalls:sys_enter_read":"'
    i = obj.index(marker) + len(marker)
    return obj[:i] + digest + obj[i + len(digest):]


def test_another_release_with_the_same_layouts_runs(tmp_path, good_object):
    require_bpf()
    release = os.uname().release.encode()
    marker = b'"release":"' + release + b'"'
    assert marker in good_object
    other = good_object.replace(marker, b'"release":"' + b"9" * len(release) + b'"')
    path = tmp_path / "other.o"
    path.write_bytes(other)
    res = run_btc("run", str(path))
    assert res.returncode == 0 and res.stdout.startswith("go\n"), res.stderr
