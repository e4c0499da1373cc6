"""Engagement windows and spike alerts on the real broker: exact through a SIGKILL, on contract.

The windows stage's counts are compared with ClickHouse `engagement_by_minute` (itself checked
against the simulator's ground truth in test_exactly_counted.py), per kind, for every
(dimension, key, minute) of the traffic.
"""

from __future__ import annotations

import signal
import time

import jsonschema
import orjson

from pulse.simulate import GroundTruth
from schemas.contracts import topic_schema
from tests.integration.conftest import ROOT, Pipeline
from tests.integration.exactness import assert_exact, consume_all, traffic

KINDS = ("posts", "comments", "replies", "likes", "shares", "views", "mentions", "votes")
WATCHLIST = ROOT / "deploy" / "watchlist.example.json"


def clock_tick(start_ms: int, n: int = 60) -> list[tuple[int, bytes]]:
    """Posts far past the traffic on every raw partition: every minute of the traffic closes."""
    at = time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime(start_ms / 1000))
    return [(i % 6, orjson.dumps({"platform": "tick", "id": f"tick-{i}", "kind": "post", "occurred_at": at,
                                  "actor": {"id": f"ticker-{i}"}})) for i in range(n)]


WORKER_ENV = {"PULSE_BATCH_MAX": "500", "PULSE_WATCHLIST_FILE": str(WATCHLIST)}


def start_windows_traffic(pipeline: Pipeline, seed: int, parts: int) -> tuple[list[bytes], GroundTruth]:
    """20 minutes of event time, in `parts` equal parts; the first one produced, worker w1 started on it and
    emitting engagement. Returns every message (the rest is the test's to produce) and the truth."""
    msgs, truth = traffic(seed=seed, seconds=1200, rate=40, late_ratio=0.0)
    pipeline.migrate()
    values = [m.value for m in msgs]
    pipeline.produce(values[:len(values) // parts])
    pipeline.start_worker("w1", **WORKER_ENV)
    pipeline.wait_for("windows at work", lambda: len(consume_all(pipeline, "social.engagement")) > 100, True,
                      timeout=120)
    return values, truth


def latest_engagement(p: Pipeline) -> dict[tuple[str, str, str], dict[str, object]]:
    latest: dict[tuple[str, str, str], dict[str, object]] = {}
    for _, value in consume_all(p, "social.engagement"):
        r = orjson.loads(value)
        k = (r["dimension"], r["key"], r["minute"])
        if k not in latest or r["revision"] > latest[k]["revision"]:
            latest[k] = r
    return latest


def assert_windows_match_clickhouse(pipeline: Pipeline) -> dict[tuple[str, str, str], dict[str, object]]:
    """Close every minute of the traffic, then compare the newest social.engagement revision of
    every (dimension, key, minute) with ClickHouse engagement_by_minute, per kind."""
    last_minute = pipeline.scalar("SELECT toUnixTimestamp(max(minute)) FROM {db}.engagement_by_minute")
    raw = pipeline.topic("social.raw")
    for partition, value in clock_tick((last_minute + 600) * 1000):
        pipeline.producer.send(raw, value=value, partition=partition)
    pipeline.producer.flush()

    rows = pipeline.query(f"SELECT dimension, key, formatDateTime(minute, '%%Y-%%m-%%dT%%H:%%i:00.000Z'), "
                          f"{', '.join(KINDS)}, total FROM {{db}}.engagement_by_minute "
                          f"WHERE toUnixTimestamp(minute) <= {last_minute}")
    expected = {(r[0], r[1], r[2]): tuple(int(x) for x in r[3:]) for r in rows}
    assert len(expected) > 1000 and {k[0] for k in expected} >= {"post", "author", "platform", "hashtag", "brand"}

    def emitted() -> int:
        latest = latest_engagement(pipeline)
        return sum(1 for k in expected if k in latest)

    pipeline.wait_for("every minute of the traffic emitted", emitted, len(expected), timeout=180)
    latest = latest_engagement(pipeline)

    def counts(k: tuple[str, str, str]) -> tuple[int, ...]:
        c = latest[k]["counts"]
        assert isinstance(c, dict)
        return tuple(int(c[name]) for name in (*KINDS, "total"))

    wrong = {k: (v, counts(k)) for k, v in expected.items() if counts(k) != v}
    assert not wrong, f"{len(wrong)} of {len(expected)} minutes differ from ClickHouse: {list(wrong.items())[:3]}"
    return latest


def test_windows_are_exact_through_a_sigkill_and_alerts_follow_their_contract(pipeline: Pipeline) -> None:
    values, truth = start_windows_traffic(pipeline, seed=7, parts=2)
    half = len(values) // 2
    pipeline.produce(values[half:])
    pipeline.kill_worker("w1", signal.SIGKILL)
    pipeline.start_worker("w1", **WORKER_ENV)
    assert_exact(pipeline, truth)
    latest = assert_windows_match_clickhouse(pipeline)

    engagement_schema = jsonschema.Draft202012Validator(topic_schema("social.engagement"))
    for record in list(latest.values())[:2000]:
        engagement_schema.validate(record)

    alerts = [orjson.loads(v) for _, v in consume_all(pipeline, "social.alerts")]
    alert_schema = jsonschema.Draft202012Validator(topic_schema("social.alerts"))
    for a in alerts:
        alert_schema.validate(a)
    assert alerts, "no alert at all, though the traffic has injected spikes"
    # Every injected spike opened an alert on its key while it ran.
    opened = {(a["dimension"], a["key"]) for a in alerts if a["transition"] == "opened"}
    for spike in truth.spikes:
        assert (spike.dimension, spike.key) in opened, f"no alert for {spike}; opened: {sorted(opened)[:20]}"
    # ClickHouse alerts_latest holds one row per alert, in its newest state.
    ids = {a["alert_id"] for a in alerts}
    pipeline.wait_for("alerts in ClickHouse", lambda: pipeline.scalar("SELECT count() FROM {db}.alerts_latest"),
                      len(ids))


def test_windows_are_exact_through_rebalances_between_two_live_workers(pipeline: Pipeline) -> None:
    """A second worker joins mid-stream (windows partitions move to it, with their state), then the
    first one leaves (they move back): no minute of any key is lost or counted twice."""
    values, truth = start_windows_traffic(pipeline, seed=11, parts=3)
    third = len(values) // 3
    pipeline.start_worker("w2", **WORKER_ENV)
    pipeline.produce(values[third:2 * third])
    time.sleep(8)  # both workers at work on the second third (the group rebalances meanwhile)
    pipeline.kill_worker("w1", signal.SIGTERM)
    pipeline.produce(values[2 * third:])
    assert_exact(pipeline, truth)
    assert_windows_match_clickhouse(pipeline)
