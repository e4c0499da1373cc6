"""The windows stage's checkpoints, written in steps by the batches that follow their start (see
`streams/windows/checkpoint.py` for why that is exact), then acked: its input is acked only once
Kafka acknowledged every write of the checkpoint that covers it.

Written at once, a checkpoint of ~20,000 changed buckets held the batch behind it (and the alerts
in it) for 0.2-0.8 s every 2 s on this machine (BENCHMARKS.md, Session 14); in steps of a few
thousand it holds each batch for tens of milliseconds.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from typing import Any, Generic, Protocol, TypeVar

from streams.agents.changelog import Changelog
from streams.agents.held_input import Held, HeldInput, release_taken
from streams.kafka_batch import BatchSender
from streams.windows.alerting import AlertEngine
from streams.windows.checkpoint import PartitionCheckpoint
from streams.windows.state import WindowPartition

# A checkpoint is written by the batches after its start in about this many steps, and each step
# writes at least CHECKPOINT_WRITES_PER_STEP changed buckets (~20-40 ms of work live): a checkpoint
# of any size holds each batch for a fraction of what writing it at once would, and its input is
# acked a few batches after its start.
CHECKPOINT_STEPS = 4
CHECKPOINT_WRITES_PER_STEP = 2000


class Checkpointed(Protocol):
    part: WindowPartition
    engine: AlertEngine
    last_offset: int  # newest input offset merged


S = TypeVar("S", bound=Checkpointed)


class SteppedCheckpoints(Generic[S]):
    def __init__(self, changelog: Changelog, held: HeldInput[S], owned: Callable[[], Mapping[int, S]]) -> None:
        self._changelog = changelog
        self._held = held
        self._owned = owned
        self._parts: dict[int, PartitionCheckpoint] = {}
        self._taken: Held[S] | None = None  # the input the checkpoint under way covers
        self._acks: list[asyncio.Future[Any]] = []
        self._step = CHECKPOINT_WRITES_PER_STEP

    @property
    def under_way(self) -> bool:
        return self._taken is not None

    def forget(self, partitions: set[int]) -> None:
        """Revoked partitions: their changelog partitions are someone else's to write now."""
        for p in partitions:
            self._parts.pop(p, None)

    async def advance(self, sender: BatchSender) -> bool:
        """Start a checkpoint if one is due and none is under way; write a step of the one under
        way; once all is written, write its closing entries, wait until Kafka acknowledged every
        write of it, and ack the input it covers. Returns whether a checkpoint was completed."""
        if self._taken is None:
            if not self._held.due():
                return False
            self._taken = self._held.take()
            self._parts = {q: PartitionCheckpoint(q, w.part, w.engine, w.last_offset)
                           for q, w in self._owned().items()}
            total = sum(checkpoint.buckets_left for checkpoint in self._parts.values())
            self._step = max(CHECKPOINT_WRITES_PER_STEP, -(-total // CHECKPOINT_STEPS))
        left = self._step
        for q, checkpoint in self._parts.items():
            if left <= 0:
                break
            before = checkpoint.buckets_left
            self._changelog.write(q, checkpoint.step(left))
            left -= before - checkpoint.buckets_left
        if any(checkpoint.buckets_left for checkpoint in self._parts.values()):
            self._acks.extend(await self._changelog.send(sender))
            return False
        for q, checkpoint in self._parts.items():
            self._changelog.write(q, checkpoint.closing())
        acks = self._acks + await self._changelog.send(sender)
        self._acks = []
        if acks:
            await asyncio.gather(*acks)
        release_taken(self._taken, self._owned())
        self._taken, self._parts = None, {}
        return True
