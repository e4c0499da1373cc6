"""`pulse bench` deletes the Kafka topics of its run (a 1M run leaves ~2.5 GB otherwise)."""

from __future__ import annotations

from pathlib import Path

from kafka.admin import KafkaAdminClient

from pulse.bench import delete_topics
from streams.settings import Settings
from tests.integration.conftest import Pipeline


def test_delete_topics_removes_the_runs_topics_and_no_other(pipeline: Pipeline, stack: Settings,
                                                            tmp_path: Path) -> None:
    other = Pipeline(stack, tmp_path / "other")
    admin = KafkaAdminClient(bootstrap_servers=pipeline.settings.kafka_bootstrap)
    try:
        pipeline.pulse("migrate")
        other.pulse("migrate")

        def ours() -> list[str]:
            return sorted(t for t in admin.list_topics() if t.startswith(pipeline.prefix))

        assert pipeline.topic("social.raw") in ours()
        deleted = delete_topics(pipeline.settings)
        assert pipeline.topic("social.raw") in deleted
        assert all(t.startswith(pipeline.prefix) for t in deleted)
        pipeline.wait_for("the run's topics deleted", ours, [])
        assert other.topic("social.raw") in admin.list_topics()
    finally:
        admin.close()
        other.close()
