"""`pulse migrate`: create the Kafka topics and apply ClickHouse migrations, idempotently."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from clickhouse_driver import Client

from schemas.migrations import Migration, load_migrations
from schemas.topics import TopicNames
from sinks.clickhouse_client import connect
from streams.settings import ClickHouseEndpoint, Settings

LEDGER = "schema_migrations"
# The ledger is the migrator's own bookkeeping (as in snuba), so it is created here, not in a migration.
LEDGER_DDL = (
    f"CREATE TABLE IF NOT EXISTS {LEDGER} (version UInt32, name String, applied UInt8, "
    "at DateTime64(6, 'UTC') DEFAULT now64(6)) ENGINE = MergeTree ORDER BY (version, at)"
)


def applied_versions(client: Client) -> set[int]:
    rows = client.execute(f"SELECT version FROM {LEDGER} GROUP BY version HAVING argMax(applied, at) = 1")
    return {int(r[0]) for r in rows}


def ensure_database(endpoint: ClickHouseEndpoint) -> None:
    """Create the endpoint's database if needed (a client on it cannot connect before)."""
    admin = connect(endpoint, database=False)
    try:
        # The database name was validated as [A-Za-z0-9_]+ when the URL was parsed.
        admin.execute(f"CREATE DATABASE IF NOT EXISTS `{endpoint.database}`")
    finally:
        admin.disconnect()


def plan(applied: set[int], migrations: list[Migration], target: int | None, down: bool) -> list[Migration]:
    """Which migrations to run, in order: up to `target` (default: all) or down to `target` (default: 0)."""
    if down:
        floor = target or 0
        return [m for m in reversed(migrations) if m.version in applied and m.version > floor]
    ceiling = target if target is not None else max((m.version for m in migrations), default=0)
    return [m for m in migrations if m.version not in applied and m.version <= ceiling]


def migrate_clickhouse(
    client: Client,
    *,
    down: bool = False,
    target: int | None = None,
    dry_run: bool = False,
    echo: Callable[[str], Any] = print,
) -> list[Migration]:
    migrations = load_migrations()
    if dry_run:
        try:
            applied = applied_versions(client)
        except Exception:  # no database or ledger yet: everything would run
            applied = set()
    else:
        client.execute(LEDGER_DDL)
        applied = applied_versions(client)
    todo = plan(applied, migrations, target, down)
    for migration in todo:
        statements = migration.down if down else migration.up
        echo(f"-- {'down' if down else 'up'} {migration.version:04d}_{migration.name}")
        for statement in statements:
            if dry_run:
                echo(statement + ";")
            else:
                client.execute(statement)
        if not dry_run:
            client.execute(f"INSERT INTO {LEDGER} (version, name, applied) VALUES",
                           [(migration.version, migration.name, 0 if down else 1)])
    return todo


def create_topics(settings: Settings, echo: Callable[[str], Any] = print) -> list[str]:
    """Create every topic that does not exist yet; returns the names created."""
    from kafka.admin import KafkaAdminClient, NewTopic
    from kafka.errors import KafkaError, TopicAlreadyExistsError

    from pulse.preflight import kafka_unreachable, require_kafka_reachable

    require_kafka_reachable(settings)
    names = TopicNames(settings.topic_prefix)
    try:
        admin = KafkaAdminClient(bootstrap_servers=settings.kafka_bootstrap, request_timeout_ms=10000,
                                 client_id="pulse-migrate")
    except (KafkaError, OSError) as exc:
        raise kafka_unreachable(settings, exc) from exc
    try:
        existing = set(admin.list_topics())
        created = []
        for topic in names.all():
            if topic in existing:
                continue
            try:
                admin.create_topics([NewTopic(topic, settings.topic_partitions, settings.topic_replication,
                                              topic_configs=_topic_config(topic, names))])
                created.append(topic)
                echo(f"topic {topic}: created ({settings.topic_partitions} partitions)")
            except TopicAlreadyExistsError:
                pass
        return created
    finally:
        admin.close()


def _topic_config(topic: str, names: TopicNames) -> dict[str, str]:
    if topic in names.state():
        # One entry per key is all a restart reads: older values and deleted keys are compacted away.
        return {"cleanup.policy": "compact"}
    if topic in (names.keyed, names.contributions):
        # Internal hand-off between worker stages: a day is plenty to recover from any outage.
        return {"retention.ms": str(24 * 3600 * 1000)}
    return {}
