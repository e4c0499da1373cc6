"""All migrations up, down, and up again on the real ClickHouse server."""

from __future__ import annotations

import re

from schemas.migrations import load_migrations
from tests.integration.conftest import Pipeline

CONTRACT_VIEWS = {
    "events": {"platform", "id", "kind", "occurred_at", "actor_id", "target_id", "text", "lang", "sentiment",
               "hashtags", "mentions", "brands", "ingested_at"},
    "engagement_by_minute": {"dimension", "key", "minute", "posts", "comments", "replies", "likes", "shares",
                             "views", "mentions", "votes", "total"},
    "dead_letters": {"received_at", "error", "raw"},
}


def tables(p: Pipeline) -> set[str]:
    return {r[0] for r in p.query("SELECT name FROM system.tables WHERE database = %(db)s", {"db": p.database})}


def test_up_down_up(pipeline: Pipeline) -> None:
    migrations = load_migrations()
    pipeline.pulse("migrate", "--skip-topics")
    after_up = tables(pipeline)
    assert set(CONTRACT_VIEWS) <= after_up
    # Idempotent: a second run applies nothing.
    assert "applied 0 migration(s)" in pipeline.pulse("migrate", "--skip-topics").stdout
    down = pipeline.pulse("migrate", "--down").stdout
    assert f"reverted {len(migrations)} migration(s)" in down
    assert tables(pipeline) == {"schema_migrations"}
    pipeline.pulse("migrate", "--skip-topics")
    assert tables(pipeline) == after_up


def test_contract_view_columns_and_types(pipeline: Pipeline) -> None:
    pipeline.pulse("migrate", "--skip-topics")
    for view, needed in CONTRACT_VIEWS.items():
        cols = dict(pipeline.query("SELECT name, type FROM system.columns WHERE database = %(db)s AND table = %(t)s",
                                   {"db": pipeline.database, "t": view}))
        assert needed <= set(cols), f"{view} lacks {needed - set(cols)}"
    events = dict(pipeline.query("SELECT name, type FROM system.columns WHERE database = %(db)s AND table='events'",
                                 {"db": pipeline.database}))
    assert events["occurred_at"] == "DateTime64(3, 'UTC')"
    assert events["sentiment"] == "Float32"
    assert events["hashtags"] == "Array(String)"
    minute = dict(pipeline.query("SELECT name, type FROM system.columns WHERE database = %(db)s "
                                 "AND table='engagement_by_minute'", {"db": pipeline.database}))
    assert minute["minute"] == "DateTime('UTC')"
    assert all(minute[c] == "UInt64" for c in ("posts", "likes", "total"))


def test_materialized_view_columns_line_up_with_target(pipeline: Pipeline) -> None:
    """A reordered or misnamed column in an MV lands data in the wrong column without raising."""
    pipeline.pulse("migrate", "--skip-topics")
    mvs = pipeline.query("SELECT name, create_table_query FROM system.tables WHERE database = %(db)s "
                         "AND engine = 'MaterializedView'", {"db": pipeline.database})
    assert mvs
    for name, ddl in mvs:
        target = re.search(r"\bTO\s+[`\w]+\.`?(\w+)`?", ddl)
        assert target, ddl
        target_cols = [r[0] for r in pipeline.query(
            "SELECT name FROM system.columns WHERE database = %(db)s AND table = %(t)s ORDER BY position",
            {"db": pipeline.database, "t": target.group(1)})]
        mv_cols = [r[0] for r in pipeline.query(
            "SELECT name FROM system.columns WHERE database = %(db)s AND table = %(t)s ORDER BY position",
            {"db": pipeline.database, "t": name})]
        assert mv_cols == target_cols, f"{name} columns {mv_cols} != {target.group(1)} columns {target_cols}"


def test_the_dev_clickhouse_loads_every_table_before_serving(pipeline: Pipeline) -> None:
    # Else, right after a restart, inserts can reach events_local before engagement_by_minute's
    # materialized view is loaded, and the view misses them (seen in the 30 s outage test).
    value = pipeline.query("SELECT value FROM system.server_settings WHERE name = 'async_load_databases'")
    assert value == [("0",)]


def _insert_events(p: Pipeline, rows: list[tuple[str, str, str, int, str, str, list[str], list[str]]]) -> None:
    p.ch.execute(f"INSERT INTO {p.database}.events_local (platform, id, kind, occurred_at, actor_id, target_id, "
                 "hashtags, brands) VALUES", [list(column) for column in zip(*rows, strict=True)], columnar=True)


def _engagement(p: Pipeline) -> list[tuple[object, ...]]:
    return p.query("SELECT dimension, key, toUnixTimestamp(minute), posts, comments, replies, likes, shares, views, "
                   "mentions, votes, total FROM {db}.engagement_by_minute ORDER BY dimension, key, minute")


def test_engagement_by_minute_keeps_its_numbers_across_migration_0006(pipeline: Pipeline) -> None:
    """0006 moves the per-minute states to one per kind: rows written before it are backfilled, a
    duplicate insert still counts once, and going down and up again gives the same numbers."""
    minute = 1_795_000_020_000
    before = [("twitter", f"p{i}", "post", minute + i, f"u{i % 3}", "", ["launch"], ["acme"]) for i in range(5)]
    before += [("twitter", f"l{i}", "like", minute + 60_000 + i, f"u{i}", "p1", [], []) for i in range(7)]
    before += [("reddit", f"f{i}", "follow", minute + i, "u9", "u1", [], []) for i in range(2)]
    after = [("twitter", f"s{i}", "share", minute + 60_500 + i, f"u{i}", "p1", ["launch"], []) for i in range(4)]
    pipeline.pulse("migrate", "--skip-topics", "--to", "5")
    _insert_events(pipeline, before)
    pipeline.pulse("migrate", "--skip-topics")
    _insert_events(pipeline, after + before[:3])  # the duplicates collapse, as before 0006
    upgraded = _engagement(pipeline)
    expected = {
        ("platform", "twitter", minute // 1000): (5, 0, 0, 0, 0, 0, 0, 0, 5),
        ("platform", "twitter", minute // 1000 + 60): (0, 0, 0, 7, 4, 0, 0, 0, 11),
        ("platform", "reddit", minute // 1000): (0, 0, 0, 0, 0, 0, 0, 0, 2),  # follows count in total only
        ("post", "p1", minute // 1000): (1, 0, 0, 0, 0, 0, 0, 0, 1),
        ("post", "p1", minute // 1000 + 60): (0, 0, 0, 7, 4, 0, 0, 0, 11),
        ("hashtag", "launch", minute // 1000): (5, 0, 0, 0, 0, 0, 0, 0, 5),
        ("hashtag", "launch", minute // 1000 + 60): (0, 0, 0, 0, 4, 0, 0, 0, 4),
        ("brand", "acme", minute // 1000): (5, 0, 0, 0, 0, 0, 0, 0, 5),
    }
    got = {(d, k, m): tuple(rest) for d, k, m, *rest in upgraded}
    for key, counts in expected.items():
        assert got[key] == counts, key
    assert sum(v[-1] for (d, _, _), v in got.items() if d == "author") == 18
    pipeline.pulse("migrate", "--down", "--to", "5")
    assert _engagement(pipeline) == upgraded
    pipeline.pulse("migrate", "--skip-topics")
    assert _engagement(pipeline) == upgraded
