"""Integration fixtures: the REAL local Kafka and ClickHouse started by `pulse dev up`.

Each test gets its own topic prefix and ClickHouse database, so tests never see each other's data.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from clickhouse_driver import Client
from kafka import KafkaProducer

from pulse.devstack.clickhouse import clickhouse_ready
from pulse.devstack.kafka import kafka_ready
from streams.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
PULSE = [sys.executable, "-m", "pulse"]

pytestmark = pytest.mark.integration


def _base_settings() -> Settings:
    return Settings()


@pytest.fixture(scope="session")
def stack() -> Settings:
    s = _base_settings()
    if not kafka_ready(s.kafka_bootstrap) or not clickhouse_ready(s):
        pytest.fail("the local stack is not running: `make test` starts it (or run `pulse dev up`)")
    return s


class Pipeline:
    """One isolated deployment on the shared stack: its own topics, database and workers."""

    def __init__(self, base: Settings, tmp: Path) -> None:
        tag = uuid.uuid4().hex[:8]
        ep = base.clickhouse
        self.database = f"pulse_t{tag}"
        self.prefix = f"t{tag}."
        self.env = dict(os.environ)
        self.env.update({
            "PULSE_TOPIC_PREFIX": self.prefix,
            "PULSE_CLICKHOUSE_URL": f"clickhouse://{ep.user}:@{ep.host}:{ep.port}/{self.database}",
            "PULSE_DATA_DIR": str(tmp / "data"),
            "PULSE_BATCH_WITHIN_S": "0.2",
            "PULSE_LOG_LEVEL": "info",  # so a failing test shows what the workers were doing
        })
        self.settings = Settings(topic_prefix=self.prefix, data_dir=tmp / "data",
                                 clickhouse_url=self.env["PULSE_CLICKHOUSE_URL"])  # type: ignore[arg-type]
        self.tmp = tmp
        self.workers: dict[str, subprocess.Popen[bytes]] = {}
        self._producer: KafkaProducer | None = None
        self.ch = Client(host=ep.host, port=ep.port, user=ep.user, database="default")

    def topic(self, base: str) -> str:
        return f"{self.prefix}{base}"

    def pulse(self, *args: str, check: bool = True, timeout: float = 120,
              input: bytes | None = None) -> subprocess.CompletedProcess[str]:
        result = subprocess.run([*PULSE, *args], env=self.env, cwd=ROOT, capture_output=True, timeout=timeout,
                                input=input.decode() if input is not None else None, text=True, check=False)
        if check and result.returncode != 0:
            raise AssertionError(f"pulse {' '.join(args)} failed ({result.returncode}): {result.stderr[-2000:]}")
        return result

    def stack(self, *args: str) -> None:
        """`pulse dev ...` on the shared test stack (its own data folder, not this pipeline's)."""
        result = subprocess.run([*PULSE, "dev", *args], env=dict(os.environ), cwd=ROOT, capture_output=True,
                                text=True, timeout=180, check=False)
        if result.returncode != 0:
            raise AssertionError(f"pulse dev {' '.join(args)} failed: {result.stderr[-2000:]}")

    def migrate(self) -> None:
        self.pulse("migrate")

    def start_worker(self, name: str = "w1", **extra_env: str) -> subprocess.Popen[bytes]:
        env = dict(self.env, PULSE_WORKER_ID=name, **extra_env)
        log = (self.tmp / f"{name}.log").open("ab")
        proc = subprocess.Popen([*PULSE, "worker"], env=env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT,
                                start_new_session=True)
        self.workers[name] = proc
        return proc

    def kill_worker(self, name: str, sig: int = signal.SIGKILL) -> None:
        proc = self.workers.pop(name)
        os.killpg(proc.pid, sig)
        proc.wait(timeout=60)

    def worker_log(self, name: str) -> str:
        return (self.tmp / f"{name}.log").read_text(errors="replace")

    @property
    def producer(self) -> KafkaProducer:
        if self._producer is None:
            self._producer = KafkaProducer(bootstrap_servers=self.settings.kafka_bootstrap, acks="all",
                                           linger_ms=5)
        return self._producer

    def produce(self, values: list[bytes], topic: str = "social.raw", partition: int | None = None) -> None:
        for value in values:
            self.producer.send(self.topic(topic), value=value, partition=partition)
        self.producer.flush()

    def query(self, sql: str, params: dict[str, Any] | None = None) -> list[tuple[Any, ...]]:
        return list(self.ch.execute(sql.replace("{db}", self.database), params or {}))

    def scalar(self, sql: str) -> Any:
        return self.query(sql)[0][0]

    def wait_for(self, what: str, probe: Callable[[], Any], expected: Any, timeout: float = 90) -> None:
        deadline = time.monotonic() + timeout
        last: Any = None
        while time.monotonic() < deadline:
            last = probe()
            if last == expected:
                return
            for name, proc in self.workers.items():
                if proc.poll() is not None:
                    raise AssertionError(f"worker {name} died: {self.worker_log(name)[-3000:]}")
            time.sleep(0.5)
        logs = "\n".join(f"--- {name}:\n{self.log_tail(name)}" for name in self.workers)
        raise AssertionError(f"{what}: expected {expected!r}, last saw {last!r} after {timeout}s\n{logs}")

    def wait_for_unique_events(self, n: int, timeout: float = 90) -> None:
        """Wait until `events` holds n unique events and `engagement_by_minute` counts all of them:
        ClickHouse commits an insert's part of events_local before the part its materialized view
        writes, so a reader can see the events a moment before their engagement counts."""
        self.wait_for(f"{n} unique events in events and engagement_by_minute", lambda: (
            self.scalar("SELECT count() FROM {db}.events"),
            self.scalar("SELECT sum(total) FROM {db}.engagement_by_minute WHERE dimension = 'platform'")),
            (n, n), timeout=timeout)

    def log_tail(self, name: str, lines: int = 60) -> str:
        """The worker's log without Faust's boxed tables, last lines only."""
        text = [ln for ln in self.worker_log(name).splitlines() if ln.strip() and ln.lstrip()[:1] not in "│┌└├"]
        return "\n".join(ln[:300] for ln in text[-lines:])

    def close(self) -> None:
        for name in list(self.workers):
            proc = self.workers[name]
            if proc.poll() is None:
                self.kill_worker(name, signal.SIGTERM)
        if self._producer is not None:
            self._producer.close()
        self.ch.execute(f"DROP DATABASE IF EXISTS {self.database}")
        self.ch.disconnect()


@pytest.fixture
def pipeline(stack: Settings, tmp_path: Path) -> Iterator[Pipeline]:
    p = Pipeline(stack, tmp_path)
    try:
        yield p
    finally:
        p.close()
