"""Input a stage has merged into its state but not yet checkpointed: acked only by a checkpoint."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping
from typing import Any, Generic, TypeVar

S = TypeVar("S")


class HeldInput(Generic[S]):
    """Taken Faust events per input partition, with the state object they were merged into.

    `release(current)` acks the events of a partition only if `current` still maps it to that same
    state: a partition revoked (and maybe rebuilt from the changelog) since then is read again from
    its committed offset by whoever owns it now, so acking its old events would skip them there.
    """

    def __init__(self, interval_s: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.interval_s = interval_s
        self._clock = clock
        self._held: dict[int, tuple[S, list[Any]]] = {}
        self._last = clock()

    def __bool__(self) -> bool:
        return bool(self._held)

    def hold(self, partition: int, state: S, event: Any) -> None:
        entry = self._held.get(partition)
        if entry is None or entry[0] is not state:
            entry = self._held[partition] = (state, [])
        entry[1].append(event)

    def forget(self, partitions: Iterable[int]) -> None:
        for p in partitions:
            self._held.pop(p, None)

    def due(self) -> bool:
        """A checkpoint is due: `interval_s` since the last release."""
        return self._clock() - self._last >= self.interval_s

    def release(self, current: Mapping[int, S]) -> int:
        """After a checkpoint of the states in `current`: ack what went into them; returns how many."""
        acked = 0
        for p, (state, events) in self._held.items():
            if current.get(p) is state:
                for event in events:
                    event.ack()
                acked += len(events)
        self._held.clear()
        self._last = self._clock()
        return acked
