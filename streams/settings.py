"""All configuration, in one place: environment variables `PULSE_*`, or a `.env` file."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal
from urllib.parse import unquote, urlsplit

from pydantic import BaseModel, Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class ClickHouseEndpoint(BaseModel):
    """Parsed `clickhouse://user:password@host:port/database` (native protocol)."""

    host: str
    port: int
    user: str
    password: SecretStr
    database: str
    secure: bool = False

    def safe_url(self) -> str:
        """The URL without its password, for logs and error messages."""
        scheme = "clickhouses" if self.secure else "clickhouse"
        return f"{scheme}://{self.user}@{self.host}:{self.port}/{self.database}"


def parse_clickhouse_url(url: str) -> ClickHouseEndpoint:
    parts = urlsplit(url)
    if parts.scheme not in ("clickhouse", "clickhouses"):
        raise ValueError(f"PULSE_CLICKHOUSE_URL must start with clickhouse:// (got {parts.scheme or 'none'}://)")
    secure = parts.scheme == "clickhouses"
    database = parts.path.lstrip("/") or "pulse"
    if not database.replace("_", "").isalnum():
        raise ValueError(f"PULSE_CLICKHOUSE_URL database name {database!r} must be letters, digits and _")
    return ClickHouseEndpoint(
        host=parts.hostname or "127.0.0.1",
        port=parts.port or (9440 if secure else 9000),
        user=unquote(parts.username or "default"),
        password=SecretStr(unquote(parts.password or "")),
        database=database,
        secure=secure,
    )


# Conversation and amplification weigh more than passive attention.
DEFAULT_ENGAGEMENT_WEIGHTS = {"post": 3.0, "comment": 4.0, "reply": 3.0, "share": 5.0, "mention": 2.0,
                              "like": 1.0, "vote": 1.0, "follow": 1.0, "view": 0.1}


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="PULSE_", env_file=".env", extra="ignore")

    # Endpoints
    kafka_bootstrap: str = "127.0.0.1:9092"
    clickhouse_url: SecretStr = SecretStr("clickhouse://default:@127.0.0.1:9000/pulse")
    clickhouse_password_file: Path | None = None
    topic_prefix: str = ""
    data_dir: Path = Path(".pulse")

    # Topics
    topic_partitions: int = Field(default=6, ge=1, le=1024)
    topic_replication: int = Field(default=1, ge=1, le=16)

    # Worker
    worker_id: str = "worker"
    max_message_bytes: int = Field(default=1024 * 1024, ge=1024)
    # The stateless route stage (parse, validate, re-partition) runs in this many child processes
    # of each worker, so a worker uses a second core despite the GIL; 0 runs it in-process.
    route_processes: int = Field(default=1, ge=0, le=16)
    # The windows stage (engagement windows, spike alerts) in a child process of each worker.
    windows_process: bool = True
    batch_max: int = Field(default=5000, ge=1)
    batch_within_s: float = Field(default=0.5, gt=0)
    sink_retry_max_s: float = Field(default=30.0, gt=0)
    # The events sink inserts into ClickHouse at most this often (each insert is a part to merge).
    sink_insert_interval_s: float = Field(default=1.0, ge=0, le=60)
    session_timeout_s: float = Field(default=10.0, ge=6.0, le=300.0)
    metrics_port: int = Field(default=0, ge=0, le=65535)
    # Loopback unless configured: containers set 0.0.0.0 so Prometheus can scrape them.
    metrics_host: str = "127.0.0.1"
    log_level: str = "warning"
    # Live page (pulse ui, and the demo): loopback unless configured; port 0 picks a free one.
    ui_host: str = "127.0.0.1"
    ui_port: int = Field(default=8765, ge=0, le=65535)

    # Dedupe and enrichment
    dedupe_horizon_s: int = Field(default=7 * 24 * 3600, ge=60)
    watchlist_file: Path | None = None  # brand -> keywords, handles, hashtags (deploy/watchlist.example.json)
    # Platform counters (likes, views, scores) → at most this many unit events per counter per snapshot
    # (views: a tenth); a larger rise between two snapshots is counted as this (schemas/adapters/output.py).
    adapter_counter_cap: int = Field(default=1000, ge=10, le=100_000)

    # Engagement windows and spike alerts
    window_grace_s: int = Field(default=120, ge=0, le=24 * 3600)  # late events up to this are still windowed
    # The windows stage writes its state (and acks its input) at most this often: a bucket that
    # changes in every batch is written once per checkpoint; a crash replays what came after.
    window_checkpoint_s: float = Field(default=2.0, gt=0, le=60)
    # Weighted engagement score: weight per event kind (merged over these defaults).
    engagement_weights: dict[str, float] = Field(default_factory=lambda: dict(DEFAULT_ENGAGEMENT_WEIGHTS))
    detector_config_file: Path | None = None  # rules, sensitivity, floors, per-key overrides (deploy/detector.toml)

    # Alert delivery (pulse notify)
    notify_config_file: Path | None = None  # subscribers and their filters (deploy/notify.example.toml)
    notify_metrics_port: int = Field(default=0, ge=0, le=65535)  # its /metrics (0: off); host: metrics_host
    # Where a notify consumer group with no committed offset starts: every alert still in the topic,
    # or only those produced from now on.
    notify_start: Literal["earliest", "latest"] = "earliest"

    # Webhook receiver (pulse ingest). Secrets: the value, or a file holding it (`*_FILE`); never logged.
    ingest_host: str = "127.0.0.1"
    ingest_port: int = Field(default=8088, ge=0, le=65535)
    ingest_max_body_bytes: int = Field(default=1024 * 1024, ge=1024)  # larger bodies: 413
    ingest_signature_tolerance_s: float = Field(default=300.0, gt=0)  # X-Pulse-Signature timestamps
    ingest_secret: SecretStr | None = None  # X-Pulse-Signature secret, accepted on every platform
    ingest_secret_file: Path | None = None
    ingest_facebook_app_secret: SecretStr | None = None  # Meta X-Hub-Signature-256
    ingest_facebook_app_secret_file: Path | None = None
    ingest_facebook_verify_token: SecretStr | None = None  # Meta subscription handshake (hub.verify_token)
    ingest_facebook_verify_token_file: Path | None = None
    ingest_twitter_consumer_secret: SecretStr | None = None  # X CRC handshake, X-Twitter-Webhooks-Signature
    ingest_twitter_consumer_secret_file: Path | None = None
    ingest_forum_secret: SecretStr | None = None  # Discourse X-Discourse-Event-Signature
    ingest_forum_secret_file: Path | None = None

    # Feed poller (pulse poll-feeds)
    feeds_config_file: Path | None = None  # feeds to poll (deploy/feeds.example.toml)
    feeds_metrics_port: int = Field(default=0, ge=0, le=65535)  # its /metrics (0: off); host: metrics_host

    # Local stack (pulse dev)
    dev_kafka_controller_port: int = Field(default=9093, ge=1, le=65535)
    dev_clickhouse_http_port: int = Field(default=8123, ge=1, le=65535)
    dev_start_timeout_s: float = Field(default=90.0, gt=0)
    cache_dir: Path = Path.home() / ".cache" / "social-pulse"

    @field_validator("topic_prefix")
    @classmethod
    def _prefix_is_topic_safe(cls, v: str) -> str:
        if v and not all(c.isalnum() or c in "._-" for c in v):
            raise ValueError("PULSE_TOPIC_PREFIX may contain only letters, digits, '.', '_' and '-'")
        return v

    @field_validator("kafka_bootstrap")
    @classmethod
    def _bootstrap_has_port(cls, v: str) -> str:
        for server in v.split(","):
            host, sep, port = server.strip().rpartition(":")
            if not sep or not host or not port.isdigit():
                raise ValueError(f"PULSE_KAFKA_BOOTSTRAP entries must be host:port (got {server!r})")
        return v

    @field_validator("engagement_weights")
    @classmethod
    def _known_kinds(cls, v: dict[str, float]) -> dict[str, float]:
        unknown = set(v) - set(DEFAULT_ENGAGEMENT_WEIGHTS)
        if unknown:
            raise ValueError(f"PULSE_ENGAGEMENT_WEIGHTS: unknown kind(s) {', '.join(sorted(unknown))}")
        if any(w < 0 for w in v.values()):
            raise ValueError("PULSE_ENGAGEMENT_WEIGHTS: weights must be >= 0")
        return {**DEFAULT_ENGAGEMENT_WEIGHTS, **v}

    @property
    def clickhouse(self) -> ClickHouseEndpoint:
        endpoint = parse_clickhouse_url(self.clickhouse_url.get_secret_value())
        if self.clickhouse_password_file is not None:
            secret = self.clickhouse_password_file.read_text().strip()
            endpoint = endpoint.model_copy(update={"password": SecretStr(secret)})
        return endpoint

    @property
    def kafka_first_server(self) -> tuple[str, int]:
        host, _, port = self.kafka_bootstrap.split(",")[0].strip().rpartition(":")
        return host, int(port)


@lru_cache(maxsize=1)
def load_settings() -> Settings:
    """Settings from the environment; cached so every part of one process agrees."""
    return Settings()
