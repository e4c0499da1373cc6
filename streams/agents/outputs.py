"""What the stateful agents (store, windows) share: their producer, gap reader and changelog."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from streams.agents.changelog import Changelog
from streams.agents.partition_reader import PartitionReader
from streams.kafka_batch import BatchSender, make_producer
from streams.settings import Settings


@asynccontextmanager
async def agent_outputs(settings: Settings, client_id: str, input_topic: str, changelog: Changelog) -> AsyncIterator[
        tuple[BatchSender, PartitionReader]]:
    """A started producer (as a BatchSender) and a reader for input gaps; both, and the changelog's
    reader, stopped on exit."""
    producer = make_producer(settings, client_id)
    gaps = PartitionReader(settings, input_topic)
    await producer.start()
    try:
        yield BatchSender(producer), gaps
    finally:
        await producer.stop()
        await gaps.stop()
        await changelog.close()
