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
        tuple[BatchSender, BatchSender, PartitionReader]]:
    """Two started producers (as BatchSenders): one for bulk outputs and state, one for what the
    alert path waits on; and a reader for input gaps. All of them, and the changelog's reader,
    stopped on exit.

    Why two: aiokafka has one produce request in flight per broker and producer, so a small record
    on the alert path would otherwise wait behind megabytes of social.events or engagement records."""
    producer = make_producer(settings, client_id)
    urgent = make_producer(settings, f"{client_id}-alert-path")
    gaps = PartitionReader(settings, input_topic)
    await producer.start()
    try:
        await urgent.start()
        try:
            yield BatchSender(producer), BatchSender(urgent), gaps
        finally:
            await urgent.stop()
    finally:
        await producer.stop()
        await gaps.stop()
        await changelog.close()
