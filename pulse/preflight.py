"""Checks a command makes before it starts work, each failing with one actionable line."""

from __future__ import annotations

from pulse.errors import PulseError
from schemas.migrations import load_migrations
from schemas.topics import TopicNames
from streams.settings import Settings


def kafka_unreachable(settings: Settings, exc: BaseException | None = None) -> PulseError:
    """The one message for a Kafka that cannot be reached."""
    why = type(exc).__name__ if exc is not None else "connection refused"
    return PulseError(f"Kafka at {settings.kafka_bootstrap} is unreachable ({why}); "
                      "start it with `pulse dev up` or set PULSE_KAFKA_BOOTSTRAP")


def require_kafka_reachable(settings: Settings) -> None:
    """Fail fast (seconds, not the client's 30 s timeout) when no bootstrap server accepts connections."""
    from pulse.devstack.process import port_open

    for server in settings.kafka_bootstrap.split(","):
        host, _, port = server.strip().rpartition(":")
        if port_open(host, int(port), timeout=3.0):
            return
    raise kafka_unreachable(settings)


def check_kafka_topics(settings: Settings) -> None:
    """Kafka answers and every topic exists with the configured partition count."""
    from kafka import KafkaConsumer
    from kafka.errors import KafkaError

    require_kafka_reachable(settings)
    names = TopicNames(settings.topic_prefix)
    try:
        consumer = KafkaConsumer(bootstrap_servers=settings.kafka_bootstrap, request_timeout_ms=10000,
                                 client_id="pulse-preflight")
    except (KafkaError, OSError) as exc:
        raise kafka_unreachable(settings, exc) from exc
    try:
        for topic in names.all():
            parts = consumer.partitions_for_topic(topic)
            if not parts:
                raise PulseError(f"topic {topic} does not exist; run `pulse migrate` first")
            if topic in (names.keyed, *names.state()) and len(parts) != settings.topic_partitions:
                raise PulseError(f"topic {topic} has {len(parts)} partitions but PULSE_TOPIC_PARTITIONS is "
                                 f"{settings.topic_partitions}; set it to {len(parts)}")
    finally:
        consumer.close()


def check_clickhouse_migrated(settings: Settings) -> None:
    """ClickHouse answers and every migration shipped with this version is applied."""
    from clickhouse_driver.errors import Error

    from pulse.migrate import applied_versions
    from sinks.clickhouse_client import connect

    ep = settings.clickhouse
    client = connect(ep, timeout_s=5)
    try:
        applied = applied_versions(client)
    except (Error, OSError, EOFError) as exc:
        if "UNKNOWN_DATABASE" in str(exc) or "UNKNOWN_TABLE" in str(exc) or "doesn't exist" in str(exc):
            raise PulseError(f"ClickHouse {ep.safe_url()} is not migrated; run `pulse migrate` first") from exc
        raise PulseError(f"ClickHouse at {ep.safe_url()} is unreachable ({type(exc).__name__}); "
                         "start it with `pulse dev up` or set PULSE_CLICKHOUSE_URL") from exc
    finally:
        client.disconnect()
    missing = [m.version for m in load_migrations() if m.version not in applied]
    if missing:
        raise PulseError(f"ClickHouse {ep.safe_url()} lacks migration(s) {missing}; run `pulse migrate` first")
