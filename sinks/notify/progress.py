"""Which offsets may be committed: a message counts as done once every subscriber it was routed to
has delivered or dead-lettered it; a partition's committable offset is just past its longest done
prefix. Pure bookkeeping (no Kafka): `service` feeds it and commits what it returns.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

Partition = tuple[str, int]  # (topic, partition)


@dataclass(eq=False)
class PendingMessage:
    """One consumed message; `finish()` is called once per subscriber it was routed to."""

    offset: int
    remaining: int

    def finish(self) -> None:
        if self.remaining > 0:
            self.remaining -= 1

    @property
    def done(self) -> bool:
        return self.remaining == 0


class OffsetProgress:
    def __init__(self) -> None:
        self._pending: dict[Partition, deque[PendingMessage]] = {}
        self._next: dict[Partition, int] = {}        # committable offset (next to read after a restart)
        self._committed: dict[Partition, int] = {}

    def track(self, partition: Partition, offset: int, subscribers: int) -> PendingMessage:
        """Record a consumed message routed to `subscribers` subscribers (0: done at once)."""
        message = PendingMessage(offset, subscribers)
        self._pending.setdefault(partition, deque()).append(message)
        return message

    def committable(self) -> dict[Partition, int]:
        """Offsets to commit now: partitions whose done prefix moved since the last `committed()`."""
        out: dict[Partition, int] = {}
        for partition, queue in self._pending.items():
            while queue and queue[0].done:
                self._next[partition] = queue.popleft().offset + 1
            offset = self._next.get(partition)
            if offset is not None and offset != self._committed.get(partition):
                out[partition] = offset
        return out

    def committed(self, offsets: dict[Partition, int]) -> None:
        self._committed.update(offsets)

    def forget(self, partitions: list[Partition]) -> None:
        """Partitions moved away: their messages' later `finish()` calls no longer matter here."""
        for partition in partitions:
            self._pending.pop(partition, None)
            self._next.pop(partition, None)
            self._committed.pop(partition, None)

    def in_flight(self) -> int:
        return sum(1 for queue in self._pending.values() for m in queue if not m.done)
