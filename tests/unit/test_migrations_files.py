from __future__ import annotations

import pytest

from schemas.migrations import load_migrations, parse_migration, split_statements


def test_shipped_migrations_are_numbered_and_reversible() -> None:
    migrations = load_migrations()
    assert [m.version for m in migrations] == list(range(1, len(migrations) + 1))
    for m in migrations:
        assert m.up and m.down
        created = sum(s.upper().startswith(("CREATE TABLE", "CREATE VIEW", "CREATE MATERIALIZED")) for s in m.up)
        dropped = sum(s.upper().startswith("DROP") for s in m.down)
        assert created == dropped, f"{m.name}: every object created by up must be dropped by down"


def test_split_ignores_comments_and_keeps_statements() -> None:
    sql = "-- a comment\nCREATE TABLE a (x UInt8)\nENGINE = Memory;\n\nDROP TABLE b;\n"
    assert split_statements(sql) == ("CREATE TABLE a (x UInt8)\nENGINE = Memory", "DROP TABLE b")


@pytest.mark.parametrize(("name", "text"), [
    ("1_bad.sql", "-- migrate:up\nA;\n-- migrate:down\nB;\n"),
    ("0001_x.sql", "-- migrate:down\nB;\n-- migrate:up\nA;\n"),
    ("0001_x.sql", "-- migrate:up\n-- migrate:down\nB;\n"),
])
def test_malformed_migrations_are_refused(name: str, text: str) -> None:
    with pytest.raises(ValueError):
        parse_migration(name, text)
