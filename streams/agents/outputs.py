"""What the stateful agents (store, windows) share: their producer and gap reader, and changelog writes."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import orjson

from streams.agents.pack_reader import PackReader
from streams.kafka_batch import BatchSender, Record, make_producer
from streams.settings import Settings


@asynccontextmanager
async def agent_outputs(settings: Settings, client_id: str, input_topic: str) -> AsyncIterator[
        tuple[BatchSender, PackReader]]:
    """A started producer (as a BatchSender) and a reader for input gaps; both stopped on exit."""
    producer = make_producer(settings, client_id)
    gaps = PackReader(settings, input_topic)
    await producer.start()
    try:
        yield BatchSender(producer), gaps
    finally:
        await producer.stop()
        await gaps.stop()


class Changelog:
    """Writes to a Faust table — its in-memory data and its changelog topic — collected per batch
    and produced in one go (`flush`), so the batch is acked only after every write was
    acknowledged. Faust's own `send_changelog` produces one message at a time through its
    producer queue: profiled at ~28% of the windows process (BENCHMARKS.md). The bytes are what
    Faust's table recovery reads back: JSON keys and values, tombstones for deletes (memory store:
    recovery replays the whole changelog, no offsets to track)."""

    def __init__(self, table: Any, sender: BatchSender) -> None:
        self._table = table
        self._sender = sender
        self._pending: list[Record] = []

    def put(self, partition: int, key: str, value: Any) -> None:
        self._table.data[key] = value
        self._pending.append((partition, orjson.dumps(key), orjson.dumps(value)))

    def delete(self, partition: int, key: str) -> None:
        self._table.data.pop(key, None)
        self._pending.append((partition, orjson.dumps(key), None))

    async def flush(self) -> None:
        pending, self._pending = self._pending, []
        if pending:
            await self._sender.send_all(self._table.changelog_topic.get_topic_name(), pending)
