"""social.dlq → ClickHouse `dead_letters`, committed only after the insert.

Rows are keyed by where the rejected input came from, so a batch written twice is one row each.
Like the events sink it inserts at most once per `sink_insert_interval_s` and runs in the first
route process (in the worker when there is none): in the store's process, under live traffic with
~1% malformed input, its small inserts (each with clickhouse-driver's connection ping) took 5.5% of
that process's samples (py-spy, BENCHMARKS.md Session 11), beside deciding, which is on the alert path.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import orjson

from schemas.topics import TopicNames
from sinks.clickhouse_writer import ClickHouseWriter
from streams.agents.batch_service import SINK_FETCH_MIN_BYTES, BatchConsumerService

DEAD_LETTER_COLUMNS = ("received_at", "error", "topic", "partition", "offset", "raw", "raw_encoding")


def _received_ms(value: Any, default: int) -> int:
    try:
        return int(datetime.fromisoformat(str(value)).timestamp() * 1000)
    except ValueError:
        return default


def _int(value: Any, default: int) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else default


def dead_letter_columns(records: list[Any]) -> list[list[Any]]:
    """DLQ consumer records → columns of `dead_letters_local`; garbage in the DLQ is kept, described."""
    columns: list[list[Any]] = [[] for _ in DEAD_LETTER_COLUMNS]
    for msg in records:
        try:
            record = orjson.loads(msg.value or b"{}")
            if not isinstance(record, dict):
                raise ValueError("not an object")
        except (orjson.JSONDecodeError, ValueError):
            record = {"error": "dlq: record is not a JSON object", "raw": repr(msg.value)[:65536]}
        row = (
            _received_ms(record.get("received_at"), int(msg.timestamp)),
            str(record.get("error", "")),
            str(record.get("topic", msg.topic)),
            _int(record.get("partition"), msg.partition),
            _int(record.get("offset"), msg.offset),
            str(record.get("raw", "")),
            str(record.get("raw_encoding", "utf-8")),
        )
        for column, value in zip(columns, row, strict=True):
            column.append(value)
    return columns


class DeadLetterSink(BatchConsumerService):
    stage = "dead-letter-sink"
    fetch_min_bytes = SINK_FETCH_MIN_BYTES

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.linger_s = self.settings.sink_insert_interval_s
        self._writer = ClickHouseWriter(self.settings.clickhouse, "dead_letters_local",
                                        max_backoff_s=self.settings.sink_retry_max_s)

    def topic(self) -> str:
        return TopicNames(self.settings.topic_prefix).dlq

    async def handle(self, records: list[Any]) -> None:
        await self._writer.insert_columns(DEAD_LETTER_COLUMNS, dead_letter_columns(records))

