"""`pulse ingest` and `pulse poll-feeds` fail with one line on bad configuration (no services needed)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def pulse(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("PULSE_")}
    return subprocess.run([sys.executable, "-m", "pulse", *args], env={**clean, **env}, cwd=ROOT,
                          capture_output=True, text=True, timeout=60, check=False)


def test_ingest_without_any_secret_refuses_to_start() -> None:
    done = pulse("ingest", PULSE_KAFKA_BOOTSTRAP="127.0.0.1:1")
    assert done.returncode == 1
    assert done.stderr.strip().startswith("pulse: error: no webhook secret is configured")
    assert "\n" not in done.stderr.strip()


def test_ingest_secret_file_that_cannot_be_read_is_named_not_shown(tmp_path: Path) -> None:
    done = pulse("ingest", PULSE_INGEST_SECRET_FILE=str(tmp_path / "missing"))
    assert done.returncode == 2
    assert "PULSE_INGEST_SECRET_FILE: cannot read" in done.stderr and "Traceback" not in done.stderr


def test_poll_feeds_check_lists_the_example_and_rejects_a_bad_file(tmp_path: Path) -> None:
    listed = pulse("poll-feeds", "--check", "--config", str(ROOT / "deploy" / "feeds.example.toml"))
    assert listed.returncode == 0, listed.stderr
    assert "acme-blog: https://blog.example.com/feed/ every 120s as blog" in listed.stdout
    bad = tmp_path / "feeds.toml"
    bad.write_text('[feeds.a]\nurl = "https://x.example/feed"\nplatform = "wiki"\n')
    done = pulse("poll-feeds", "--check", "--config", str(bad))
    assert done.returncode == 2 and "feeds.a.platform: must be one of atom, blog, feed, rss" in done.stderr
    assert pulse("poll-feeds").stderr.startswith("pulse: error: no feeds file")
