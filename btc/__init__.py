"""btc: a compiler toolchain for the bt tracing language (OpenBSD btrace / Linux bpftrace)."""

__version__ = "0.1.0"
