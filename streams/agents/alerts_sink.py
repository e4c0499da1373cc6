"""social.alerts → ClickHouse `alerts_latest`, committed only after the insert.

The alert values are inserted as they are (JSONEachRow); ClickHouse keeps each alert's newest
state (ReplacingMergeTree on alert_id, versioned by updated_at).
"""

from __future__ import annotations

from typing import Any

import faust

from schemas.topics import TopicNames
from sinks.clickhouse_writer import ClickHouseWriter
from streams.agents.batch_service import BatchConsumerService
from streams.settings import Settings


class AlertsSink(BatchConsumerService):
    stage = "alerts-sink"

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._writer = ClickHouseWriter(self.settings.clickhouse, "alerts_local",
                                        max_backoff_s=self.settings.sink_retry_max_s)

    def topic(self) -> str:
        return TopicNames(self.settings.topic_prefix).alerts

    async def handle(self, records: list[Any]) -> None:
        await self._writer.insert_json_lines([r.value for r in records if r.value])


def register_alerts_sink(app: faust.App, settings: Settings) -> None:
    app.service(AlertsSink.bound(settings, app.conf.id))
