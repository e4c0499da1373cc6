"""Raw events through a real worker into the real ClickHouse: exact unique counts and dead letters."""

from __future__ import annotations

import orjson

from tests.integration.conftest import Pipeline


def event(i: int, kind: str = "like", minute: int = 0, target: str = "p-1") -> bytes:
    body = {"platform": "generic", "id": f"e-{i}", "kind": kind,
            "occurred_at": f"2026-11-21T10:{minute:02d}:05.120Z", "actor": {"id": f"u-{i % 7}"},
            "target_id": target if kind != "post" else None}
    return orjson.dumps(body)


def test_replay_counts_unique_events_and_dead_letters(pipeline: Pipeline) -> None:
    pipeline.migrate()
    lines = [event(i) for i in range(300)] + [event(i) for i in range(100)]  # 100 duplicates
    lines += [event(1000, kind="post", target="")]
    bad = [b"not json", b"[1]", orjson.dumps({"platform": "x", "id": "1", "kind": "nope"})]
    ndjson = pipeline.tmp / "in.ndjson"
    ndjson.write_bytes(b"\n".join(lines + bad) + b"\n\n")
    out = pipeline.pulse("replay", str(ndjson), "--no-progress")
    assert "produced 404 message(s), skipped 1 blank line(s)" in out.stdout
    pipeline.start_worker()
    pipeline.wait_for_unique_events(301)
    pipeline.wait_for("dead letters", lambda: pipeline.scalar("SELECT count() FROM {db}.dead_letters"), 3)
    errors = sorted(r[0] for r in pipeline.query("SELECT error FROM {db}.dead_letters"))
    assert errors[0].startswith("kind: unknown kind 'nope'")
    assert any(e.startswith("value: not JSON") for e in errors)
    assert any(e.startswith("value: must be a JSON object") for e in errors)
    rows = pipeline.query("SELECT likes, posts, total FROM {db}.engagement_by_minute "
                          "WHERE dimension = 'post' AND key = 'p-1'")
    assert rows == [(300, 0, 300)]
    assert pipeline.query("SELECT total FROM {db}.engagement_by_minute WHERE dimension='platform'") == [(301,)]
    # The same file again (a replay) changes no count.
    pipeline.pulse("replay", str(ndjson), "--no-progress")
    pipeline.wait_for("dead letters after replay", lambda: pipeline.scalar("SELECT count() FROM {db}.dead_letters"),
                      6)
    assert pipeline.scalar("SELECT count() FROM {db}.events") == 301
    assert pipeline.query("SELECT total FROM {db}.engagement_by_minute WHERE dimension='platform'") == [(301,)]


def test_a_value_on_social_events_that_is_not_an_event_does_not_stall_the_events_sink(pipeline: Pipeline) -> None:
    pipeline.migrate()
    # Only the store writes social.events; something else wrote these. They must not be inserted,
    # nor keep the sink retrying them: the events after them still reach ClickHouse.
    pipeline.produce([b"{oops", b"[]", b'{"platform": "x"}', b'{"platform": "x", "id": "1", "occurred_at": "soon"}'],
                     topic="social.events", partition=0)
    pipeline.start_worker()
    pipeline.produce([event(i) for i in range(50)])
    pipeline.wait_for_unique_events(50)
    assert pipeline.scalar("SELECT count() FROM {db}.events_local WHERE platform = 'x'") == 0
