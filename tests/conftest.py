"""Shared pytest configuration.

`slow` tests (long fuzzing runs, big benchmarks) are collected in every run but skipped unless
asked for, so the default run stays fast and nothing is silently deselected:
  * `BTC_SLOW=1 python -m pytest ...` runs them together with everything else;
  * `python -m pytest -m slow ...` runs only them.
"""
from __future__ import annotations

import os

import pytest


def pytest_configure(config):
    config.addinivalue_line("markers", "slow: long-running test; run with BTC_SLOW=1 or -m slow")


def pytest_collection_modifyitems(config, items):
    if os.environ.get("BTC_SLOW") == "1" or "slow" in (config.getoption("-m") or ""):
        return
    skip = pytest.mark.skip(reason="slow test: set BTC_SLOW=1 or pass -m slow to run it")
    for item in items:
        if "slow" in item.keywords:
            item.add_marker(skip)
