"""Exact counts through duplicates, late events, several workers, SIGKILL and a ClickHouse outage.

Every test produces simulated traffic (heavy-tailed posts, viral cascades, ~3% duplicates re-sent
unkeyed so they land on other partitions, ~2% late events, ~0.5% malformed) and compares
ClickHouse with the simulator's ground truth, row by row.
"""

from __future__ import annotations

import signal
import time

import orjson

from tests.integration.conftest import Pipeline
from tests.integration.exactness import assert_exact, consume_all, traffic


def produce_all(p: Pipeline, values: list[bytes]) -> None:
    p.produce(values)


def test_duplicates_across_partitions_and_late_events(pipeline: Pipeline) -> None:
    msgs, truth = traffic(seed=1, seconds=120, rate=60)
    assert truth.duplicates > 50 and truth.late > 50 and truth.malformed > 5
    pipeline.migrate()
    # Every duplicate goes to a different partition than its original, explicitly.
    raw = pipeline.topic("social.raw")
    for i, m in enumerate(msgs):
        pipeline.producer.send(raw, value=m.value, partition=(i * 7 + (3 if m.duplicate else 0)) % 6)
    pipeline.producer.flush()
    pipeline.start_worker()
    assert_exact(pipeline, truth)


def test_two_workers_share_the_work(pipeline: Pipeline) -> None:
    msgs, truth = traffic(seed=2, seconds=120, rate=80)
    pipeline.migrate()
    pipeline.start_worker("w1")
    pipeline.start_worker("w2")
    time.sleep(8)  # both join the group
    produce_all(pipeline, [m.value for m in msgs])
    assert_exact(pipeline, truth)


def test_sigkill_mid_stream_then_restart(pipeline: Pipeline) -> None:
    msgs, truth = traffic(seed=3, seconds=300, rate=100)
    pipeline.migrate()
    values = [m.value for m in msgs]
    half = len(values) // 2
    produce_all(pipeline, values[:half])
    pipeline.start_worker("w1", PULSE_BATCH_MAX="500")
    pipeline.wait_for("some progress", lambda: pipeline.scalar("SELECT count() > 2000 FROM {db}.events"), 1)
    produce_all(pipeline, values[half:])
    pipeline.kill_worker("w1", signal.SIGKILL)
    stored_at_kill = pipeline.scalar("SELECT count() FROM {db}.events")
    assert stored_at_kill < truth.unique_events, "the kill came too late to prove anything"
    pipeline.start_worker("w1", PULSE_BATCH_MAX="500")
    assert_exact(pipeline, truth)
    # social.events: every unique event is there (at-least-once; a crash may repeat a few).
    keys = [key for key, _ in consume_all(pipeline, "social.events")]
    assert len(set(keys)) == truth.unique_events


def test_clickhouse_outage_of_30_seconds(pipeline: Pipeline) -> None:
    msgs, truth = traffic(seed=4, seconds=180, rate=80)
    pipeline.migrate()
    values = [m.value for m in msgs]
    third = len(values) // 3
    pipeline.start_worker()
    produce_all(pipeline, values[:third])
    pipeline.wait_for("first third stored", lambda: pipeline.scalar("SELECT count() > 1000 FROM {db}.events"), 1)
    pipeline.stack("down", "clickhouse")
    try:
        produce_all(pipeline, values[third:])
        time.sleep(30)
        assert pipeline.workers["w1"].poll() is None, "the worker must survive a ClickHouse outage"
    finally:
        pipeline.stack("up", "clickhouse")
        pipeline.ch.disconnect()
    assert_exact(pipeline, truth)


def test_a_thousand_malformed_messages_mixed_in(pipeline: Pipeline) -> None:
    msgs, truth = traffic(seed=5, seconds=60, rate=60, malformed_ratio=0.0)
    bad_kinds = [b"{", b"[]", b"\xff\xfe", b'{"platform":"x"}',
                 orjson.dumps({"platform": "x", "id": "1", "kind": "like", "occurred_at": "nope",
                               "actor": {"id": "u"}, "target_id": "p"})]
    bad = [bad_kinds[i % len(bad_kinds)] + (b" " * (i // len(bad_kinds)) if i % len(bad_kinds) != 2 else b"")
           for i in range(1000)]
    values = [m.value for m in msgs]
    mixed = []
    for i, v in enumerate(values):
        mixed.append(v)
        if i < len(bad):
            mixed.append(bad[i])
    mixed.extend(bad[len(values):])
    pipeline.migrate()
    pipeline.start_worker()
    produce_all(pipeline, mixed)
    truth.malformed = 1000
    assert_exact(pipeline, truth)
    reasons = dict(pipeline.query("SELECT splitByChar(':', error)[1] AS field, count() FROM {db}.dead_letters "
                                  "GROUP BY field"))
    assert reasons == {"value": 600, "occurred_at": 200, "id": 200}, reasons


def test_one_of_two_workers_sigkilled_the_other_takes_over(pipeline: Pipeline) -> None:
    msgs, truth = traffic(seed=6, seconds=300, rate=100)
    pipeline.migrate()
    values = [m.value for m in msgs]
    pipeline.start_worker("w1", PULSE_BATCH_MAX="500")
    pipeline.start_worker("w2", PULSE_BATCH_MAX="500")
    produce_all(pipeline, values[: len(values) // 2])
    pipeline.wait_for("some progress", lambda: pipeline.scalar("SELECT count() > 2000 FROM {db}.events"), 1)
    pipeline.kill_worker("w2", signal.SIGKILL)
    produce_all(pipeline, values[len(values) // 2:])
    assert_exact(pipeline, truth)


def test_killed_three_times_at_different_moments(pipeline: Pipeline) -> None:
    """Kill any process at any moment: restart it, and the counts are still exact."""
    msgs, truth = traffic(seed=7, seconds=300, rate=100)
    pipeline.migrate()
    values = [m.value for m in msgs]
    produce_all(pipeline, values)
    for kill_at in (1500, 6000, 12000):
        pipeline.start_worker("w1", PULSE_BATCH_MAX="300")
        pipeline.wait_for(f"{kill_at} stored", lambda n=kill_at: pipeline.scalar(
            f"SELECT count() >= {n} FROM {{db}}.events_local"), 1, timeout=120)
        pipeline.kill_worker("w1", signal.SIGKILL)
    pipeline.start_worker("w1", PULSE_BATCH_MAX="300")
    assert_exact(pipeline, truth)
    keys = [key for key, _ in consume_all(pipeline, "social.events")]
    assert len(set(keys)) == truth.unique_events
