"""social.raw → validated events packed by owning partition on social.keyed; rejects → social.dlq.

Offsets of `social.raw` are acked only after every output of the batch is acknowledged by Kafka.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

import faust
import orjson

from schemas.event import CanonicalEvent
from schemas.topics import TopicNames
from streams import metrics
from streams.dead_letter import dead_letter_record
from streams.normalize import Rejection, normalize
from streams.routing import pack_by_partition
from streams.settings import Settings


def register_router(app: faust.App, settings: Settings) -> None:
    names = TopicNames(settings.topic_prefix)
    raw_topic = app.topic(names.raw, value_serializer="raw", key_serializer="raw", allow_empty=True)

    @app.agent(raw_topic, name="route")
    async def route(stream: Any) -> None:
        async for batch in stream.noack_take(settings.batch_max, within=settings.batch_within_s):
            good: list[CanonicalEvent] = []
            sends: list[Any] = []
            now_ms = int(time.time() * 1000)
            for event in batch:
                msg = event.message
                result = normalize(msg.value, settings.max_message_bytes)
                if isinstance(result, Rejection):
                    metrics.DEAD_LETTERS.labels(result.reason.split(":", 1)[0]).inc()
                    record = dead_letter_record(result.reason, msg.topic, msg.partition, msg.offset,
                                                msg.value, now_ms)
                    sends.append(await app.producer.send(names.dlq, None, orjson.dumps(record), None, None, None))
                else:
                    good.append(result)
            metrics.EVENTS_IN.inc(len(batch))
            for partition, value in pack_by_partition(good, settings.topic_partitions).items():
                sends.append(await app.producer.send(names.keyed, None, value, partition, None, None))
            if sends:
                await asyncio.gather(*sends)
            for event in batch:
                event.ack()
