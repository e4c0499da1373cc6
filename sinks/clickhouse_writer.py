"""Columnar batch inserts into ClickHouse that retry until ClickHouse acknowledges them.

While ClickHouse is unreachable `insert` keeps retrying with capped exponential backoff and does
not return: the calling agent stops consuming (backpressure) instead of buffering without bound,
and its input offsets stay un-acked until the rows are durable.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Sequence
from typing import Any

from clickhouse_driver import Client
from clickhouse_driver.errors import Error as ClickHouseError

from sinks.clickhouse_client import connect
from streams import metrics
from streams.settings import ClickHouseEndpoint

log = logging.getLogger(__name__)


class ClickHouseWriter:
    def __init__(self, endpoint: ClickHouseEndpoint, table: str, columns: Sequence[str],
                 max_backoff_s: float = 30.0) -> None:
        self._endpoint = endpoint
        self._table = table
        self._columns = tuple(columns)
        self._query = f"INSERT INTO {table} ({', '.join(self._columns)}) VALUES"
        self._max_backoff_s = max_backoff_s
        self._client: Client | None = None

    def _insert_once(self, columns: list[list[Any]], dedupe_token: str | None) -> None:
        if self._client is None:
            self._client = connect(self._endpoint)
        settings: dict[str, Any] = {}
        if dedupe_token is not None:
            settings["insert_deduplication_token"] = dedupe_token
        self._client.execute(self._query, columns, columnar=True, settings=settings)

    def insert_blocking(self, columns: list[list[Any]], dedupe_token: str | None = None) -> int:
        """Insert one batch; retries until it succeeds. Returns the number of failed attempts."""
        rows = len(columns[0]) if columns else 0
        if rows == 0:
            return 0
        attempt = 0
        while True:
            started = time.perf_counter()
            try:
                self._insert_once(columns, dedupe_token)
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

    async def insert(self, columns: list[list[Any]], dedupe_token: str | None = None) -> int:
        """Same as insert_blocking, off the event loop so Kafka heartbeats keep flowing."""
        return await asyncio.to_thread(self.insert_blocking, columns, dedupe_token)

    def close(self) -> None:
        if self._client is not None:
            self._client.disconnect()
            self._client = None
