"""Reading a range of a topic partition straight from Kafka, outside any consumer group.

Faust's consumer can skip messages around a rebalance after a crash (seen in our kill tests);
the stateful agents record the newest offset they processed and read any gap with this.
"""

from __future__ import annotations

import logging

from aiokafka import AIOKafkaConsumer, TopicPartition

from streams.settings import Settings

log = logging.getLogger(__name__)


class PackReader:
    """Reads offsets [start, stop) of one partition of `topic`."""

    def __init__(self, settings: Settings, topic: str) -> None:
        self._settings = settings
        self._topic = topic
        self._consumer: AIOKafkaConsumer | None = None

    async def read(self, partition: int, start: int, stop: int) -> list[tuple[int, bytes]]:
        if self._consumer is None:
            self._consumer = AIOKafkaConsumer(bootstrap_servers=self._settings.kafka_bootstrap,
                                              enable_auto_commit=False, group_id=None,
                                              max_partition_fetch_bytes=8 * 1024 * 1024)
            await self._consumer.start()
        consumer = self._consumer
        tp = TopicPartition(self._topic, partition)
        consumer.assign([tp])
        first = (await consumer.beginning_offsets([tp]))[tp]
        if first > start:
            log.error("partition %d: messages %d..%d were deleted by retention before they were processed",
                      partition, start, first - 1)
        consumer.seek(tp, max(start, first))
        out: list[tuple[int, bytes]] = []
        while await consumer.position(tp) < stop:
            for record in (await consumer.getmany(tp, timeout_ms=1000)).get(tp, []):
                if record.offset < stop and record.value is not None:
                    out.append((record.offset, record.value))
        return out

    async def stop(self) -> None:
        if self._consumer is not None:
            await self._consumer.stop()
