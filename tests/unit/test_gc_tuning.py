"""The processes' garbage collection schedule: automatic collection off, cycles still freed."""

from __future__ import annotations

import gc
import time
import weakref
from collections.abc import Iterator

import pytest

from pulse.gc_tuning import collect_on_schedule


class Node:
    def __init__(self) -> None:
        self.other: Node | None = None


@pytest.fixture
def restore_gc() -> Iterator[None]:
    threshold, enabled = gc.get_threshold(), gc.isenabled()
    yield
    gc.unfreeze()
    gc.set_threshold(*threshold)
    if enabled:
        gc.enable()


def test_on_a_schedule_the_automatic_collector_is_off_and_cycles_are_still_freed(restore_gc: None) -> None:
    stop = collect_on_schedule(0.05)
    try:
        assert not gc.isenabled()
        a, b = Node(), Node()
        a.other, b.other = b, a  # garbage only a collection can free
        alive = weakref.ref(a)
        del a, b
        deadline = time.monotonic() + 10
        while alive() is not None and time.monotonic() < deadline:
            time.sleep(0.02)
        assert alive() is None
    finally:
        stop.set()


def test_an_interval_of_zero_keeps_the_automatic_collector(restore_gc: None) -> None:
    gc.disable()
    collect_on_schedule(0)
    assert gc.isenabled()
    assert gc.get_threshold()[0] == 50_000
