"""`pulse poll-feeds` against feeds served over real HTTP on loopback (RSS 2.0, Atom, a comment feed and a
malformed one), producing to the real Kafka, and one run through a worker into ClickHouse."""

from __future__ import annotations

import hashlib
import signal
import subprocess
import threading
import time
from collections import Counter
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import orjson
import pytest
from kafka import KafkaConsumer

from tests.integration.conftest import PULSE, ROOT, Pipeline

FEEDS = ROOT / "tests" / "fixtures" / "feeds"
LAST_MODIFIED = "Sat, 21 Nov 2026 10:06:00 GMT"
NEW_ITEM = b"""<item><title>Acme opens in Lisbon</title><link>https://blog.example.com/2026/11/lisbon/</link>
<guid isPermaLink="false">https://blog.example.com/?p=89</guid><pubDate>Sat, 21 Nov 2026 11:00:00 +0000</pubDate>
<description>Store opening.</description></item>"""


class FeedServer:
    """Serves documents by path; ETag (or, for Atom, Last-Modified) validators; counts requests and 304s."""

    def __init__(self) -> None:
        self.docs = {"/blog.rss": (FEEDS / "blog.rss.xml").read_bytes(),
                     "/news.atom": (FEEDS / "news.atom.xml").read_bytes(),
                     "/comments.rss": (FEEDS / "comments.rss.xml").read_bytes(),
                     "/broken.xml": b"<html><body>Oops, <b>502 from the CMS</body"}
        self.conditional = True
        self.requests: Counter[str] = Counter()
        self.not_modified: Counter[str] = Counter()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                server.requests[self.path] += 1
                body = server.docs.get(self.path)
                if body is None:
                    self.send_error(404)
                    return
                etag = '"' + hashlib.sha256(body).hexdigest()[:16] + '"'
                validators = {"Last-Modified": LAST_MODIFIED} if self.path == "/news.atom" else {"ETag": etag}
                if server.conditional and (self.headers.get("If-None-Match") == etag
                                           or self.headers.get("If-Modified-Since") == LAST_MODIFIED):
                    server.not_modified[self.path] += 1
                    self.send_response(304)
                    self.end_headers()
                    return
                self.send_response(200)
                self.send_header("Content-Type", "application/xml; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                if server.conditional:
                    for name, value in validators.items():
                        self.send_header(name, value)
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.base = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def feeds() -> Iterator[FeedServer]:
    server = FeedServer()
    try:
        yield server
    finally:
        server.close()


def write_config(tmp: Path, base: str) -> Path:
    path = tmp / "feeds.toml"
    path.write_text(f"""
[defaults]
interval_s = 1
timeout_s = 5
backoff_base_s = 2
backoff_max_s = 30
[feeds.blog]
url = "{base}/blog.rss"
[feeds.news]
url = "{base}/news.atom"
platform = "atom"
[feeds.comments]
url = "{base}/comments.rss"
platform = "rss"
[feeds.broken]
url = "{base}/broken.xml"
""")
    return path


def raw_values(pipeline: Pipeline) -> list[dict[str, Any]]:
    consumer = KafkaConsumer(pipeline.topic("social.raw"), bootstrap_servers=pipeline.settings.kafka_bootstrap,
                             auto_offset_reset="earliest", consumer_timeout_ms=2000, enable_auto_commit=False)
    try:
        return [orjson.loads(m.value) for m in consumer]
    finally:
        consumer.close()


def entry_ids(values: list[dict[str, Any]]) -> list[str]:
    return sorted(v["payload"]["id"] for v in values)


def test_feeds_polled_conditionally_remembered_and_counted(pipeline: Pipeline, feeds: FeedServer,
                                                          tmp_path: Path) -> None:
    pipeline.migrate()
    config = str(write_config(tmp_path, feeds.base))

    first = pipeline.pulse("poll-feeds", "--once", "--config", config, check=False)
    assert first.returncode == 1, first.stderr  # the malformed feed failed; the others were produced
    assert "feed broken: not an RSS or Atom feed" in first.stderr
    assert first.stderr.strip().splitlines()[-1] == "pulse: error: 1 feed(s) failed; see the log above"
    values = raw_values(pipeline)
    assert entry_ids(values) == ["https://blog.example.com/?p=87", "https://blog.example.com/?p=88",
                                 "https://blog.example.com/?p=88#comment-45", "https://blog.example.com/?p=88#comment-46",
                                 "tag:forum.example.com,2026:topic-310"]
    assert {v["platform"] for v in values} == {"blog", "atom", "rss"}
    assert all(v["fetched_at"].endswith("Z") for v in values)

    # A restart: conditional GETs answered 304 (ETag and Last-Modified), nothing produced again.
    pipeline.pulse("poll-feeds", "--once", "--config", config, check=False)
    assert feeds.not_modified == Counter({"/blog.rss": 1, "/news.atom": 1, "/comments.rss": 1})
    # Without validators the documents come back whole: the remembered ids still produce nothing twice.
    feeds.conditional = False
    pipeline.pulse("poll-feeds", "--once", "--config", config, check=False)
    assert len(raw_values(pipeline)) == 5
    feeds.conditional = True

    # Long-running: a new entry is produced within an interval; the broken feed is backed off meanwhile.
    feeds.docs["/blog.rss"] = feeds.docs["/blog.rss"].replace(b"<item>", NEW_ITEM + b"<item>", 1)
    requests_before = feeds.requests.copy()
    log = (tmp_path / "poll.log").open("wb")
    proc = subprocess.Popen([*PULSE, "poll-feeds", "--config", config], env=pipeline.env, cwd=ROOT, stdout=log,
                            stderr=subprocess.STDOUT, start_new_session=True)
    started = time.monotonic()
    try:
        # Time from the poller's first request, not from process start (start-up time varies a lot
        # on a loaded machine).
        while feeds.requests["/blog.rss"] == requests_before["/blog.rss"] and time.monotonic() < started + 30:
            assert proc.poll() is None, (tmp_path / "poll.log").read_text()
            time.sleep(0.05)
        first_poll = time.monotonic()
        while len(raw_values(pipeline)) < 6 and time.monotonic() < started + 30:
            assert proc.poll() is None, (tmp_path / "poll.log").read_text()
        time.sleep(max(0.0, first_poll + 6 - time.monotonic()))  # let it poll for ~6 s
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=60)
    assert proc.returncode == 0, (tmp_path / "poll.log").read_text()
    values = raw_values(pipeline)
    assert len(values) == 6 and "https://blog.example.com/?p=89" in entry_ids(values)
    polls = feeds.requests - requests_before
    assert polls["/blog.rss"] >= 4, polls  # every second, for ~6 s
    assert 1 <= polls["/broken.xml"] <= 3, polls  # waits 1-2 s, 2-4 s, 4-8 s: at most 3 tries in ~6 s
    assert "consecutive failure(s); next try in" in (tmp_path / "poll.log").read_text()

    # Through a worker: every entry is one event in ClickHouse (platform blog).
    pipeline.start_worker()
    count = "SELECT count() FROM {db}.events WHERE platform = 'blog'"
    pipeline.wait_for("feed events", lambda: pipeline.scalar(count), 6, timeout=60)
    kinds = dict(pipeline.query("SELECT kind, count() FROM {db}.events GROUP BY kind"))
    assert kinds == {"post": 4, "comment": 2}
