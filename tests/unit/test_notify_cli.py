"""`pulse notify` on the command line: help, and one-line errors before any Kafka work."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def notify(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    full = {k: v for k, v in os.environ.items() if not k.startswith("PULSE_")}
    full.update(env or {})
    return subprocess.run([sys.executable, "-m", "pulse", "notify", *args], env=full, cwd=ROOT, capture_output=True,
                          text=True, timeout=60, check=False)


def one_line(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode != 0 and "Traceback" not in result.stderr, result.stderr
    lines = [ln for ln in result.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1, result.stderr
    return lines[0]


def test_help() -> None:
    out = notify("--help")
    assert out.returncode == 0 and "Usage: pulse notify" in out.stdout and "--config" in out.stdout


def test_no_config_says_how_to_give_one() -> None:
    assert "PULSE_NOTIFY_CONFIG_FILE" in one_line(notify())


def test_invalid_config_names_the_file_and_the_problem(tmp_path: Path) -> None:
    bad = tmp_path / "subs.toml"
    bad.write_text('[subscribers.x]\ntype = "webhook"\nurl = "http://127.0.0.1:1/"\nsecret_env = "UNSET_SECRET"\n')
    line = one_line(notify(env={"PULSE_NOTIFY_CONFIG_FILE": str(bad)}))
    assert str(bad) in line and "secret_env: environment variable UNSET_SECRET is not set" in line
    bad.write_text("[subscribers.x\n")
    assert f"{bad}: not valid TOML" in one_line(notify("--config", str(bad)))
    assert "no such notify configuration file" in one_line(notify("--config", str(tmp_path / "missing.toml")))


def test_check_lists_subscribers_without_secrets(tmp_path: Path) -> None:
    good = tmp_path / "subs.toml"
    good.write_text('[subscribers.x]\ntype = "webhook"\nurl = "http://127.0.0.1:1/"\nsecret_env = "S"\n')
    out = notify("--check", "--config", str(good), env={"S": "topsecret"})
    assert out.returncode == 0 and out.stdout == "x: webhook\n" and "topsecret" not in out.stdout + out.stderr


def test_unreachable_kafka_is_one_line(tmp_path: Path) -> None:
    good = tmp_path / "subs.toml"
    good.write_text('[subscribers.x]\ntype = "slack"\nurl = "http://127.0.0.1:1/"\n')
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    line = one_line(notify("--config", str(good), env={"PULSE_KAFKA_BOOTSTRAP": f"127.0.0.1:{port}",
                                                      "PULSE_DATA_DIR": str(tmp_path / "data")}))
    assert f"Kafka at 127.0.0.1:{port} is unreachable" in line
