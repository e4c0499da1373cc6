from __future__ import annotations

import subprocess
import sys

import pytest

from streams.settings import Settings, parse_clickhouse_url

COMMANDS = ["dev", "dev up", "dev down", "dev status", "migrate", "worker", "replay", "simulate", "backtest",
            "notify", "demo", "bench"]


def test_clickhouse_url_parsing_hides_password() -> None:
    ep = parse_clickhouse_url("clickhouse://bob:s%40cret@ch.example:9440/analytics")
    assert (ep.host, ep.port, ep.user, ep.database) == ("ch.example", 9440, "bob", "analytics")
    assert ep.password.get_secret_value() == "s@cret"
    assert "s@cret" not in ep.safe_url() and "s@cret" not in repr(ep)


@pytest.mark.parametrize("url", ["http://x:9000/db", "clickhouse://x/bad-name;drop"])
def test_bad_clickhouse_urls(url: str) -> None:
    with pytest.raises(ValueError):
        parse_clickhouse_url(url)


def test_password_file_overrides_url(tmp_path: object, monkeypatch: pytest.MonkeyPatch) -> None:
    from pathlib import Path

    secret = Path(str(tmp_path)) / "pw"
    secret.write_text("from-file\n")
    s = Settings(clickhouse_password_file=secret)
    assert s.clickhouse.password.get_secret_value() == "from-file"


def test_bad_bootstrap() -> None:
    with pytest.raises(ValueError):
        Settings(kafka_bootstrap="localhost")


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_has_help(command: str) -> None:
    out = subprocess.run([sys.executable, "-m", "pulse", *command.split(), "--help"], capture_output=True,
                         text=True, timeout=60, check=False)
    assert out.returncode == 0, out.stderr
    assert "Usage:" in out.stdout


def test_bad_arguments_are_one_line() -> None:
    out = subprocess.run([sys.executable, "-m", "pulse", "migrate", "--to", "x"], capture_output=True, text=True,
                         timeout=60, check=False)
    assert out.returncode == 2 and "Traceback" not in out.stderr
    assert "Invalid value for '--to'" in out.stderr
