"""`pulse ingest` as a real subprocess: real HTTP requests in, envelopes on the real Kafka's social.raw,
and one platform webhook all the way through a worker into ClickHouse."""

from __future__ import annotations

import base64
import hashlib
import hmac
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest
from kafka import KafkaConsumer

from sinks.notify.signing import signature_header
from tests.integration.conftest import PULSE, ROOT, Pipeline

FIXTURE = ROOT / "tests" / "fixtures" / "platforms" / "facebook" / "comments_and_reactions"
APP_SECRET = "meta-app-secret"
VERIFY_TOKEN = "meta-verify-token"
CONSUMER_SECRET = "x-consumer-secret"
PULSE_SECRET = "our-relay-secret"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def call(url: str, method: str = "GET", body: bytes | None = None,
         headers: dict[str, str] | None = None) -> tuple[int, bytes]:
    request = urllib.request.Request(url, data=body, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


class Ingest:
    def __init__(self, pipeline: Pipeline, tmp: Path) -> None:
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.env = dict(pipeline.env, PULSE_INGEST_PORT=str(self.port), PULSE_INGEST_MAX_BODY_BYTES="4096",
                        PULSE_INGEST_FACEBOOK_APP_SECRET=APP_SECRET,
                        PULSE_INGEST_TWITTER_CONSUMER_SECRET=CONSUMER_SECRET, PULSE_INGEST_SECRET=PULSE_SECRET)
        token_file = tmp / "verify-token"
        token_file.write_text(VERIFY_TOKEN + "\n")
        self.env["PULSE_INGEST_FACEBOOK_VERIFY_TOKEN_FILE"] = str(token_file)
        self.log = tmp / "ingest.log"
        self.proc = subprocess.Popen([*PULSE, "ingest"], env=self.env, cwd=ROOT, stdout=self.log.open("wb"),
                                     stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            assert self.proc.poll() is None, self.log.read_text()
            try:
                if call(self.base + "/healthz")[0] == 200:
                    return
            except OSError:
                pass
            time.sleep(0.2)
        raise AssertionError(f"pulse ingest did not listen: {self.log.read_text()}")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            self.proc.wait(timeout=30)


@pytest.fixture
def ingest(pipeline: Pipeline, tmp_path: Path) -> Iterator[Ingest]:
    pipeline.migrate()
    server = Ingest(pipeline, tmp_path)
    try:
        yield server
    finally:
        server.stop()
    assert server.proc.returncode == 0, server.log.read_text()
    assert APP_SECRET not in server.log.read_text() and PULSE_SECRET not in server.log.read_text()


def meta_signed(body: bytes, secret: str = APP_SECRET) -> dict[str, str]:
    mac = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return {"X-Hub-Signature-256": f"sha256={mac}", "Content-Type": "application/json"}


def raw_messages(pipeline: Pipeline, expected: int) -> list[dict[str, Any]]:
    consumer = KafkaConsumer(pipeline.topic("social.raw"), bootstrap_servers=pipeline.settings.kafka_bootstrap,
                             auto_offset_reset="earliest", consumer_timeout_ms=3000, enable_auto_commit=False)
    try:
        values: list[dict[str, Any]] = []
        deadline = time.monotonic() + 20
        while len(values) < expected and time.monotonic() < deadline:
            values += [orjson.loads(m.value) for m in consumer]
        # Nothing beyond the expected messages arrives (rejected webhooks produce nothing).
        values += [orjson.loads(m.value) for m in consumer]
        return values
    finally:
        consumer.close()


def test_webhooks_handshakes_and_rejections(pipeline: Pipeline, ingest: Ingest) -> None:
    base = ingest.base
    # Meta's subscription handshake and X's CRC.
    ok = call(f"{base}/webhooks/facebook?hub.mode=subscribe&hub.verify_token={VERIFY_TOKEN}&hub.challenge=8812")
    assert ok == (200, b"8812")
    assert call(f"{base}/webhooks/facebook?hub.mode=subscribe&hub.verify_token=guess&hub.challenge=1")[0] == 403
    status, body = call(f"{base}/webhooks/twitter?crc_token=abc123")
    mac = hmac.new(CONSUMER_SECRET.encode(), b"abc123", hashlib.sha256).digest()
    assert (status, orjson.loads(body)) == (200, {"response_token": "sha256=" + base64.b64encode(mac).decode()})

    payload = orjson.loads((FIXTURE.parent / "comments_and_reactions.json").read_bytes())["payload"]
    fb_body = orjson.dumps(payload)
    assert call(f"{base}/webhooks/facebook", "POST", fb_body, meta_signed(fb_body))[0] == 200
    relayed = orjson.dumps({"kind": "t1", "data": {"name": "t1_lz1", "author": "nerd", "body": "2 days",
                                                   "created_utc": 1795255500, "link_id": "t3_1gx",
                                                   "parent_id": "t3_1gx"}})
    pulse_signed = {"X-Pulse-Signature": signature_header(PULSE_SECRET.encode(), relayed, int(time.time()))}
    assert call(f"{base}/webhooks/reddit", "POST", relayed, pulse_signed)[0] == 200

    # Rejections: each answers its status and produces nothing.
    assert call(f"{base}/webhooks/facebook", "POST", fb_body, {})[0] == 401
    assert call(f"{base}/webhooks/facebook", "POST", fb_body, meta_signed(fb_body, "wrong"))[0] == 403
    assert call(f"{base}/webhooks/facebook", "POST", fb_body + b" ", meta_signed(fb_body))[0] == 403
    assert call(f"{base}/webhooks/myspace", "POST", fb_body, meta_signed(fb_body))[0] == 404
    big = b'{"x": "' + b"a" * 8000 + b'"}'
    assert call(f"{base}/webhooks/facebook", "POST", big, meta_signed(big))[0] == 413
    assert call(f"{base}/webhooks/facebook", "POST", b"<xml/>", meta_signed(b"<xml/>"))[0] == 400
    assert call(f"{base}/webhooks/facebook", "PUT", fb_body, meta_signed(fb_body))[0] == 405

    assert call(f"{base}/readyz")[0] == 200
    metrics = call(f"{base}/metrics")[1].decode()
    assert 'pulse_ingest_requests_total{platform="facebook",status="200"} 2.0' in metrics  # POST + handshake
    assert 'pulse_ingest_rejected_signatures_total{platform="facebook"} 3.0' in metrics
    assert "pulse_ingest_produce_seconds_count 2.0" in metrics

    values = raw_messages(pipeline, 2)
    assert sorted(v["platform"] for v in values) == ["facebook", "reddit"]
    fb = next(v for v in values if v["platform"] == "facebook")
    assert fb["payload"] == payload and fb["fetched_at"].endswith("Z")

    # Through a worker: the webhook's events are in ClickHouse.
    expected = orjson.loads((FIXTURE.parent / "comments_and_reactions.expected.json").read_bytes())
    ids = {e["id"] for e in expected["events"]}
    pipeline.start_worker()
    count = "SELECT count() FROM {db}.events WHERE platform = 'facebook'"
    pipeline.wait_for("facebook webhook events", lambda: pipeline.scalar(count), len(ids), timeout=60)
    stored = {r[0] for r in pipeline.query("SELECT id FROM {db}.events WHERE platform = 'facebook'")}
    assert stored == ids


def test_port_taken_is_one_line_and_non_zero(pipeline: Pipeline, ingest: Ingest) -> None:
    second = subprocess.run([*PULSE, "ingest"], env=ingest.env, cwd=ROOT, capture_output=True, text=True,
                            timeout=60, check=False)
    assert second.returncode != 0
    assert second.stderr.strip().count("\n") == 0, second.stderr
    assert f"cannot listen on 127.0.0.1:{ingest.port}" in second.stderr and "Traceback" not in second.stderr
