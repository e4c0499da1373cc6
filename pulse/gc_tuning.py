"""How the pipeline's processes collect reference cycles: on a schedule, not automatically.

CPython's automatic collector walks every container object that survives its young generation
(the decoded contributions and the buckets they become, the dedupe records), and again when it
promotes them. In the windows and store stages that was ~10 µs per event, and its older-generation
passes held the event loop for 0.45-0.85 s several times a minute at 10,000 events/s (BENCHMARKS.md,
Session 14). The pipeline frees almost everything by reference counting: a full collection after
two minutes of a 1M backlog and live traffic found 143, 306 and 3,629 objects in cycles in the
store, windows and route processes. So after start-up everything is frozen (never walked again) and
the automatic collector is off; a full collection of what was made since the last one runs every
`interval_s` (its pause and what it found go to the log and to metrics), then freezes what survived.
`interval_s` 0 keeps the automatic collector (young generation 50,000).
"""

from __future__ import annotations

import gc
import logging
import threading
import time

from streams import metrics

log = logging.getLogger(__name__)


def collect_on_schedule(interval_s: float) -> threading.Event:
    """Freeze what start-up made; then collect every `interval_s` instead of automatically (0: the
    automatic collector, with a young generation of 50,000). Returns an event that stops the schedule."""
    stop = threading.Event()
    gc.freeze()
    if interval_s <= 0:
        gc.set_threshold(50_000, 50, 1000)
        gc.enable()
        return stop
    gc.disable()

    def run() -> None:
        while not stop.wait(interval_s):
            collect_and_freeze()

    threading.Thread(target=run, name="pulse-gc", daemon=True).start()
    return stop


def collect_and_freeze() -> int:
    """One full collection of what is not frozen, then freeze the survivors; returns the objects found
    in cycles."""
    started = time.perf_counter()
    found = gc.collect()
    gc.freeze()
    pause = time.perf_counter() - started
    metrics.GC_PAUSE_SECONDS.observe(pause)
    metrics.GC_COLLECTED.inc(found)
    log.info("garbage collection: %d objects in cycles freed in %.3fs", found, pause)
    return found
