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

from schemas.event import CanonicalEvent
from schemas.topics import TopicNames
from sinks.clickhouse_writer import ClickHouseWriter
from sinks.event_rows import EVENT_COLUMNS, event_columns
from streams import metrics
from streams.dedupe import DedupeState, PackRecord
from streams.enrich import Enricher
from streams.enrich.language import LanguageDetector
from streams.enrich.sentiment import SentimentScorer
from streams.enrich.watchlist import Watchlist
from streams.routing import unpack
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

    def keys(self) -> int:
        return sum(len(s) for s in self._states.values())


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
        async for batch in stream.noack_take(64, within=settings.batch_within_s):
            new: list[CanonicalEvent] = []
            touched: dict[int, DedupeState] = {}
            duplicates = 0
            for event in batch:
                msg = event.message
                state = touched.get(msg.partition) or states.get(msg.partition)
                touched[msg.partition] = state
                for ev in unpack(msg.value):
                    if not state.admit(ev, msg.offset):
                        duplicates += 1
                        continue
                    enricher.enrich(ev, state.inherited(ev))
                    state.remember_post(ev, msg.offset)
                    new.append(ev)
            now_ms = int(time.time() * 1000)
            if new:
                await writer.insert(event_columns(new, now_ms))
                sends = [await app.producer.send(names.events, ev.key.encode(), orjson.dumps(ev.to_output(now_ms)),
                                                 None, None, None) for ev in new]
                await asyncio.gather(*sends)
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
