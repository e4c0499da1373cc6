"""The stages' state topics on the real broker: created compacted by `pulse migrate`, and read
back exactly as written by a new reader (what a restarted or newly assigned worker does)."""

from __future__ import annotations

import asyncio

from kafka.admin import ConfigResource, ConfigResourceType, KafkaAdminClient

from schemas.topics import TopicNames
from streams.agents.changelog import Changelog
from streams.kafka_batch import BatchSender, make_producer
from tests.integration.conftest import Pipeline


def test_migrate_creates_the_state_topics_compacted(pipeline: Pipeline) -> None:
    pipeline.migrate()
    names = TopicNames(pipeline.prefix)
    admin = KafkaAdminClient(bootstrap_servers=pipeline.settings.kafka_bootstrap)
    try:
        for topic in names.state():
            described = admin.describe_configs([ConfigResource(ConfigResourceType.TOPIC, topic)])
            assert described["topic"][topic]["cleanup.policy"]["value"] == "compact", topic
        partitions = {t["name"]: len(t["partitions"]) for t in admin.describe_topics(names.state())}
        assert partitions == {t: pipeline.settings.topic_partitions for t in names.state()}
    finally:
        admin.close()


def test_a_partition_reads_back_its_last_values_without_deleted_keys(pipeline: Pipeline) -> None:
    pipeline.migrate()
    topic = TopicNames(pipeline.prefix).dedupe_changelog

    async def scenario() -> tuple[dict[str, object], dict[str, object], dict[str, object]]:
        producer = make_producer(pipeline.settings, "test-changelog")
        await producer.start()
        writer = Changelog(pipeline.settings, topic)
        reader = Changelog(pipeline.settings, topic)
        try:
            sender = BatchSender(producer)
            for i in range(3000):  # more than one fetch
                writer.put(1, f"1:{i}", {"n": i})
            writer.put(2, "2:0", [1, 2])
            await writer.flush(sender)
            writer.put(1, "1:5", {"n": "again"})
            writer.delete(1, "1:7")
            await writer.flush(sender)
            return await reader.load(1), await reader.load(2), await reader.load(0)
        finally:
            await producer.stop()
            await writer.close()
            await reader.close()

    one, two, empty = asyncio.run(scenario())
    expected: dict[str, object] = {f"1:{i}": {"n": i} for i in range(3000) if i != 7}
    expected["1:5"] = {"n": "again"}
    assert one == expected
    assert two == {"2:0": [1, 2]}
    assert empty == {}
