"""social.keyed → unique, enriched events in ClickHouse (and, with the core issue, social.events)."""

from __future__ import annotations

import time
from typing import Any

import faust

from schemas.event import CanonicalEvent
from schemas.topics import TopicNames
from sinks.clickhouse_writer import ClickHouseWriter
from sinks.event_rows import EVENT_COLUMNS, event_columns
from streams import metrics
from streams.routing import unpack
from streams.settings import Settings


def register_store(app: faust.App, settings: Settings) -> None:
    names = TopicNames(settings.topic_prefix)
    keyed_topic = app.topic(names.keyed, value_serializer="raw", key_serializer="raw")
    writer = ClickHouseWriter(settings.clickhouse, "events_local", EVENT_COLUMNS,
                              max_backoff_s=settings.sink_retry_max_s)

    @app.agent(keyed_topic, name="store")
    async def store(stream: Any) -> None:
        async for batch in stream.noack_take(64, within=settings.batch_within_s):
            events: list[CanonicalEvent] = []
            for event in batch:
                events.extend(unpack(event.message.value))
            if events:
                await writer.insert(event_columns(events, int(time.time() * 1000)))
                metrics.EVENTS_STORED.inc(len(events))
            for event in batch:
                event.ack()
