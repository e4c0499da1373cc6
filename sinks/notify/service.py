"""`pulse notify`: a consumer group on social.alerts feeding one channel per subscriber.

Offsets are committed only up to the last message every subscriber it was routed to has delivered
or dead-lettered (`OffsetProgress`); the per-subscriber ledger remembers finer-grained progress, so
after a crash the messages read again are sent only to the subscribers that had not got them yet.
"""

from __future__ import annotations

import asyncio
import logging
import time
from pathlib import Path
from typing import Any

import orjson
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRebalanceListener, TopicPartition
from aiokafka.errors import CommitFailedError, IllegalStateError, KafkaError

from schemas.topics import TopicNames
from sinks.notify.alert import parse_alert
from sinks.notify.config import NotifyConfig
from sinks.notify.dead_letters import source, unreadable_record
from sinks.notify.delivery import SubscriberChannel, Work
from sinks.notify.ledger import DeliveryLedger
from sinks.notify.progress import OffsetProgress, Partition
from streams.settings import Settings

log = logging.getLogger("pulse.notify")

# Alert changes waiting for one subscriber before reading pauses: alerts are rare (a few a minute),
# so this is hours of backlog for a subscriber that is down, in bounded memory.
QUEUE_LIMIT = 10_000
PRUNE_EVERY_S = 3600.0


def ledger_path(settings: Settings) -> Path:
    deployment = settings.topic_prefix.rstrip(".") or "default"
    return settings.data_dir / "notify" / deployment / "ledger.sqlite3"


def group_id(settings: Settings) -> str:
    return f"{settings.topic_prefix}pulse-notify"


class NotifyService:
    def __init__(self, settings: Settings, config: NotifyConfig, ledger: DeliveryLedger) -> None:
        self.settings = settings
        self.names = TopicNames(settings.topic_prefix)
        self.ledger = ledger
        self.stopping = asyncio.Event()
        self.progress = OffsetProgress()
        self.channels = [SubscriberChannel(sub, ledger, self._dead_letter, self.stopping)
                         for sub in config.subscribers]
        self.consumer = AIOKafkaConsumer(
            bootstrap_servers=settings.kafka_bootstrap,
            group_id=group_id(settings),
            client_id="pulse-notify",
            enable_auto_commit=False,
            auto_offset_reset=settings.notify_start,
            session_timeout_ms=int(settings.session_timeout_s * 1000),
            heartbeat_interval_ms=int(min(3.0, settings.session_timeout_s / 3) * 1000),
            request_timeout_ms=30000,
            metadata_max_age_ms=15_000,
        )
        self.producer = AIOKafkaProducer(bootstrap_servers=settings.kafka_bootstrap, client_id="pulse-notify",
                                         acks="all", request_timeout_ms=30000)

    async def _dead_letter(self, record: dict[str, Any], key: str | None) -> None:
        await self.producer.send_and_wait(self.names.notify_dlq, orjson.dumps(record),
                                          key=key.encode() if key is not None else None)

    async def start(self) -> list[str]:
        """Connect (Kafka errors propagate) and subscribe; returns the topics that are missing, if any."""
        await self.consumer.start()
        await self.producer.start()
        topics = await self.consumer.topics()
        missing = [t for t in (self.names.alerts, self.names.notify_dlq) if t not in topics]
        if not missing:
            self.consumer.subscribe([self.names.alerts], listener=_Rebalance(self))
        return missing

    async def close(self) -> None:
        await self.consumer.stop()
        await self.producer.stop()

    async def run(self) -> None:
        tasks = [asyncio.create_task(ch.run(), name=f"notify-{ch.sub.name}") for ch in self.channels]
        try:
            await self._consume(tasks)
        finally:
            self.stopping.set()
            # In-flight attempts finish (bounded by their timeout) and are recorded; nothing new starts.
            grace = max(ch.sub.timeout_s for ch in self.channels) + 2.0
            _, late = await asyncio.wait(tasks, timeout=grace)
            for task in late:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            await self._commit()

    async def _consume(self, tasks: list[asyncio.Task[None]]) -> None:
        pruned_at = 0.0
        while not self.stopping.is_set():
            for task in tasks:
                if task.done() and not task.cancelled() and task.exception() is not None:
                    raise task.exception()  # type: ignore[misc]
            if time.time() - pruned_at > PRUNE_EVERY_S:
                pruned_at = time.time()
                self.ledger.prune(pruned_at)
            self._apply_backpressure()
            batches = await self.consumer.getmany(timeout_ms=200, max_records=500)
            for tp, records in batches.items():
                for record in records:
                    await self._route(tp, record)
            await self._commit()

    def _apply_backpressure(self) -> None:
        assigned = self.consumer.assignment()
        if any(ch.queued() >= QUEUE_LIMIT for ch in self.channels):
            if assigned - self.consumer.paused():
                log.warning("notify: a subscriber has %d changes waiting; reading pauses", QUEUE_LIMIT)
            self.consumer.pause(*assigned)
        elif self.consumer.paused():
            self.consumer.resume(*self.consumer.paused())

    async def _route(self, tp: TopicPartition, record: Any) -> None:
        partition: Partition = (tp.topic, tp.partition)
        where = source(tp.topic, tp.partition, record.offset)
        try:
            change = parse_alert(record.value)
        except ValueError as exc:
            # Not deliverable to anyone; recorded with the reason instead of dropped silently.
            log.error("notify: %s[%d]@%d is not an alert change (%s); sent to the notify dead-letter topic",
                      tp.topic, tp.partition, record.offset, exc)
            dead = unreadable_record(str(exc), record.value, time.time(), where)
            failures = 0
            while True:
                try:
                    await self._dead_letter(dead, None)
                    break
                except (KafkaError, OSError):
                    failures += 1
                    if failures >= 10:
                        raise
                    await asyncio.sleep(min(30.0, 0.5 * 2 ** failures))
            self.progress.track(partition, record.offset, 0)
            return
        targets = [ch for ch in self.channels if ch.sub.filter.matches(change)]
        message = self.progress.track(partition, record.offset, len(targets))
        for channel in targets:
            channel.put(Work(change, message, where))

    async def _commit(self, only: set[Partition] | None = None) -> None:
        offsets = self.progress.committable()
        if only is not None:
            offsets = {p: o for p, o in offsets.items() if p in only}
        if not offsets:
            return
        try:
            await self.consumer.commit({TopicPartition(t, p): o for (t, p), o in offsets.items()})
        except (CommitFailedError, IllegalStateError) as exc:
            log.info("notify: commit skipped after a rebalance: %s", exc)
            return
        self.progress.committed(offsets)


class _Rebalance(ConsumerRebalanceListener):  # type: ignore[misc]
    def __init__(self, service: NotifyService) -> None:
        self.service = service

    async def on_partitions_revoked(self, revoked: set[TopicPartition]) -> None:
        gone = {(tp.topic, tp.partition) for tp in revoked}
        await self.service._commit(only=gone)
        self.service.progress.forget(list(gone))

    async def on_partitions_assigned(self, assigned: set[TopicPartition]) -> None:
        log.info("notify: reading %d partition(s) of %s", len(assigned), self.service.names.alerts)
