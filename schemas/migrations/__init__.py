"""Numbered ClickHouse migrations: `NNNN_name.sql`, each with `-- migrate:up` and `-- migrate:down`."""

from __future__ import annotations

import re
from dataclasses import dataclass
from importlib import resources

_NAME = re.compile(r"^(\d{4})_([a-z0-9_]+)\.sql$")
_UP = "-- migrate:up"
_DOWN = "-- migrate:down"


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    up: tuple[str, ...]
    down: tuple[str, ...]


def split_statements(sql: str) -> tuple[str, ...]:
    """Split a section into statements at `;` ending a line; comment lines are dropped."""
    statements: list[str] = []
    current: list[str] = []
    for line in sql.splitlines():
        if line.strip().startswith("--"):
            continue
        current.append(line)
        if line.rstrip().endswith(";"):
            stmt = "\n".join(current).strip().rstrip(";").strip()
            if stmt:
                statements.append(stmt)
            current = []
    tail = "\n".join(current).strip()
    if tail:
        statements.append(tail)
    return tuple(statements)


def parse_migration(filename: str, text: str) -> Migration:
    match = _NAME.match(filename)
    if match is None:
        raise ValueError(f"migration file {filename!r} must be named NNNN_snake_name.sql")
    if text.count(_UP) != 1 or text.count(_DOWN) != 1 or text.index(_UP) > text.index(_DOWN):
        raise ValueError(f"migration {filename} needs one '{_UP}' section followed by one '{_DOWN}' section")
    up_text, down_text = text.split(_UP, 1)[1].split(_DOWN, 1)
    up, down = split_statements(up_text), split_statements(down_text)
    if not up or not down:
        raise ValueError(f"migration {filename} has an empty up or down section")
    return Migration(int(match.group(1)), match.group(2), up, down)


def load_migrations() -> list[Migration]:
    """All migrations shipped in this package, in version order; versions must be 1..N."""
    folder = resources.files(__name__)
    migrations = sorted(
        (parse_migration(entry.name, entry.read_text()) for entry in folder.iterdir()
         if entry.name.endswith(".sql")),
        key=lambda m: m.version,
    )
    for expected, migration in enumerate(migrations, start=1):
        if migration.version != expected:
            raise ValueError(f"migration versions must be 1..N without gaps; found {migration.version:04d} "
                             f"where {expected:04d} was expected")
    return migrations
