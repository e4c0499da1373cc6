"""`pulse notify` end to end: the real Kafka, real HTTP servers on loopback, a real Alertmanager.

Alert changes are produced to the test's own social.alerts topic (shaped like the pipeline's, checked
against the JSON Schema); `pulse notify` runs as a subprocess; the servers record what they receive.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import threading
import time
import urllib.request
from collections import Counter
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import orjson
import pytest
from kafka import KafkaConsumer
from prometheus_client.parser import text_string_to_metric_families

from sinks.notify.signing import verify_signature
from tests.integration.conftest import PULSE, ROOT, Pipeline
from tests.unit.test_notify import make_alert

SECRET = "integration-secret-4f1c"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Recorder:
    """An HTTP receiver on loopback that records every POST it accepts.

    `hold_after=N`: after N recorded requests, the next ones wait (unrecorded) until `release()`,
    then get a 503: a receiver that is slow, or one the sender is talking to when it is killed.
    """

    def __init__(self, status: int = 200, hold_after: int | None = None) -> None:
        self.status = status
        self.hold_after = hold_after
        self.requests: list[dict[str, Any]] = []
        self.attempts = 0
        self.holding = 0
        self.lock = threading.Lock()
        self.released = threading.Event()
        recorder = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                with recorder.lock:
                    recorder.attempts += 1
                    held = recorder.hold_after is not None and len(recorder.requests) >= recorder.hold_after
                    if held:
                        recorder.holding += 1
                if held:
                    recorder.released.wait(timeout=60)
                    with recorder.lock:
                        recorder.holding -= 1
                    self._answer(503)
                    return
                if recorder.status < 300:
                    with recorder.lock:
                        recorder.requests.append({"path": self.path, "headers": dict(self.headers), "body": body,
                                                  "at": time.monotonic()})
                self._answer(recorder.status)

            def _answer(self, status: int) -> None:
                try:
                    self.send_response(status)
                    self.send_header("Content-Length", "2")
                    self.end_headers()
                    self.wfile.write(b"ok")
                except OSError:
                    pass  # the sender was killed meanwhile

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def release(self) -> None:
        with self.lock:
            self.hold_after = None
        self.released.set()

    def idempotency_keys(self) -> list[str]:
        with self.lock:
            return [r["headers"]["Idempotency-Key"] for r in self.requests]

    def close(self) -> None:
        self.released.set()
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def recorders() -> Iterator[list[Recorder]]:
    made: list[Recorder] = []
    yield made
    for r in made:
        r.close()


def recorder(recorders: list[Recorder], **kw: Any) -> Recorder:
    r = Recorder(**kw)
    recorders.append(r)
    return r


def start_notify(pipeline: Pipeline, config: str, name: str = "notify", **env: str) -> subprocess.Popen[bytes]:
    path = pipeline.tmp / "notify.toml"
    path.write_text(config)
    full = dict(pipeline.env, PULSE_NOTIFY_CONFIG_FILE=str(path), PULSE_SESSION_TIMEOUT_S="6",
                NOTIFY_TEST_SECRET=SECRET, **env)
    log = (pipeline.tmp / f"{name}.log").open("ab")
    proc = subprocess.Popen([*PULSE, "notify"], env=full, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT,
                            start_new_session=True)
    pipeline.workers[name] = proc
    return proc


def produce_alerts(pipeline: Pipeline, alerts: list[dict[str, Any]]) -> None:
    for alert in alerts:
        pipeline.producer.send(pipeline.topic("social.alerts"), key=alert["alert_id"].encode(),
                               value=orjson.dumps(alert))
    pipeline.producer.flush()


def changes(n: int, start: int = 0, **kw: Any) -> list[dict[str, Any]]:
    return [make_alert(f"{i:020x}", **kw) for i in range(start, start + n)]


def key_of(alert: dict[str, Any]) -> str:
    return f"{alert['alert_id']}:{alert['transition']}:{alert['severity']}"


def metrics(port: int) -> dict[tuple[str, str], float]:
    text = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5).read().decode()
    return {(s.name, s.labels.get("subscriber", "")): s.value for family in text_string_to_metric_families(text)
            for s in family.samples if s.name.startswith("pulse_notify_")}


def dead_letters(pipeline: Pipeline, expected: int, timeout: float = 60) -> list[dict[str, Any]]:
    consumer = KafkaConsumer(pipeline.topic("social.notify.dlq"), bootstrap_servers=pipeline.settings.kafka_bootstrap,
                             auto_offset_reset="earliest", consumer_timeout_ms=1000)
    out: list[dict[str, Any]] = []
    deadline = time.monotonic() + timeout
    try:
        while len(out) < expected and time.monotonic() < deadline:
            for batch in consumer.poll(timeout_ms=500).values():
                out.extend(orjson.loads(m.value) for m in batch)
    finally:
        consumer.close()
    return out


def webhook(name: str, url: str, extra: str = "") -> str:
    return f'[subscribers.{name}]\ntype = "webhook"\nurl = "{url}"\nsecret_env = "NOTIFY_TEST_SECRET"\n{extra}\n'


# ---------------------------------------------------------------- signatures, Slack, filters
def test_signed_webhooks_slack_and_filters(pipeline: Pipeline, recorders: list[Recorder]) -> None:
    pipeline.migrate()
    signed, filtered, slack = (recorder(recorders) for _ in range(3))
    port = free_port()
    start_notify(pipeline, webhook("signed", signed.url)
                 + webhook("filtered", filtered.url, 'dimensions = ["brand"]\nkeys = ["acme*"]\n'
                                                     'rules = ["volume_spike"]\nmin_severity = "warning"')
                 + f'[subscribers.slack]\ntype = "slack"\nurl = "{slack.url}"\n'
                   'link_base_url = "http://grafana.local/d/pulse"\n',
                 PULSE_NOTIFY_METRICS_PORT=str(port))
    alerts = [
        *changes(3, 0, key="acme", severity="warning"),                        # all match the filter
        *changes(2, 3, key="acme-eu", transition="escalated", severity="critical"),  # match
        *changes(2, 5, key="acme", severity="info"),                           # below min_severity
        *changes(2, 7, key="globex", severity="critical"),                     # key pattern
        *changes(2, 9, dimension="hashtag", key="acme", severity="critical"),  # dimension
        *changes(2, 11, key="acme", rule="negative_surge", severity="critical"),  # rule
    ]
    pipeline.producer.send(pipeline.topic("social.alerts"), value=b"{not an alert")  # recorded, never blocks
    produce_alerts(pipeline, alerts)
    pipeline.wait_for("signed webhook deliveries", lambda: len(signed.idempotency_keys()), len(alerts), timeout=45)
    pipeline.wait_for("slack deliveries", lambda: len(slack.idempotency_keys()), len(alerts), timeout=15)
    wanted = sorted(key_of(a) for a in alerts[:5])
    pipeline.wait_for("filtered deliveries", lambda: sorted(filtered.idempotency_keys()), wanted, timeout=15)

    by_key = {key_of(a): a for a in alerts}
    for req in signed.requests:
        assert verify_signature(SECRET.encode(), req["body"], req["headers"]["X-Pulse-Signature"], now=time.time())
        assert not verify_signature(b"wrong", req["body"], req["headers"]["X-Pulse-Signature"], now=time.time())
        assert orjson.loads(req["body"]) == by_key[req["headers"]["Idempotency-Key"]]
        assert req["headers"]["Content-Type"] == "application/json"
    texts = [orjson.loads(r["body"])["text"] for r in slack.requests]
    assert all("observed 120 vs expected 10 (12× normal)" in t for t in texts)
    assert any("<http://grafana.local/d/pulse?alert_id=00000000000000000000&" in t for t in texts)
    assert "X-Pulse-Signature" not in slack.requests[0]["headers"]
    [unreadable] = dead_letters(pipeline, 1)
    assert unreadable["subscriber"] is None and unreadable["raw"] == "{not an alert"
    assert unreadable["reason"].startswith("not an alert change: value: not JSON")
    seen = metrics(port)
    assert seen[("pulse_notify_deliveries_total", "signed")] == len(alerts)
    assert seen[("pulse_notify_deliveries_total", "filtered")] == 5
    log = pipeline.worker_log("notify")
    assert SECRET not in log and signed.url not in log and slack.url not in log
    # SIGTERM: a clean stop.
    proc = pipeline.workers.pop("notify")
    os.killpg(proc.pid, signal.SIGTERM)
    assert proc.wait(timeout=30) == 0, pipeline.worker_log("notify")[-2000:]
    assert "Traceback" not in pipeline.worker_log("notify")


def test_before_migrate_and_a_second_instance_are_one_line_errors(pipeline: Pipeline, tmp_path: Path) -> None:
    config = tmp_path / "subs.toml"
    config.write_text('[subscribers.x]\ntype = "slack"\nurl = "http://127.0.0.1:9/"\n')
    result = pipeline.pulse("notify", "--config", str(config), check=False, timeout=60)
    assert result.returncode != 0 and "Traceback" not in result.stderr
    assert result.stderr.strip() == (f"pulse: error: topic {pipeline.topic('social.alerts')} does not exist; "
                                     "run `pulse migrate` first")
    pipeline.migrate()
    start_notify(pipeline, config.read_text())
    pipeline.wait_for("first instance running", lambda: "notify: delivering" in pipeline.worker_log("notify"),
                      True, timeout=30)
    second = pipeline.pulse("notify", "--config", str(config), check=False, timeout=60)
    assert second.returncode != 0 and len(second.stderr.strip().splitlines()) == 1
    assert "another `pulse notify` is using" in second.stderr


# ---------------------------------------------------------------- isolation between subscribers
def test_failing_and_slow_subscribers_do_not_hold_back_a_healthy_one(pipeline: Pipeline,
                                                                     recorders: list[Recorder]) -> None:
    pipeline.migrate()
    healthy = recorder(recorders)
    failing = recorder(recorders, status=500)
    slow = recorder(recorders, hold_after=0)   # holds every request until released
    port = free_port()
    fast_retry = "max_attempts = 3\nbackoff_base_s = 0.05\nbackoff_max_s = 0.1"
    start_notify(pipeline, webhook("healthy", healthy.url) + webhook("failing", failing.url, fast_retry)
                 + webhook("slow", slow.url, fast_retry + "\ntimeout_s = 30"), PULSE_NOTIFY_METRICS_PORT=str(port))
    alerts = changes(10)
    produce_alerts(pipeline, alerts)

    # Everything reaches the healthy subscriber while the slow one still sits on its first request.
    everything = sorted(map(key_of, alerts))
    pipeline.wait_for("healthy deliveries", lambda: sorted(healthy.idempotency_keys()), everything, timeout=45)
    assert slow.holding == 1 and slow.idempotency_keys() == []

    # The failing one: three attempts each, then the dead-letter topic with the reason.
    dead = dead_letters(pipeline, len(alerts))
    assert sorted(d["idempotency_key"] for d in dead) == everything
    assert {(d["subscriber"], d["reason"], d["attempts"]) for d in dead} == {
        ("failing", "HTTP 500: ok after 3 attempt(s)", 3)}
    assert all(d["alert"]["alert_id"] == d["alert_id"] and d["source"]["topic"] == pipeline.topic("social.alerts")
               for d in dead)
    assert failing.attempts == 3 * len(alerts)
    assert slow.holding == 1 and slow.idempotency_keys() == []   # still held: the others never waited for it

    slow.release()
    pipeline.wait_for("slow deliveries after release", lambda: sorted(slow.idempotency_keys()), everything,
                      timeout=30)
    seen = metrics(port)
    assert seen[("pulse_notify_failures_total", "failing")] == len(alerts)
    assert seen[("pulse_notify_retries_total", "failing")] == 2 * len(alerts)
    assert seen[("pulse_notify_deliveries_total", "healthy")] == len(alerts)
    assert seen[("pulse_notify_failures_total", "healthy")] == 0


# ---------------------------------------------------------------- crash and restart
def test_sigkill_mid_stream_then_restart_delivers_every_change_exactly_once(pipeline: Pipeline,
                                                                           recorders: list[Recorder]) -> None:
    """Killed while both subscribers are mid-stream at different points (each has a request in flight that
    it has not recorded): after a restart each gets every change once. The committed offsets cannot be
    past the slower subscriber, so the faster one is handed changes it already has: the ledger skips them."""
    pipeline.migrate()
    alerts = [*changes(60), *changes(30, 0, transition="escalated", severity="warning"),
              *changes(30, 0, transition="resolved", severity="warning")]
    behind = recorder(recorders, hold_after=30)
    ahead = recorder(recorders, hold_after=75)
    config = webhook("behind", behind.url, "backoff_base_s = 0.05") + webhook("ahead", ahead.url,
                                                                              "backoff_base_s = 0.05")
    proc = start_notify(pipeline, config)
    produce_alerts(pipeline, alerts)
    pipeline.wait_for("both subscribers mid-stream", lambda: (len(behind.idempotency_keys()), behind.holding,
                                                              len(ahead.idempotency_keys()), ahead.holding),
                      (30, 1, 75, 1), timeout=45)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)
    pipeline.workers.pop("notify")
    behind.release()
    ahead.release()

    port = free_port()
    start_notify(pipeline, config, name="notify-2", PULSE_NOTIFY_METRICS_PORT=str(port))
    expected = sorted(map(key_of, alerts))
    pipeline.wait_for("behind after restart", lambda: len(behind.idempotency_keys()), len(alerts), timeout=45)
    pipeline.wait_for("ahead after restart", lambda: len(ahead.idempotency_keys()), len(alerts), timeout=15)
    time.sleep(1.0)  # anything sent twice would arrive now
    for r in (behind, ahead):
        dup = {k: n for k, n in Counter(r.idempotency_keys()).items() if n > 1}
        assert dup == {}, f"sent twice: {dup}"
        assert sorted(r.idempotency_keys()) == expected
    # Opened before escalated before resolved, per alert, at each subscriber.
    order = {"opened": 0, "escalated": 1, "resolved": 2}
    for r in (behind, ahead):
        per_alert: dict[str, list[int]] = {}
        for k in r.idempotency_keys():
            alert_id, transition, _ = k.split(":")
            per_alert.setdefault(alert_id, []).append(order[transition])
        assert all(v == sorted(v) for v in per_alert.values())
    assert metrics(port)[("pulse_notify_already_done_total", "ahead")] >= 75 - 30


# ---------------------------------------------------------------- Alertmanager
@pytest.fixture
def alertmanager(tmp_path: Path) -> Iterator[str]:
    binary = shutil.which("prometheus-alertmanager") or shutil.which("alertmanager")
    if binary is None:
        pytest.fail("prometheus-alertmanager is not installed (`make setup` installs it)")
    config = tmp_path / "alertmanager.yml"
    config.write_text('route:\n  receiver: "null"\nreceivers:\n  - name: "null"\n')
    port = free_port()
    log = (tmp_path / "alertmanager.log").open("ab")
    proc = subprocess.Popen([binary, f"--config.file={config}", f"--storage.path={tmp_path / 'am-data'}",
                             f"--web.listen-address=127.0.0.1:{port}", "--cluster.listen-address="],
                            stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                urllib.request.urlopen(f"{url}/-/ready", timeout=2)
                break
            except OSError:
                if time.monotonic() > deadline or proc.poll() is not None:
                    pytest.fail(f"alertmanager did not start: {(tmp_path / 'alertmanager.log').read_text()[-2000:]}")
                time.sleep(0.2)
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def firing(url: str) -> list[tuple[str, str, str]]:
    alerts = json.loads(urllib.request.urlopen(f"{url}/api/v2/alerts", timeout=5).read())
    return sorted((a["labels"]["alert_id"], a["labels"]["severity"], a["status"]["state"]) for a in alerts)


def test_alertmanager_receives_open_escalated_and_resolved_alerts(pipeline: Pipeline, alertmanager: str) -> None:
    pipeline.migrate()
    start_notify(pipeline, f'[subscribers.am]\ntype = "alertmanager"\nurl = "{alertmanager}"\n'
                           'labels = { team = "social" }\nlink_base_url = "http://grafana.local/d/pulse"\n')
    a, b = "aaaaaaaaaaaaaaaaaaaa", "bbbbbbbbbbbbbbbbbbbb"
    produce_alerts(pipeline, [make_alert(a, severity="info"), make_alert(b, severity="warning", key="globex")])
    pipeline.wait_for("two firing alerts", lambda: firing(alertmanager),
                      [(a, "info", "active"), (b, "warning", "active")], timeout=45)
    alerts = json.loads(urllib.request.urlopen(f"{alertmanager}/api/v2/alerts", timeout=5).read())
    got = next(x for x in alerts if x["labels"]["alert_id"] == a)
    assert got["labels"] == {"alertname": "volume_spike", "rule": "volume_spike", "dimension": "brand",
                             "key": "acme", "severity": "info", "alert_id": a, "team": "social"}
    assert got["annotations"]["summary"] == "volume spike on brand acme"
    assert "observed 120 vs expected 10" in got["annotations"]["description"]
    assert got["startsAt"].startswith("2026-11-21T10:00:00")
    assert got["endsAt"] > time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(time.time() + 3600))  # not timing out
    assert got["generatorURL"].startswith("http://grafana.local/d/pulse?alert_id=")

    # Escalation replaces a's info alert by a critical one; b's resolution ends it.
    produce_alerts(pipeline, [make_alert(a, transition="escalated", severity="critical"),
                              make_alert(b, transition="resolved", severity="warning", key="globex")])
    pipeline.wait_for("escalated and resolved", lambda: firing(alertmanager), [(a, "critical", "active")],
                      timeout=30)
