"""Expected failures print one line and exit non-zero: no stack traces, no hangs."""

from __future__ import annotations

import socket
import subprocess
import sys

from tests.integration.conftest import ROOT, Pipeline


def run(env: dict[str, str], *args: str, timeout: float = 90) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "pulse", *args], env=env, cwd=ROOT, capture_output=True,
                          text=True, timeout=timeout, check=False)


def assert_one_line_error(result: subprocess.CompletedProcess[str], *needles: str) -> None:
    assert result.returncode != 0
    assert "Traceback" not in result.stderr and "Traceback" not in result.stdout
    lines = [ln for ln in result.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1, result.stderr
    for needle in needles:
        assert needle in lines[0], lines[0]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_unreachable_clickhouse(pipeline: Pipeline) -> None:
    env = dict(pipeline.env, PULSE_CLICKHOUSE_URL=f"clickhouse://default:@127.0.0.1:{free_port()}/pulse")
    assert_one_line_error(run(env, "migrate", "--skip-topics"), "ClickHouse", "unreachable", "pulse dev up")


def test_unreachable_kafka(pipeline: Pipeline) -> None:
    env = dict(pipeline.env, PULSE_KAFKA_BOOTSTRAP=f"127.0.0.1:{free_port()}")
    assert_one_line_error(run(env, "migrate"), "Kafka", "unreachable")
    assert_one_line_error(run(env, "worker"), "Kafka", "unreachable")


def test_worker_before_migrate(pipeline: Pipeline) -> None:
    assert_one_line_error(run(pipeline.env, "worker"), "pulse migrate")


def test_port_taken(pipeline: Pipeline, tmp_path: object) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        port = s.getsockname()[1]
        env = dict(pipeline.env, PULSE_DATA_DIR=str(pipeline.tmp / "other"),
                   PULSE_CLICKHOUSE_URL=f"clickhouse://default:@127.0.0.1:{port}/pulse")
        assert_one_line_error(run(env, "dev", "up", "clickhouse"), f"port 127.0.0.1:{port} is taken")


def test_bad_configuration(pipeline: Pipeline) -> None:
    env = dict(pipeline.env, PULSE_TOPIC_PARTITIONS="zero")
    assert_one_line_error(run(env, "migrate"), "PULSE_TOPIC_PARTITIONS")
    env = dict(pipeline.env, PULSE_CLICKHOUSE_URL="http://nope")
    assert_one_line_error(run(env, "migrate"), "PULSE_CLICKHOUSE_URL")


def test_replay_missing_file(pipeline: Pipeline) -> None:
    assert_one_line_error(run(pipeline.env, "replay", "/nonexistent/file.ndjson"), "no such file")
