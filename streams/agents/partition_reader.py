"""Reading one topic partition straight from Kafka, outside any consumer group.

Two uses: the stateful agents read gaps their Faust consumer skipped (seen around rebalances
after a crash in our kill tests), and rebuild a partition's state from its changelog partition.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from typing import Any

from aiokafka import AIOKafkaConsumer, TopicPartition

from streams.settings import Settings

log = logging.getLogger(__name__)


class PartitionReader:
    """Reads offset ranges of the partitions of one topic, one partition at a time."""

    def __init__(self, settings: Settings, topic: str) -> None:
        self._settings = settings
        self.topic = topic
        self._consumer: AIOKafkaConsumer | None = None

    async def _started(self) -> AIOKafkaConsumer:
        if self._consumer is None:
            consumer = AIOKafkaConsumer(bootstrap_servers=self._settings.kafka_bootstrap,
                                        enable_auto_commit=False, group_id=None,
                                        max_partition_fetch_bytes=8 * 1024 * 1024,
                                        fetch_max_bytes=64 * 1024 * 1024,
                                        # A read ends at a known offset: never wait for more data.
                                        # (aiokafka's 500 ms long poll made every partition's state
                                        # load take half a second, even an empty one.)
                                        fetch_max_wait_ms=10)
            await consumer.start()
            self._consumer = consumer
        return self._consumer

    async def chunks(self, partition: int, start: int = 0, stop: int | None = None) -> AsyncIterator[list[Any]]:
        """The records of offsets [start, stop) as fetched, in order; `stop` None: up to the end
        offset at the time of the call. Offsets deleted by retention are reported and skipped."""
        consumer = await self._started()
        tp = TopicPartition(self.topic, partition)
        consumer.assign([tp])
        first = (await consumer.beginning_offsets([tp]))[tp]
        if stop is None:
            stop = (await consumer.end_offsets([tp]))[tp]
        if first > start and start < stop:
            log.error("%s partition %d: messages %d..%d were deleted by retention before they were read",
                      self.topic, partition, start, min(first, stop) - 1)
        consumer.seek(tp, max(start, first))
        try:
            while await consumer.position(tp) < stop:
                records = (await consumer.getmany(tp, timeout_ms=1000)).get(tp, [])
                chunk = [r for r in records if r.offset < stop]
                if chunk:
                    yield chunk
        finally:
            # Left assigned, the partition would be fetched on in the background: every 10 ms
            # while nothing comes (fetch_max_wait_ms), for as long as the worker runs.
            consumer.pause(tp)

    async def read(self, partition: int, start: int, stop: int) -> list[tuple[int, bytes]]:
        """(offset, value) of the non-empty messages at offsets [start, stop)."""
        return [(r.offset, r.value) async for chunk in self.chunks(partition, start, stop)
                for r in chunk if r.value is not None]

    async def stop(self) -> None:
        if self._consumer is not None:
            await self._consumer.stop()
            self._consumer = None
