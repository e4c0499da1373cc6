"""Every platform fixture, as an envelope on `social.raw`, through a real worker into ClickHouse.

The expected rows come from the same fixtures' expected files (tests/unit/test_adapters.py checks
the adapters against them); here the question is whether the pipeline delivers exactly those
events: one row per (platform, id), counters and multi-event envelopes included, unchanged by a
replay, with malformed payloads in `dead_letters` naming platform and field.
"""

from __future__ import annotations

from typing import Any

import orjson

from tests.integration.conftest import Pipeline
from tests.unit.test_adapters import expected_path, fixture_paths

MALFORMED = orjson.dumps({"platform": "youtube", "payload": {
    "kind": "youtube#video", "id": "broken-video", "snippet": {"channelId": "C", "title": "no date"}}})


def expected() -> tuple[dict[tuple[str, str], dict[str, Any]], int, list[str]]:
    """(first expected row per (platform, id) with counter units expanded, unit count, dead-letter reasons)."""
    rows: dict[tuple[str, str], dict[str, Any]] = {}
    reasons: list[str] = []
    for fixture in fixture_paths():
        exp = orjson.loads(expected_path(fixture).read_bytes())
        for row in exp["events"]:
            rows.setdefault((row["platform"], row["id"]), row)
        for prefix, c in exp["counters"].items():
            for n in range(c["first"], c["last"] + 1):
                rows.setdefault((c["platform"], f"{prefix}:{n}"),
                                {"kind": c["kind"], "target_id": c["target_id"], "parent_id": c["parent_id"],
                                 "actor": {"id": "anonymous"}, "text": ""})
        reasons += exp["rejections"]
    return rows, sum(1 for r in rows.values() if r["actor"]["id"] == "anonymous"), reasons


def test_platform_fixtures_become_canonical_events(pipeline: Pipeline) -> None:
    rows, units, reasons = expected()
    assert units > 200 and len(rows) - units > 50  # the fixtures exercise both paths
    pipeline.migrate()
    envelopes = [p.read_bytes() for p in fixture_paths()] + [MALFORMED]
    pipeline.produce(envelopes)
    pipeline.start_worker()
    count = "SELECT count() FROM {db}.events"
    pipeline.wait_for("unique events", lambda: pipeline.scalar(count), len(rows), timeout=120)
    letters = "SELECT count() FROM {db}.dead_letters"
    pipeline.wait_for("dead letters", lambda: pipeline.scalar(letters), len(reasons) + 1)

    stored = {(r[0], r[1]): r[2:] for r in pipeline.query(
        "SELECT platform, id, kind, target_id, parent_id, actor_id, text FROM {db}.events")}
    assert set(stored) == set(rows)
    for key, row in rows.items():
        assert stored[key] == (row["kind"], row["target_id"], row["parent_id"], row["actor"]["id"], row["text"]), key

    errors = sorted(r[0] for r in pipeline.query("SELECT error FROM {db}.dead_letters"))
    assert "payload.youtube: missing snippet.publishedAt" in errors
    assert sorted(e for e in errors if e != "payload.youtube: missing snippet.publishedAt") == sorted(reasons)

    per_platform = ("SELECT key, sum(total) FROM {db}.engagement_by_minute WHERE dimension = 'platform' "
                    "GROUP BY key ORDER BY key")
    totals = pipeline.query(per_platform)
    assert sum(t for _, t in totals) == len(rows)
    assert {k for k, _ in totals} == {"blog", "bluesky", "digg", "facebook", "forum", "googleplus", "linkedin",
                                      "mastodon", "reddit", "stumbleupon", "twitter", "wiki", "youtube"}

    # The same envelopes again (a retrying webhook, an overlapping poll, a replay) change no count.
    pipeline.produce(envelopes)
    pipeline.wait_for("dead letters after replay", lambda: pipeline.scalar(letters), 2 * (len(reasons) + 1))
    pipeline.wait_for("engagement after replay", lambda: pipeline.query(per_platform), totals, timeout=30)
    assert pipeline.scalar(count) == len(rows)
