"""social.dlq → ClickHouse `dead_letters`, acked only after the insert."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import faust
import orjson

from schemas.topics import TopicNames
from sinks.clickhouse_writer import ClickHouseWriter
from sinks.event_rows import DEAD_LETTER_COLUMNS
from streams.settings import Settings


def _received_ms(value: Any, default: int) -> int:
    try:
        return int(datetime.fromisoformat(str(value)).timestamp() * 1000)
    except ValueError:
        return default


def _int(value: Any, default: int) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else default


def register_dead_letter_sink(app: faust.App, settings: Settings) -> None:
    names = TopicNames(settings.topic_prefix)
    dlq_topic = app.topic(names.dlq, value_serializer="raw", key_serializer="raw", allow_empty=True)
    writer = ClickHouseWriter(settings.clickhouse, "dead_letters_local", DEAD_LETTER_COLUMNS,
                              max_backoff_s=settings.sink_retry_max_s)

    @app.agent(dlq_topic, name="dead-letter-sink")
    async def dead_letter_sink(stream: Any) -> None:
        async for batch in stream.noack_take(settings.batch_max, within=settings.batch_within_s):
            columns: list[list[Any]] = [[] for _ in DEAD_LETTER_COLUMNS]
            for event in batch:
                msg = event.message
                try:
                    record = orjson.loads(msg.value or b"{}")
                    if not isinstance(record, dict):
                        raise ValueError("not an object")
                except (orjson.JSONDecodeError, ValueError):
                    # Someone else wrote garbage to the DLQ: keep it, described, rather than crash.
                    record = {"error": "dlq: record is not a JSON object", "raw": repr(msg.value)[:65536]}
                row = (
                    _received_ms(record.get("received_at"), int(msg.timestamp * 1000)),
                    str(record.get("error", "")),
                    str(record.get("topic", msg.topic)),
                    _int(record.get("partition"), msg.partition),
                    _int(record.get("offset"), msg.offset),
                    str(record.get("raw", "")),
                    str(record.get("raw_encoding", "utf-8")),
                )
                for column, value in zip(columns, row, strict=True):
                    column.append(value)
            await writer.insert(columns)
            for event in batch:
                event.ack()
