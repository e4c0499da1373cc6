"""Garbage collection waits while a batch is handled.

A batch decodes thousands of containers (rows, packs, events) that reference counting frees when
it ends. Python's automatic collector counts allocations, so it ran inside batches and walked
those short-lived objects, and promoted them into the older generations it walks again: in the
windows stage ~8-10 µs of its 30-39 µs per event (BENCHMARKS.md, Session 15). With collection
deferred to between batches, the collector only counts (and walks) what a batch leaves alive.
Cycles are still freed: by the first collection after the batch.

Batches of one process may overlap (the store's durable rounds run beside its slices; the route
process runs the router and two sinks), so the collector might never see a moment with none
under way, and its first collection would then walk everything made since. So once it has waited
`MAX_DEFERRAL_S`, a batch that ends collects the young generations if they are due.
"""

from __future__ import annotations

import gc
import time
from collections.abc import Iterator
from contextlib import contextmanager

MAX_DEFERRAL_S = 1.0


class _Deferrals:
    depth = 0  # batches under way
    restore = False  # whether the collector was on when the first of them began
    since = 0.0  # when the collector was last turned off, or collected while off


@contextmanager
def collection_deferred() -> Iterator[None]:
    """No automatic collection until every batch under way has ended (then as before)."""
    if _Deferrals.depth == 0:
        _Deferrals.restore = gc.isenabled()
        _Deferrals.since = time.monotonic()
        gc.disable()
    _Deferrals.depth += 1
    try:
        yield
    finally:
        _Deferrals.depth -= 1
        if _Deferrals.depth == 0:
            if _Deferrals.restore:
                gc.enable()
        elif _Deferrals.restore and time.monotonic() - _Deferrals.since >= MAX_DEFERRAL_S:
            _collect_young_if_due()
            _Deferrals.since = time.monotonic()


def _collect_young_if_due() -> None:
    # The automatic collector's rule for its two young generations; the oldest is left to it.
    counts, thresholds = gc.get_count(), gc.get_threshold()
    if counts[1] >= thresholds[1]:
        gc.collect(1)
    elif counts[0] >= thresholds[0]:
        gc.collect(0)
