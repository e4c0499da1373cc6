"""How the pipeline's processes collect reference cycles: automatically (the default), or on a
schedule.

CPython's automatic collector walks every container object that survives its young generation
(the decoded contributions and the buckets they become, the dedupe records), and again when it
promotes them: in the windows and store stages ~10 µs per event, and its older-generation passes
held the event loop for 0.45-0.85 s several times a minute at 10,000 events/s (BENCHMARKS.md,
Session 14). The pipeline frees almost everything by reference counting (a full collection two
minutes into a run found 143, 306 and 3,629 objects in cycles in the store, windows and route
processes), so `interval_s` > 0 turns the automatic collector off and runs a full collection of what
was made since the last one every `interval_s`, then freezes the survivors. But that collection
walks everything the process made since: after 10 minutes of the 1M bench it paused the store for
18 s and the windows process for 62 s. It is therefore off by default (`interval_s` 0: the automatic
collector, young generation 50,000), until the state it walks is made smaller or the walk bounded.
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
