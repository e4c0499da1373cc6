"""Batch inserts into ClickHouse that retry until ClickHouse acknowledges them.

While ClickHouse is unreachable an insert keeps retrying with capped exponential backoff and does
not return: the calling agent stops consuming (backpressure) instead of buffering without bound,
and its input offsets stay un-acked until the rows are durable.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Callable, Sequence
from typing import Any

from clickhouse_driver import Client
from clickhouse_driver.errors import Error as ClickHouseError

from sinks.clickhouse_client import connect
from streams import metrics
from streams.settings import ClickHouseEndpoint

log = logging.getLogger(__name__)

# Synchronous inserts: the batch is already built here, and the caller acks its input only after
# ClickHouse has written the rows *and* every materialized view fed by them (ClickHouse 26.9 as
# embedded by the local stack defaults to async_insert=1, which queues inline-data inserts).
_INSERT_SETTINGS: dict[str, Any] = {"async_insert": 0}
# JSON rows carry RFC 3339 times ("...T10:00:05.120Z"), which the basic parser refuses.
_JSON_SETTINGS: dict[str, Any] = {**_INSERT_SETTINGS, "date_time_input_format": "best_effort",
                                  "input_format_skip_unknown_fields": 1}


class ClickHouseWriter:
    def __init__(self, endpoint: ClickHouseEndpoint, table: str, max_backoff_s: float = 30.0) -> None:
        self._endpoint = endpoint
        self._table = table
        self._max_backoff_s = max_backoff_s
        self._client: Client | None = None

    async def insert_columns(self, columns: Sequence[str], data: list[list[Any]]) -> int:
        """Insert one batch given column-wise (one list per column); returns failed attempts."""
        query = f"INSERT INTO {self._table} ({', '.join(columns)}) VALUES"
        rows = len(data[0]) if data else 0
        return await self._insert(rows, lambda client: client.execute(query, data, columnar=True,
                                                                      settings=_INSERT_SETTINGS))

    async def insert_parsed(self, columns: Sequence[str], select: str, values: Sequence[bytes]) -> int:
        """Insert the rows `select` (a SELECT over input('json String')) derives from `values`, one
        String each: ClickHouse does the parsing, the driver writes a single column."""
        query = f"INSERT INTO {self._table} ({', '.join(columns)}) {select}"
        return await self._insert(len(values), lambda client: client.execute(query, [values], columnar=True,
                                                                             settings=_INSERT_SETTINGS))

    async def insert_json_lines(self, lines: Sequence[bytes]) -> int:
        """Insert JSON objects (one per element) as JSONEachRow: ClickHouse does the parsing."""
        if not lines:
            return 0
        # Inline INSERT data is read by ClickHouse's format parser, not limited by max_query_size.
        query = f"INSERT INTO {self._table} FORMAT JSONEachRow\n" + b"\n".join(lines).decode()
        return await self._insert(len(lines), lambda client: client.execute(query, settings=_JSON_SETTINGS))

    async def _insert(self, rows: int, send: Callable[[Client], Any]) -> int:
        if rows == 0:
            return 0
        # Off the event loop, so Kafka heartbeats keep flowing while ClickHouse is slow or down.
        return await asyncio.to_thread(self._insert_blocking, rows, send)

    def _insert_blocking(self, rows: int, send: Callable[[Client], Any]) -> int:
        attempt = 0
        while True:
            started = time.perf_counter()
            try:
                if self._client is None:
                    self._client = connect(self._endpoint)
                send(self._client)
            except (ClickHouseError, OSError, EOFError) as exc:
                attempt += 1
                metrics.SINK_RETRIES.labels(self._table).inc()
                metrics.SINK_ERRORS.labels(self._table, type(exc).__name__).inc()
                self.close()
                delay = min(self._max_backoff_s, 0.2 * 2 ** min(attempt, 10)) * (0.5 + random.random() / 2)
                log.warning("insert into %s failed (%s: %s); retry %d in %.1fs", self._table,
                            type(exc).__name__, str(exc).splitlines()[0][:200], attempt, delay)
                time.sleep(delay)
                continue
            metrics.SINK_SECONDS.labels(self._table).observe(time.perf_counter() - started)
            metrics.SINK_BATCH_ROWS.labels(self._table).observe(rows)
            return attempt

    def close(self) -> None:
        if self._client is not None:
            self._client.disconnect()
            self._client = None
