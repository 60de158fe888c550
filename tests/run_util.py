"""Running `btc` as users do (a subprocess), for end-to-end tests on the live kernel."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

BTC = [sys.executable, "-m", "btc.cli"]


def btc_env() -> dict:
    env = dict(os.environ)
    env["BTC_NO_CACHE"] = "1"
    env.pop("BTC_DEBUG", None)
    return env


def run_btc(*args: str, timeout: float = 60, input: str | None = None) -> subprocess.CompletedProcess:
    """Run btc to completion (programs that exit by themselves)."""
    return subprocess.run(BTC + list(args), capture_output=True, text=True, timeout=timeout,
                          env=btc_env(), input=input)


class Tracer:
    """A btc run in the background: start it, wait until its probes are attached, do the
    work that fires them, then stop it with a signal and collect its output."""

    def __init__(self, *args: str):
        self.proc = subprocess.Popen(BTC + list(args), stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, text=True, env=btc_env())

    def wait_attached(self, timeout: float = 30) -> None:
        """btc has attached once its own program ids appear; poll the kernel for that."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                return
            if _has_attached_links(self.proc.pid):
                time.sleep(0.05)
                return
            time.sleep(0.05)
        raise AssertionError("btc did not attach in time")

    def stop(self, sig: int = signal.SIGINT, timeout: float = 30) -> subprocess.CompletedProcess:
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        out, err = self.proc.communicate(timeout=timeout)
        return subprocess.CompletedProcess(self.proc.args, self.proc.returncode, out, err)


def _has_attached_links(pid: int) -> bool:
    """True once the process holds a perf-event or bpf-link fd (its probes are attached)."""
    fd_dir = f"/proc/{pid}/fd"
    try:
        names = os.listdir(fd_dir)
    except OSError:
        return False
    for name in names:
        try:
            target = os.readlink(os.path.join(fd_dir, name))
        except OSError:
            continue
        if target in ("anon_inode:[perf_event]", "anon_inode:bpf_link",
                      "anon_inode:bpf-link") or "perf_event" in target:
            return True
    return False
