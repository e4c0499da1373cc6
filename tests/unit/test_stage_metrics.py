"""Lag metrics never crash a stage: a partition revoked while its batch was handled is skipped."""

from __future__ import annotations

from typing import Any

from aiokafka import TopicPartition
from prometheus_client import REGISTRY

from streams.agents.stage_metrics import observe_lag


class RebalancedConsumer:
    """Stands in for aiokafka's consumer after a rebalance took partition 1 away."""

    def highwater(self, tp: TopicPartition) -> int:
        if tp.partition == 1:
            raise AssertionError("Partition is not assigned")  # what aiokafka does
        return 100


def lag(stage: str, topic: str, partition: int) -> Any:
    labels = {"stage": stage, "topic": topic, "partition": str(partition)}
    return REGISTRY.get_sample_value("pulse_consumer_lag_messages", labels)


def test_a_revoked_partition_is_skipped_and_the_others_still_report_lag() -> None:
    newest = {TopicPartition("t", 0): 89, TopicPartition("t", 1): 5, TopicPartition("t", 2): 98}
    observe_lag("unit-test", RebalancedConsumer(), newest)
    assert lag("unit-test", "t", 0) == 10 and lag("unit-test", "t", 2) == 1
    assert lag("unit-test", "t", 1) is None
