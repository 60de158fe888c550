"""What the numbers depend on, printed beside them: kernel, CPUs, virtualization, JIT."""
from __future__ import annotations

import os
import platform

from btc.runtime.cpus import online_cpus, possible_cpu_count


def _read(path: str) -> str | None:
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            return f.read().strip()
    except OSError:
        return None


def _cpu_model_and_hypervisor() -> tuple[str, bool]:
    model, hyper = platform.processor() or "", False
    for line in (_read("/proc/cpuinfo") or "").splitlines():
        key, _, value = line.partition(":")
        key = key.strip()
        if key == "model name" and not model:
            model = value.strip()
        elif key == "flags":
            hyper = "hypervisor" in value.split()
            break
    return model or "unknown", hyper


def machine_info() -> dict:
    model, hyper = _cpu_model_and_hypervisor()
    jit = _read("/proc/sys/net/core/bpf_jit_enable")
    return {
        "kernel": platform.release(),
        "arch": platform.machine(),
        "cpus_online": len(online_cpus()),
        "cpus_possible": possible_cpu_count(),
        "cpu_model": model,
        "virtualized": hyper,
        "jit": {"1": "on", "0": "off", "2": "on (debug)"}.get(jit or "", "unknown"),
        "bpf_stats_sysctl": _read("/proc/sys/kernel/bpf_stats_enabled"),
        "loadavg": (_read("/proc/loadavg") or "").split(" ")[:3],
        "nproc_python": os.cpu_count(),
    }
