"""social.events → ClickHouse `events_local`, committed only after the insert: the ClickHouse
sink of CONTRACT.md.

A consumer group of its own, run beside the route stage (its child process by default), so
building inserts never competes with the store, whose decisions are on the alert path. Rows are
batched by time (`sink_insert_interval_s`: every insert is a part ClickHouse writes, runs the
materialized views over and merges later) and by size (MAX_ROWS_PER_INSERT). While ClickHouse is
unreachable the insert retries with backoff and nothing more is consumed (backpressure); the
offsets advance only after ClickHouse acknowledged the rows. A batch inserted again after a crash
collapses into the same rows (ReplacingMergeTree on the dedupe key), and engagement_by_minute
counts sets of dedupe keys, so every count stays exact.
"""

from __future__ import annotations

from typing import Any

from schemas.topics import TopicNames
from sinks.clickhouse_writer import ClickHouseWriter
from sinks.event_rows import EVENT_COLUMNS, EVENTS_FROM_JSON
from streams import metrics
from streams.agents.batch_service import SINK_FETCH_MIN_BYTES, BatchConsumerService

# A backlog is inserted in big parts (fewer parts to write and merge); live traffic in one insert
# per `sink_insert_interval_s`.
MAX_ROWS_PER_INSERT = 50_000


class EventsSink(BatchConsumerService):
    stage = "events-sink"
    fetch_min_bytes = SINK_FETCH_MIN_BYTES

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.linger_s = self.settings.sink_insert_interval_s
        self._writer = ClickHouseWriter(self.settings.clickhouse, "events_local",
                                        max_backoff_s=self.settings.sink_retry_max_s)

    def topic(self) -> str:
        return TopicNames(self.settings.topic_prefix).events

    def batch_limit(self) -> int:
        return MAX_ROWS_PER_INSERT

    async def handle(self, records: list[Any]) -> None:
        values = [r.value for r in records if r.value]
        await self._writer.insert_parsed(EVENT_COLUMNS, EVENTS_FROM_JSON, values)
        metrics.EVENTS_STORED.inc(len(values))

