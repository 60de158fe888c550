"""`gc_paused()`: hold off Python's cyclic garbage collector for the duration of a stage.

Why: parsing and analysis allocate hundreds of thousands of small, acyclic objects (tokens,
spans, nodes). Each allocation burst triggers collections that re-scan every young object
and, now and then, the whole heap: a large share of front-end time on big scripts. Reference
counting still frees everything at once; cycles (if any) are collected after the stage.

On leaving, the objects the stage left alive (the tree it built) are moved straight to the
oldest generation (`gc.freeze()` then `gc.unfreeze()`, both O(1)): otherwise the first young
collection after the stage traverses every one of them (≈ 50 ms for a 1,000-probe script) and
they climb the generations to be traversed again. They are still collected normally by the
next full collection. Skipped when something else in the process froze objects, so that its
frozen set is never thawed by us.
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
            if gc.get_freeze_count() == 0:
                gc.freeze()
                gc.unfreeze()
            gc.enable()
