"""social.keyed → dedupe → enrich → ClickHouse `events_local` and `social.events`.

Per batch of packs, in this order: decide and enrich (state in memory), insert into ClickHouse
(retrying until acknowledged), produce to social.events, persist the dedupe records to the
table's changelog, and only then ack the packs. A crash anywhere before the ack replays the
packs; `DedupeState` re-emits exactly the events those packs emitted, and ClickHouse collapses
the repeated rows.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

import faust
import orjson
from aiokafka import AIOKafkaConsumer, TopicPartition

from schemas.event import CanonicalEvent, format_time_ms
from schemas.topics import TopicNames
from sinks.clickhouse_writer import ClickHouseWriter
from sinks.event_rows import EVENT_COLUMNS, event_columns
from streams import metrics
from streams.dedupe import DedupeState, PackRecord
from streams.enrich import Enricher
from streams.enrich.language import LanguageDetector
from streams.enrich.sentiment import SentimentScorer
from streams.enrich.watchlist import Watchlist
from streams.kafka_batch import BatchSender, Record, make_producer
from streams.routing import partition_for_bytes, unpack
from streams.settings import Settings

log = logging.getLogger(__name__)


class PartitionStates:
    """DedupeState per owned partition, rebuilt from the Faust table after every (re)assignment."""

    def __init__(self, table: Any, horizon_ms: int) -> None:
        self._table = table
        self._horizon_ms = horizon_ms
        self._states: dict[int, DedupeState] = {}

    def get(self, partition: int) -> DedupeState:
        state = self._states.get(partition)
        if state is None:
            state = DedupeState(self._horizon_ms)
            prefix = f"{partition}:"
            loaded = 0
            for key, value in list(self._table.data.items()):
                if isinstance(key, str) and key.startswith(prefix) and value:
                    state.load(int(key[len(prefix):]), PackRecord.from_json(value))
                    loaded += 1
            log.info("partition %d: dedupe state rebuilt from %d records, %d keys", partition, loaded, len(state))
            self._states[partition] = state
        return state

    def forget(self, partitions: set[int]) -> None:
        for p in partitions:
            self._states.pop(p, None)


class PackReader:
    """Reads a range of social.keyed packs straight from Kafka (no consumer group)."""

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
            log.error("partition %d: packs %d..%d were deleted by retention before they were processed",
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


def event_records(events: list[CanonicalEvent], partitions: int, now_ms: int) -> list[Record]:
    """social.events messages, keyed (and partitioned) by dedupe key."""
    ingested_at = format_time_ms(now_ms)
    records: list[Record] = []
    for ev in events:
        key = ev.key.encode()
        records.append((partition_for_bytes(key, partitions), key, orjson.dumps(ev.to_output(ingested_at))))
    return records


def build_enricher(settings: Settings) -> Enricher:
    watchlist = Watchlist.from_file(settings.watchlist_file) if settings.watchlist_file else Watchlist.empty()
    return Enricher(watchlist, LanguageDetector(), SentimentScorer())


def register_store(app: faust.App, settings: Settings) -> None:
    names = TopicNames(settings.topic_prefix)
    keyed_topic = app.topic(names.keyed, value_serializer="raw", key_serializer="raw")
    # Keys "partition:offset" of a pack, values its PackRecord; both serialized as JSON.
    table = app.Table("dedupe", default=None, partitions=settings.topic_partitions)
    states = PartitionStates(table, settings.dedupe_horizon_s * 1000)
    enricher = build_enricher(settings)
    writer = ClickHouseWriter(settings.clickhouse, "events_local", EVENT_COLUMNS,
                              max_backoff_s=settings.sink_retry_max_s)

    @app.on_partitions_revoked.connect
    async def _on_revoked(sender: Any, /, *args: Any, signal: Any, **kwargs: Any) -> None:
        # Another worker may own these partitions next and write to their state: rebuild on return.
        revoked = args[0] if args else kwargs.get("revoked", set())
        states.forget({tp.partition for tp in revoked if tp.topic == names.keyed})

    @app.agent(keyed_topic, name="store")
    async def store(stream: Any) -> None:
        producer = make_producer(settings, f"{app.conf.id}-store")
        gaps = PackReader(settings, names.keyed)
        await producer.start()
        try:
            await store_batches(stream, BatchSender(producer), gaps)
        finally:
            await producer.stop()
            await gaps.stop()

    async def store_batches(stream: Any, sender: BatchSender, gaps: PackReader) -> None:
        events_partitions = await sender.partitions(names.events)
        async for batch in stream.noack_take(64, within=settings.batch_within_s):
            new: list[CanonicalEvent] = []
            touched: dict[int, DedupeState] = {}
            duplicates = 0
            for event in batch:
                msg = event.message
                state = touched.get(msg.partition) or states.get(msg.partition)
                touched[msg.partition] = state
                missing = state.missing_before(msg.offset)
                packs = [(msg.offset, msg.value)]
                if missing:
                    log.warning("partition %d: packs %d..%d were skipped by the consumer; reading them directly",
                                msg.partition, missing.start, missing.stop - 1)
                    packs = [*await gaps.read(msg.partition, missing.start, missing.stop), *packs]
                for offset, value in packs:
                    state.open_pack(offset)
                    for ev in unpack(value):
                        if not state.admit(ev, offset):
                            duplicates += 1
                            continue
                        enricher.enrich(ev, state.inherited(ev))
                        state.remember_post(ev, offset)
                        new.append(ev)
            now_ms = int(time.time() * 1000)
            if new:
                await writer.insert(event_columns(new, now_ms))
                await sender.send_all(names.events, event_records(new, events_partitions, now_ms))
            changelog = []
            for partition, state in touched.items():
                for offset, record in state.close_batch().items():
                    key, value = f"{partition}:{offset}", record.to_json()
                    table.data[key] = value
                    changelog.append(table.send_changelog(partition, key, value))
                for offset in state.expire():
                    key = f"{partition}:{offset}"
                    table.data.pop(key, None)
                    changelog.append(table.send_changelog(partition, key, None))
            if changelog:
                await asyncio.gather(*changelog)
            metrics.DUPLICATES.inc(duplicates)
            metrics.EVENTS_STORED.inc(len(new))
            for event in batch:
                event.ack()
