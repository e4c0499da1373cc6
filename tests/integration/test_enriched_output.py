"""social.events and social.dlq carry what their JSON Schemas promise; engagement inherits its post's tags."""

from __future__ import annotations

from pathlib import Path

import jsonschema
import orjson
from kafka import KafkaConsumer

from schemas.contracts import topic_schema
from streams.normalize import parse_time_ms
from tests.integration.conftest import ROOT, Pipeline

WATCHLIST = ROOT / "deploy" / "watchlist.example.json"


def consume(p: Pipeline, topic: str, expected: int) -> list[tuple[bytes | None, dict[str, object]]]:
    consumer = KafkaConsumer(p.topic(topic), bootstrap_servers=p.settings.kafka_bootstrap,
                             auto_offset_reset="earliest", enable_auto_commit=False, consumer_timeout_ms=10000)
    try:
        out = []
        for m in consumer:
            out.append((m.key, orjson.loads(m.value)))
            if len(out) >= expected:
                break
        return out
    finally:
        consumer.close()


def ev(i: str, kind: str, text: str | None = None, target: str | None = None, minute: int = 0) -> bytes:
    return orjson.dumps({"platform": "twitter", "id": i, "kind": kind,
                         "occurred_at": f"2026-11-21T10:{minute:02d}:00.000Z",
                         "actor": {"id": f"u-{i}", "handle": f"h{i}", "followers": 25_000, "verified": True},
                         "target_id": target, "text": text})


def test_events_and_dead_letters_match_their_schemas_and_inherit(pipeline: Pipeline, tmp_path: Path) -> None:
    assert WATCHLIST.is_file()
    pipeline.migrate()
    pipeline.start_worker(PULSE_WATCHLIST_FILE=str(WATCHLIST))
    post_text = "Loving the new Acme rocket 🚀 #launchday @wile_e https://example.com/x?utm_source=tw"
    pipeline.produce([ev("p1", "post", post_text), b"{oops"])
    pipeline.wait_for_unique_events(1)
    pipeline.produce([ev("l1", "like", target="p1", minute=1), ev("c1", "comment", "not good at all 😡", "p1", 1),
                      ev("l2", "like", target="unknown-post", minute=1)])
    pipeline.wait_for_unique_events(4)

    rows = {r[0]: r[1:] for r in pipeline.query(
        "SELECT id, hashtags, brands, mentions, lang, sentiment, author_tier FROM {db}.events")}
    assert rows["p1"][0] == ["launchday"] and rows["p1"][1] == ["acme"] and rows["p1"][2] == ["wile_e"]
    assert rows["p1"][3] == "en" and rows["p1"][4] > 0.3 and rows["p1"][5] == "mid"
    assert rows["l1"][:2] == (["launchday"], ["acme"]), "a like inherits its post's hashtags and brands"
    assert rows["c1"][4] < -0.3 and rows["c1"][1] == [], "comments keep their own text's tags"
    assert rows["l2"][:2] == ([], []), "engagement on an unknown post inherits nothing"
    brand = pipeline.query("SELECT sum(posts), sum(likes), sum(total) FROM {db}.engagement_by_minute "
                           "WHERE dimension = 'brand' AND key = 'acme'")
    assert brand == [(1, 1, 2)]

    events_schema = topic_schema("social.events")
    messages = consume(pipeline, "social.events", 4)
    assert len(messages) == 4
    for key, value in messages:
        jsonschema.validate(value, events_schema)
        assert key == f"{value['platform']}\x1f{value['id']}".encode()
    # The events sink hands the values to ClickHouse as they are: every column of `events` says what
    # the social.events message says.
    stored = {r[1]: r for r in pipeline.query(
        "SELECT platform, id, kind, toUnixTimestamp64Milli(occurred_at), actor_id, actor_handle, "
        "actor_followers, actor_verified, author_tier, target_id, parent_id, text, url, lang, sentiment, hashtags, "
        "mentions, urls, brands, toUnixTimestamp64Milli(ingested_at) FROM {db}.events")}
    for _, value in messages:
        actor = value["actor"]
        assert isinstance(actor, dict)
        row = stored[str(value["id"])]
        assert row[:14] == (value["platform"], value["id"], value["kind"], parse_time_ms(value["occurred_at"]),
                            actor["id"], actor["handle"] or "", actor["followers"], actor["verified"], actor["tier"],
                            value["target_id"] or "", value["parent_id"] or "", value["text"] or "",
                            value["url"] or "", value["lang"]), row
        assert abs(row[14] - float(value["sentiment"])) < 1e-6  # type: ignore[arg-type]
        assert row[15:] == (value["hashtags"], value["mentions"], value["urls"], value["brands"],
                            parse_time_ms(value["ingested_at"]))
    dlq = consume(pipeline, "social.dlq", 1)
    assert len(dlq) == 1
    jsonschema.validate(dlq[0][1], topic_schema("social.dlq"))
    assert dlq[0][1]["raw"] == "{oops" and str(dlq[0][1]["error"]).startswith("value: not JSON")
