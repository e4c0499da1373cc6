"""What the stateful agents (store, windows) share: their producer and gap reader, and changelog writes."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from streams.agents.pack_reader import PackReader
from streams.kafka_batch import BatchSender, make_producer
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
    """Writes to a Faust table — its in-memory data and its changelog topic — collected per batch,
    so the batch is acked only after every write was acknowledged (`flush`)."""

    def __init__(self, table: Any) -> None:
        self._table = table
        self._pending: list[Any] = []

    def put(self, partition: int, key: str, value: Any) -> None:
        self._table.data[key] = value
        self._pending.append(self._table.send_changelog(partition, key, value))

    def delete(self, partition: int, key: str) -> None:
        self._table.data.pop(key, None)
        self._pending.append(self._table.send_changelog(partition, key, None))

    async def flush(self) -> None:
        pending, self._pending = self._pending, []
        if pending:
            await asyncio.gather(*pending)
