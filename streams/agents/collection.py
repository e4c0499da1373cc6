"""Garbage collection waits while a batch is handled.

A batch decodes thousands of containers (rows, packs, events) that reference counting frees when
it ends. Python's automatic collector counts allocations, so it ran inside batches and walked
those short-lived objects, and promoted them into the older generations it walks again: in the
windows stage ~8-10 µs of its 30-39 µs per event (BENCHMARKS.md, Session 15). With collection
deferred to between batches, the collector only counts (and walks) what a batch leaves alive.
Cycles are still freed: by the first collection after the batch.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


class _Deferrals:
    depth = 0  # batches under way (asyncio tasks of one process may overlap)
    restore = False  # whether the collector was on when the first of them began


@contextmanager
def collection_deferred() -> Iterator[None]:
    """No automatic collection until every batch under way has ended (then as before)."""
    if _Deferrals.depth == 0:
        _Deferrals.restore = gc.isenabled()
        gc.disable()
    _Deferrals.depth += 1
    try:
        yield
    finally:
        _Deferrals.depth -= 1
        if _Deferrals.depth == 0 and _Deferrals.restore:
            gc.enable()
