"""`gc_paused()`: hold off Python's cyclic garbage collector for the duration of a stage.

Why: parsing and analysis allocate hundreds of thousands of small, acyclic objects (tokens,
spans, nodes). Each allocation burst triggers collections that re-scan every young object
and, now and then, the whole heap: a large share of front-end time on big scripts. Reference
counting still frees everything at once; cycles (if any) are collected after the stage.
"""
from __future__ import annotations

import gc
from contextlib import contextmanager
from typing import Iterator


@contextmanager
def gc_paused() -> Iterator[None]:
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
