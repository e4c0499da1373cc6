"""Input a stage has merged into its state but not yet checkpointed: acked only by a checkpoint."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping
from typing import Any, Generic, TypeVar

S = TypeVar("S")

# Per input partition: the state its events were merged into, and the taken Faust events.
Held = dict[int, tuple[S, list[Any]]]


class HeldInput(Generic[S]):
    """Taken Faust events per input partition, with the state object they were merged into.

    A checkpoint `take`s what is held when it starts (what comes after is held for the next one)
    and, once it is written, `release_taken` acks it: a partition only if `current` still maps it to
    that same state. One revoked (and maybe rebuilt from the changelog) since is read again from its
    committed offset by whoever owns it now, so acking its old events would skip them there.
    """

    def __init__(self, interval_s: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.interval_s = interval_s
        self._clock = clock
        self._held: Held[S] = {}
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
        """A checkpoint is due: `interval_s` since the last one started."""
        return self._clock() - self._last >= self.interval_s

    def take(self) -> Held[S]:
        """What is held now, for the checkpoint starting now."""
        taken, self._held = self._held, {}
        self._last = self._clock()
        return taken


def release_taken(taken: Held[S], current: Mapping[int, S]) -> int:
    """After a checkpoint of the states in `current`: ack what it took; returns how many."""
    acked = 0
    for p, (state, events) in taken.items():
        if current.get(p) is state:
            for event in events:
                event.ack()
            acked += len(events)
    taken.clear()
    return acked
