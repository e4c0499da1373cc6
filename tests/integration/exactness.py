"""Ground truth for the exact-count tests: the simulator's own bookkeeping of what it emitted."""

from __future__ import annotations

import time
from typing import Any

from pulse.simulate import GroundTruth, SimulatedMessage, SimulationConfig, simulate
from tests.integration.conftest import Pipeline

# Dimensions whose keys come straight from the input (hashtags and brands depend on enrichment
# and the watchlist, and are checked separately).
EXACT_DIMENSIONS = ("platform", "post", "author")
COUNT_COLUMNS = ("posts", "comments", "replies", "likes", "shares", "views", "mentions", "votes", "total")


def traffic(seed: int, seconds: float, rate: float, **overrides: Any) -> tuple[list[SimulatedMessage], GroundTruth]:
    truth = GroundTruth()
    start_ms = (int(time.time()) // 60 - 30) * 60_000  # half an hour ago, on a minute boundary
    config = SimulationConfig(seed=seed, rate=rate, duration_s=seconds, start_ms=start_ms, **overrides)
    return list(simulate(config, truth)), truth


def expected_rows(truth: GroundTruth) -> dict[tuple[str, str, int], tuple[int, ...]]:
    return {(r["dimension"], r["key"], r["minute"]): tuple(r[c] for c in COUNT_COLUMNS)
            for r in truth.engagement_rows() if r["dimension"] in EXACT_DIMENSIONS}


def stored_rows(p: Pipeline) -> dict[tuple[str, str, int], tuple[int, ...]]:
    rows = p.query(f"SELECT dimension, key, toUnixTimestamp(minute), {', '.join(COUNT_COLUMNS)} "
                   "FROM {db}.engagement_by_minute WHERE dimension IN ('platform', 'post', 'author')")
    return {(r[0], r[1], int(r[2])): tuple(int(x) for x in r[3:]) for r in rows}


def assert_exact(p: Pipeline, truth: GroundTruth, timeout: float = 180) -> None:
    """Wait until ClickHouse holds exactly the unique events, then compare every count."""
    p.wait_for_unique_events(truth.unique_events, timeout=timeout)
    expected, stored = expected_rows(truth), stored_rows(p)
    missing = {k: v for k, v in expected.items() if stored.get(k) != v}
    extra = {k: v for k, v in stored.items() if k not in expected}
    assert not missing and not extra, (
        f"{len(missing)} wrong/missing rows, e.g. {list(missing.items())[:3]} vs "
        f"{[(k, stored.get(k)) for k in list(missing)[:3]]}; {len(extra)} extra rows, e.g. {list(extra.items())[:3]}")
    p.wait_for("dead letters in ClickHouse", lambda: p.scalar("SELECT count() FROM {db}.dead_letters"),
               truth.malformed, timeout=timeout)


def consume_all(p: Pipeline, topic: str) -> list[tuple[bytes | None, bytes]]:
    """Every message of a topic, read up to the end offsets taken when the call starts."""
    from kafka import KafkaConsumer, TopicPartition

    consumer = KafkaConsumer(bootstrap_servers=p.settings.kafka_bootstrap, enable_auto_commit=False)
    try:
        name = p.topic(topic)
        tps = [TopicPartition(name, n) for n in sorted(consumer.partitions_for_topic(name) or [])]
        consumer.assign(tps)
        consumer.seek_to_beginning(*tps)
        end = consumer.end_offsets(tps)
        out: list[tuple[bytes | None, bytes]] = []
        deadline = time.monotonic() + 120
        while any(consumer.position(tp) < end[tp] for tp in tps):
            assert time.monotonic() < deadline, f"reading {name} took too long"
            for records in consumer.poll(timeout_ms=1000, max_records=10000).values():
                out.extend((r.key, r.value) for r in records)
        return out
    finally:
        consumer.close()
