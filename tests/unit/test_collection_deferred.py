"""Automatic garbage collection waits while a batch is handled, and resumes after the last one."""

from __future__ import annotations

import gc
import weakref
from collections.abc import Iterator
from contextlib import ExitStack

import pytest

from streams.agents import collection
from streams.agents.collection import collection_deferred


class Node:
    def __init__(self) -> None:
        self.other: Node | None = None


@pytest.fixture
def small_young_generation() -> Iterator[None]:
    threshold, enabled = gc.get_threshold(), gc.isenabled()
    gc.set_threshold(100, 10, 10)
    gc.enable()
    yield
    gc.set_threshold(*threshold)
    if not enabled:
        gc.disable()


def cycle() -> weakref.ref[Node]:
    a, b = Node(), Node()
    a.other, b.other = b, a  # garbage only a collection frees
    return weakref.ref(a)


def allocate(n: int) -> None:
    keep = [[i] for i in range(n)]  # alive at once: the young generation overflows many times
    del keep


def test_no_collection_runs_inside_a_batch_and_the_first_after_frees_its_cycles(small_young_generation: None) -> None:
    with collection_deferred():
        garbage = cycle()
        allocate(20_000)
        assert garbage() is not None  # with the collector on, 200 young collections would have freed it
    allocate(20_000)
    assert garbage() is None


def test_overlapping_batches_resume_collection_when_the_last_ends(small_young_generation: None) -> None:
    first, second = ExitStack(), ExitStack()
    first.enter_context(collection_deferred())
    second.enter_context(collection_deferred())
    first.close()  # batches of one process's tasks may end in any order
    assert not gc.isenabled()
    second.close()
    assert gc.isenabled()


def test_a_failing_batch_resumes_collection(small_young_generation: None) -> None:
    with pytest.raises(RuntimeError), collection_deferred():
        raise RuntimeError("batch failed")
    assert gc.isenabled()


def test_a_collector_turned_off_before_stays_off(small_young_generation: None) -> None:
    gc.disable()
    with collection_deferred():
        pass
    assert not gc.isenabled()


def test_batches_that_always_overlap_still_collect_the_young_generations(
        small_young_generation: None, monkeypatch: pytest.MonkeyPatch) -> None:
    # A process whose batches overlap without end never turns the collector back on; once it has
    # waited MAX_DEFERRAL_S, an ending batch collects what is due.
    monkeypatch.setattr(collection, "MAX_DEFERRAL_S", 0.0)
    with collection_deferred():  # a long round, under way throughout
        with collection_deferred():
            garbage = cycle()
        with collection_deferred():
            young = [[i] for i in range(200)]  # still alive as it ends: the young generation is due
        assert garbage() is None
        assert not gc.isenabled()
        del young
