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
