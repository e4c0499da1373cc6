"""Polling the configured feeds: one task per feed (a slow or failing feed never delays the others),
conditional GET, parsing with feedparser off the event loop, produce, then remember."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Final

import aiohttp
import feedparser
from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaError

from sources.feeds.config import FeedConfig
from sources.feeds.entries import entry_payload, envelope, new_entries
from sources.feeds.schedule import next_delay
from sources.feeds.store import FeedStore, Validators
from streams.metrics import FEED_ENTRIES, FEED_FAILING, FEED_POLLS

log = logging.getLogger("pulse.feeds")
USER_AGENT: Final = "social-pulse-feeds/0.1 (+https://github.com/social-pulse)"
ACCEPT: Final = ("application/rss+xml, application/atom+xml, application/rdf+xml;q=0.9, application/xml;q=0.8, "
                 "text/xml;q=0.8, */*;q=0.1")


class FeedError(Exception):
    """One poll of one feed failed (network, HTTP status, not a feed, Kafka): reported and backed off."""


@dataclass(frozen=True)
class Document:
    body: bytes
    content_type: str
    validators: Validators


class FeedPoller:
    def __init__(self, producer: AIOKafkaProducer, topic: str, store: FeedStore, session: aiohttp.ClientSession,
                 clock: Callable[[], float] = time.time,
                 uniform: Callable[[float, float], float] = random.uniform) -> None:
        self.producer = producer
        self.topic = topic
        self.store = store
        self.session = session
        self.clock = clock
        self.uniform = uniform

    async def fetch(self, feed: FeedConfig, known: Validators) -> Document | None:
        """The feed's document, or None when the server says it has not changed (304)."""
        headers = {"User-Agent": USER_AGENT, "Accept": ACCEPT}
        if known.etag:
            headers["If-None-Match"] = known.etag
        if known.last_modified:
            headers["If-Modified-Since"] = known.last_modified
        try:
            async with self.session.get(feed.url, headers=headers,
                                        timeout=aiohttp.ClientTimeout(total=feed.timeout_s)) as response:
                if response.status == 304:
                    return None
                if response.status != 200:
                    raise FeedError(f"HTTP {response.status} {response.reason or ''}".strip())
                body = bytearray()
                async for chunk in response.content.iter_chunked(65536):
                    body += chunk
                    if len(body) > feed.max_bytes:
                        raise FeedError(f"document larger than {feed.max_bytes} bytes (max_bytes)")
                return Document(bytes(body), response.headers.get("Content-Type", ""),
                                Validators(response.headers.get("ETag"), response.headers.get("Last-Modified")))
        except (aiohttp.ClientError, TimeoutError, OSError) as exc:
            raise FeedError(f"fetch failed ({type(exc).__name__}{': ' + str(exc)[:120] if str(exc) else ''})"
                            ) from None

    async def poll(self, feed: FeedConfig) -> str:
        """One poll: fetch, parse, produce the new entries and wait for Kafka, then remember them.
        Returns the outcome (`new`, `unchanged`, `not_modified`); raises FeedError."""
        known = self.store.validators(feed.name, feed.url)
        document = await self.fetch(feed, known)
        if document is None:
            return "not_modified"
        parsed = await asyncio.to_thread(
            feedparser.parse, document.body,
            response_headers={"content-type": document.content_type, "content-location": feed.url})
        entries: list[Mapping[str, Any]] = list(parsed.get("entries") or [])
        if not entries and (parsed.get("bozo") or not parsed.get("version")):
            why = parsed.get("bozo_exception")
            raise FeedError("not an RSS or Atom feed" + (f" ({str(why)[:120]})" if why else ""))
        fresh = new_entries(entries, self.store.seen(feed.name))
        now_s = self.clock()
        now_ms = int(now_s * 1000)
        channel: Mapping[str, Any] = parsed.get("feed") or {}
        if fresh:
            values = [envelope(feed.platform, entry_payload(entry, channel, feed.comments_of, now_ms), now_ms)
                      for _, entry in fresh]
            try:
                sent = [await self.producer.send(self.topic, value) for value in values]
                await asyncio.wait_for(asyncio.gather(*sent), timeout=30)
            except (KafkaError, TimeoutError, OSError) as exc:
                raise FeedError(f"Kafka did not acknowledge the new entries ({type(exc).__name__}); "
                                "they are produced on the next poll") from None
            FEED_ENTRIES.labels(feed.name).inc(len(values))
        # Validators only now: had they been stored before the entries were acknowledged, a crash
        # would make the next poll a 304 and lose the entries.
        self.store.record(feed.name, feed.url, [key for key, _ in fresh], document.validators, now_s, feed.remember)
        return "new" if fresh else "unchanged"

    async def poll_once(self, feed: FeedConfig) -> bool:
        """Poll and report; True when it worked."""
        try:
            outcome = await self.poll(feed)
        except FeedError as exc:
            FEED_POLLS.labels(feed.name, "error").inc()
            log.warning("feed %s: %s", feed.name, exc)
            return False
        FEED_POLLS.labels(feed.name, outcome).inc()
        log.info("feed %s: %s", feed.name, outcome)
        return True

    async def run(self, feed: FeedConfig, stopping: asyncio.Event) -> None:
        """Poll `feed` until `stopping` is set: every interval_s while it works, backing off while it fails."""
        failures = 0
        while not stopping.is_set():
            failures = 0 if await self.poll_once(feed) else failures + 1
            FEED_FAILING.labels(feed.name).set(failures)
            delay = next_delay(failures, feed.interval_s, feed.backoff_base_s, feed.backoff_max_s, self.uniform)
            if failures:
                log.warning("feed %s: %d consecutive failure(s); next try in %.1f s", feed.name, failures, delay)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stopping.wait(), timeout=delay)
