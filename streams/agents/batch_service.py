"""A consumer-group stage inside the Faust worker that reads with aiokafka's batch `getmany`.

Used for the stateless stages (route, the events and dead-letter sinks): no per-message stream
machinery, and offsets are committed by this class only after `handle` returned, i.e. after the
batch's effects are durable. A failed batch is rewound and retried with backoff; a batch whose partitions moved
meanwhile is left to their new owner (at-least-once; every effect downstream is idempotent).
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any, TypeVar

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.errors import CommitFailedError, IllegalStateError, KafkaError
from mode import Service

from streams import metrics
from streams.agents.collection import collection_deferred
from streams.agents.stage_metrics import observe_lag
from streams.settings import Settings

log = logging.getLogger(__name__)

S = TypeVar("S", bound="BatchConsumerService")


# The ClickHouse sinks insert at most once per `sink_insert_interval_s`: their fetches may wait for
# 1 MiB (measured: 112 fetches instead of ~5,700 for 190,000 messages in 20 s).
SINK_FETCH_MIN_BYTES = 1024 * 1024


def broker_fetch_wait(linger_s: float, min_bytes: int, wait_s: float) -> dict[str, int]:
    """aiokafka's fetch_min_bytes and fetch_max_wait_ms for a stage that lingers `linger_s`: the
    broker waits for `min_bytes` at most `wait_s`, and no longer than the stage would have waited
    itself; a stage that does not linger gets every record as soon as it is there."""
    if linger_s <= 0 or min_bytes <= 1:
        return {"fetch_min_bytes": 1, "fetch_max_wait_ms": 500}
    return {"fetch_min_bytes": min_bytes, "fetch_max_wait_ms": max(1, int(1000 * min(linger_s, wait_s)))}


class BatchConsumerService(Service):
    settings: Settings
    app_id: str
    stage: str = "stage"
    # After the first records of a batch arrive, keep collecting this long (up to batch_max):
    # under live traffic a stage that handled every trickle would send many tiny messages
    # downstream, and the next stage pays per message.
    linger_s: float = 0.0
    # A lingering stage collects for `linger_s` anyway, so the broker may hold its fetches until
    # this many bytes are there (at most `fetch_wait_s`, never beyond the linger). With aiokafka's
    # default of 1 byte the fetcher asks again as soon as a fetch returns: at 10,000 messages/s
    # ~285 fetches/s of a few dozen records each, ~25 us per message of client and broker CPU
    # (BENCHMARKS.md, Session 13).
    fetch_min_bytes: int = 1
    fetch_wait_s: float = 0.5

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._consumer: AIOKafkaConsumer | None = None

    @classmethod
    def bound(cls: type[S], settings: Settings, app_id: str) -> type[S]:
        """The stage for one app: mode builds services from classes, so settings ride on a subclass."""
        return type(f"{cls.__name__}ForApp", (cls,), {"settings": settings, "app_id": app_id})

    def topic(self) -> str:
        raise NotImplementedError

    def batch_limit(self) -> int:
        """Most records handled at once."""
        return self.settings.batch_max

    async def handle(self, records: list[Any]) -> None:
        """Make the batch's effects durable; raise to have it retried."""
        raise NotImplementedError

    async def on_start(self) -> None:
        s = self.settings
        self._consumer = AIOKafkaConsumer(
            self.topic(),
            bootstrap_servers=s.kafka_bootstrap,
            group_id=f"{self.app_id}-{self.stage}",
            client_id=f"{self.app_id}-{self.stage}-{s.worker_id}",
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            max_partition_fetch_bytes=8 * 1024 * 1024,
            fetch_max_bytes=64 * 1024 * 1024,
            **broker_fetch_wait(self.linger_s, self.fetch_min_bytes, self.fetch_wait_s),
            session_timeout_ms=int(s.session_timeout_s * 1000),
            heartbeat_interval_ms=int(min(3.0, s.session_timeout_s / 3) * 1000),
            max_poll_interval_ms=600_000,
            # Notice a topic created after the worker started within seconds, not aiokafka's 5 minutes.
            metadata_max_age_ms=15_000,
        )
        await self._consumer.start()

    async def on_stop(self) -> None:
        if self._consumer is not None:
            await self._consumer.stop()

    async def _linger(self, consumer: AIOKafkaConsumer, batches: dict[Any, list[Any]]) -> None:
        """Add what arrives within `linger_s` to `batches` (in order per partition)."""
        count = sum(len(recs) for recs in batches.values())
        limit = self.batch_limit()
        deadline = asyncio.get_running_loop().time() + self.linger_s
        while count < limit:
            left = deadline - asyncio.get_running_loop().time()
            if left <= 0:
                return
            more = await consumer.getmany(timeout_ms=max(1, int(left * 1000)),
                                          max_records=limit - count)
            for tp, recs in more.items():
                batches.setdefault(tp, []).extend(recs)
                count += len(recs)

    @Service.task
    async def _consume(self) -> None:
        assert self._consumer is not None
        consumer, s = self._consumer, self.settings
        failures = 0
        while not self.should_stop:
            batches = await consumer.getmany(timeout_ms=int(s.batch_within_s * 1000), max_records=self.batch_limit())
            if not batches:
                continue
            await self._linger(consumer, batches)
            records = [rec for recs in batches.values() for rec in recs]
            try:
                with collection_deferred():
                    await self.handle(records)
            except (KafkaError, OSError) as exc:
                failures += 1
                delay = min(30.0, 0.5 * 2 ** min(failures, 6))
                log.warning("%s: batch failed (%s); retrying in %.1fs", self.stage, exc, delay)
                assigned = consumer.assignment()
                for tp, recs in batches.items():
                    if tp in assigned:  # a partition revoked meanwhile is its new owner's to read
                        consumer.seek(tp, recs[0].offset)
                await asyncio.sleep(delay)
                continue
            failures = 0
            self._observe(consumer, batches, len(records))
            offsets = {TopicPartition(tp.topic, tp.partition): recs[-1].offset + 1 for tp, recs in batches.items()}
            try:
                await consumer.commit(offsets)
            except (CommitFailedError, IllegalStateError) as exc:
                log.info("%s: commit after rebalance skipped: %s", self.stage, exc)

    def _observe(self, consumer: AIOKafkaConsumer, batches: dict[Any, list[Any]], count: int) -> None:
        """Batch metrics: size, latency of the oldest message per partition, lag per partition."""
        now = time.time()
        metrics.BATCH_MESSAGES.labels(self.stage).observe(count)
        latency = metrics.PROCESSING_SECONDS.labels(self.stage)
        for recs in batches.values():
            latency.observe(max(0.0, now - recs[0].timestamp / 1000))
        observe_lag(self.stage, consumer, {tp: recs[-1].offset for tp, recs in batches.items()})
