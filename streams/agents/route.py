"""social.raw → validated events packed by owning partition on social.keyed; rejects → social.dlq.

This stage is stateless and sees every raw message, so it reads `social.raw` with aiokafka's
batch `getmany` inside the Faust worker instead of a Faust stream: profiling showed Faust's
per-message stream machinery taking ~70% of this stage's CPU (BENCHMARKS.md).
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from typing import Any

import orjson
from aiokafka import AIOKafkaProducer

from schemas.adapters.output import AdapterLimits
from schemas.event import CanonicalEvent
from schemas.topics import TopicNames
from streams import metrics
from streams.agents.batch_service import BatchConsumerService
from streams.dead_letter import dead_letter_record
from streams.kafka_batch import BatchSender, Record, make_producer
from streams.normalize import DEFAULT_ADAPTER_LIMITS, Rejection, normalize
from streams.routing import EventClocks, pack_by_partition
from streams.settings import Settings


def route_batch(
    records: list[Any], partitions: int, dlq_partitions: int, max_bytes: int, now_ms: int,
    clocks: EventClocks | None = None, limits: AdapterLimits = DEFAULT_ADAPTER_LIMITS,
) -> tuple[list[Record], list[Record]]:
    """Raw consumer records → (DLQ records, keyed packs). Advances `clocks` (raw partition →
    newest event time read) and stamps every pack with them. A platform envelope may yield several
    events (and at most one dead letter, for the parts of it that could not be read)."""
    good: list[CanonicalEvent] = []
    dead: list[Record] = []
    clocks = {} if clocks is None else clocks
    for rec in records:
        result = normalize(rec.value, max_bytes, limits)
        if isinstance(result, CanonicalEvent):  # canonical input: the hot path
            good.append(result)
            if result.occurred_at_ms > clocks.get(rec.partition, 0):
                clocks[rec.partition] = result.occurred_at_ms
        elif isinstance(result, Rejection):
            dead.append(_dead_letter(rec, result, dlq_partitions, now_ms))
        else:
            for item in result:
                if isinstance(item, Rejection):
                    dead.append(_dead_letter(rec, item, dlq_partitions, now_ms))
                    continue
                good.append(item)
                if item.occurred_at_ms > clocks.get(rec.partition, 0):
                    clocks[rec.partition] = item.occurred_at_ms
    metrics.EVENTS_IN.inc(len(records))
    # One labelled increment per distinct (platform, kind) of the batch, not one per event.
    for (platform, kind), count in Counter((ev.platform, ev.kind) for ev in good).items():
        metrics.EVENTS_VALID.labels(platform, kind).inc(count)
    packs: list[Record] = [(p, None, value) for p, value in pack_by_partition(good, partitions, clocks).items()]
    return dead, packs


def _dead_letter(rec: Any, rejection: Rejection, dlq_partitions: int, now_ms: int) -> Record:
    metrics.DEAD_LETTERS.labels(rejection.reason.split(":", 1)[0]).inc()
    dlq = dead_letter_record(rejection.reason, rec.topic, rec.partition, rec.offset, rec.value, now_ms)
    return (rec.partition % dlq_partitions, None, orjson.dumps(dlq))


class RawRouter(BatchConsumerService):
    """Consumer group `<app id>-route` on social.raw; runs inside every worker."""

    stage = "route"
    # Packs (one per keyed partition per batch) are what the store and windows stages pay for per
    # row and per message: at 10,000 events/s, 0.2 s batches cut the alert latency's p50 from
    # 2.4-3.6 s to 0.9 s against 0.1 s (BENCHMARKS.md, Session 7): the CPU saved is worth more than
    # the 0.1 s waited.
    linger_s = 0.2
    # The broker holds a fetch until 256 KiB (~600 raw events) or 50 ms: under load that is a
    # fetch every ~60 ms instead of every ~3 ms, and at low rates 50 ms more before a batch starts.
    fetch_min_bytes = 256 * 1024
    fetch_wait_s = 0.05

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._names = TopicNames(self.settings.topic_prefix)
        self._producer: AIOKafkaProducer | None = None
        self._clocks: EventClocks = {}
        self._limits = AdapterLimits(self.settings.adapter_counter_cap, self.settings.dedupe_horizon_s * 1000)

    def topic(self) -> str:
        return self._names.raw

    async def on_start(self) -> None:
        # Made here, inside the running loop (aiokafka requires one; the service may be built outside).
        self._producer = make_producer(self.settings, f"{self.app_id}-route")
        self._sender = BatchSender(self._producer)
        await self._producer.start()
        await super().on_start()

    async def on_stop(self) -> None:
        await super().on_stop()
        if self._producer is not None:
            await self._producer.stop()

    async def handle(self, records: list[Any]) -> None:
        keyed = await self._sender.partitions(self._names.keyed)
        dlq = await self._sender.partitions(self._names.dlq)
        dead, packs = route_batch(records, keyed, dlq, self.settings.max_message_bytes, int(time.time() * 1000),
                                  self._clocks, self._limits)
        await asyncio.gather(self._sender.send_all(self._names.dlq, dead),
                             self._sender.send_all(self._names.keyed, packs))


def route_services(settings: Settings, app_id: str, first: bool) -> list[type[BatchConsumerService]]:
    """What a route process runs: the router, and in the first one the ClickHouse events and
    dead-letter sinks (stateless like the router, and off the store's path)."""
    from streams.agents.dead_letters import DeadLetterSink
    from streams.agents.events_sink import EventsSink

    stages: list[type[BatchConsumerService]] = [RawRouter.bound(settings, app_id)]
    if first:
        stages += [EventsSink.bound(settings, app_id), DeadLetterSink.bound(settings, app_id)]
    return stages
