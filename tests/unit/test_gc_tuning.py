"""The processes' garbage collector: automatic, start-up frozen, and every collection's pause timed
into `pulse_gc_pause_seconds`."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest
from prometheus_client import REGISTRY, generate_latest

from pulse.gc_tuning import YOUNG_GENERATION, tune_collector
from streams.metrics import GC_PAUSES, GcPauses


@pytest.fixture
def restore_gc() -> Iterator[None]:
    threshold, enabled, callbacks = gc.get_threshold(), gc.isenabled(), list(gc.callbacks)
    yield
    gc.unfreeze()
    gc.set_threshold(*threshold)
    gc.callbacks[:] = callbacks
    if not enabled:
        gc.disable()


def paused(generation: int) -> float:
    value = REGISTRY.get_sample_value("pulse_gc_pause_seconds_count", {"generation": str(generation)})
    assert value is not None
    return value


def test_the_automatic_collector_stays_on_with_a_wide_young_generation(restore_gc: None) -> None:
    gc.disable()
    tune_collector()
    assert gc.isenabled()
    assert gc.get_threshold()[0] == YOUNG_GENERATION
    assert gc.get_freeze_count() > 0  # start-up's objects are not walked again


def test_every_collection_is_timed_by_generation(restore_gc: None) -> None:
    tune_collector()
    before = [paused(g) for g in range(3)]
    gc.collect(0)
    gc.collect(2)
    gc.collect(2)
    assert [paused(g) - before[g] for g in range(3)] == [1, 0, 2]
    total = REGISTRY.get_sample_value("pulse_gc_pause_seconds_sum", {"generation": "2"})
    assert total is not None and total > 0
    assert b'pulse_gc_pause_seconds_bucket{generation="2",le="+Inf"}' in generate_latest(REGISTRY)


def test_tuning_twice_installs_one_timer(restore_gc: None) -> None:
    tune_collector()
    tune_collector()
    assert gc.callbacks.count(GC_PAUSES.on_collection) == 1
    before = paused(1)
    gc.collect(1)
    assert paused(1) - before == 1


def test_pauses_fall_into_cumulative_buckets() -> None:
    pauses = GcPauses()
    for seconds in (0.0005, 0.001, 0.3, 0.3, 20.0):
        pauses.record(2, seconds)
    (family,) = pauses.collect()
    buckets = {s.labels["le"]: s.value for s in family.samples
               if s.name.endswith("_bucket") and s.labels["generation"] == "2"}
    assert buckets["0.001"] == 2  # le: at most the bound
    assert buckets["0.25"] == 2 and buckets["0.5"] == 4 and buckets["10.0"] == 4 and buckets["+Inf"] == 5
    count = next(s.value for s in family.samples if s.name.endswith("_count") and s.labels["generation"] == "2")
    assert count == 5

