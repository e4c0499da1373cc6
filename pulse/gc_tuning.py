"""How the pipeline's processes collect reference cycles, and how long each collection holds them.

The automatic collector stays on: the pipeline frees almost everything by reference counting, but
some cycles remain (a full collection two minutes into a run found 143, 306 and
3,629 objects in cycles in the store, windows and route processes), and only the collector frees
them. Start-up's objects (modules, the language model, the watchlist automaton) are frozen, so no
collection walks them again; the young generation is 50,000 allocations instead of Python's 700, as
the stages allocate in batches of thousands; and no collection runs while a batch is handled
(`streams/agents/collection.py`).

A schedule that turned the automatic collector off and collected everything every N seconds was
tried and removed (Session 14): it saved ~10 µs per event, but each scheduled collection walked
everything made since the previous one — 62 s for the windows process after ten minutes of the 1M
bench. What remains measurable is the pause of every automatic collection, by generation
(`pulse_gc_pause_seconds`): the older generations' passes are the ones that hold a batch.
"""

from __future__ import annotations

import gc

from streams import metrics

YOUNG_GENERATION = 50_000


def tune_collector() -> None:
    """Freeze what start-up made, widen the young generation and time every collection from now on."""
    gc.freeze()
    gc.set_threshold(YOUNG_GENERATION, 50, 1000)
    gc.enable()
    watch_pauses(metrics.GC_PAUSES)


def watch_pauses(pauses: metrics.GcPauses) -> None:
    """Time every collection into `pauses` (once per process, however often called)."""
    if pauses.on_collection not in gc.callbacks:  # bound methods of one object compare equal
        gc.callbacks.append(pauses.on_collection)
