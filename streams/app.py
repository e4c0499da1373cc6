"""Building the Faust app from settings: the one place an app is made."""

from __future__ import annotations

import faust

from streams.settings import Settings


def app_id(settings: Settings, role: str = "main") -> str:
    """The application id: names the consumer groups and internal topics (changelogs) of a role."""
    return f"{settings.topic_prefix}social-pulse" + ("-windows" if role == "windows" else "")


def build_app(settings: Settings, role: str = "main") -> faust.App:
    """role "main": the agents of `pulse worker` (all of them when no stage runs in a child
    process); "windows": only the windows stage, run by the worker's windows child process."""
    broker = [f"kafka://{server.strip()}" for server in settings.kafka_bootstrap.split(",")]
    app = faust.App(
        app_id(settings, role),
        broker=broker,
        store="memory://",
        value_serializer="raw",
        key_serializer="raw",
        datadir=str(settings.data_dir / "workers" / settings.worker_id),
        topic_partitions=settings.topic_partitions,
        topic_replication_factor=settings.topic_replication,
        topic_allow_declare=True,
        consumer_auto_offset_reset="earliest",
        producer_acks=-1,
        producer_linger_ms=5,
        producer_max_request_size=4 * 1024 * 1024,
        stream_wait_empty=False,
        web_enabled=False,
        broker_commit_interval=1.0,
        # A SIGKILLed worker's partitions move to the others after this long (faust's default is 60 s).
        broker_session_timeout=settings.session_timeout_s,
        broker_heartbeat_interval=min(3.0, settings.session_timeout_s / 3),
        broker_commit_every=50_000,
        stream_buffer_maxsize=20_000,
        table_standby_replicas=0,
        consumer_max_fetch_size=8 * 1024 * 1024,
    )
    from streams.agents import register_agents

    register_agents(app, settings, role)
    return app
