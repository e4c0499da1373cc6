"""`pulse poll-feeds`: checks, the data-folder lock, the Kafka producer, one task per feed, signals."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from pathlib import Path

import aiohttp
from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaError

from pulse.errors import PulseError
from pulse.preflight import kafka_unreachable, require_kafka_reachable
from pulse.state_lock import lock_state_file
from schemas.topics import TopicNames
from sources.feeds.config import FeedsConfig
from sources.feeds.poller import FeedPoller
from sources.feeds.store import FeedStore
from streams.settings import Settings

log = logging.getLogger("pulse.feeds")


def store_path(settings: Settings) -> Path:
    return settings.data_dir / "feeds" / "feeds.sqlite"


async def poll(settings: Settings, config: FeedsConfig, once: bool) -> int:
    """Poll until SIGTERM/SIGINT (or each feed once); returns how many feeds failed their last poll (`once`)."""
    require_kafka_reachable(settings)
    path = store_path(settings)
    lock = lock_state_file(path, "the feed store", "pulse poll-feeds")
    try:
        store = FeedStore(path)
    except Exception as exc:  # sqlite3.Error, OSError
        lock.close()
        raise PulseError(f"cannot open the feed store {path}: {exc}; check PULSE_DATA_DIR") from exc
    topic = TopicNames(settings.topic_prefix).raw
    producer = AIOKafkaProducer(bootstrap_servers=settings.kafka_bootstrap, client_id="pulse-poll-feeds",
                                acks="all", enable_idempotence=True, request_timeout_ms=15_000, linger_ms=5)
    session = aiohttp.ClientSession()
    try:
        try:
            await producer.start()
            partitions = await asyncio.wait_for(producer.partitions_for(topic), 15)
        except (KafkaError, OSError, TimeoutError) as exc:
            raise kafka_unreachable(settings, exc) from exc
        if not partitions:
            raise PulseError(f"topic {topic} does not exist; run `pulse migrate` first")
        poller = FeedPoller(producer, topic, store, session)
        if once:
            results = await asyncio.gather(*(poller.poll_once(feed) for feed in config.feeds))
            return sum(1 for ok in results if not ok)
        stopping = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stopping.set)
        log.warning("poll-feeds: polling %d feed(s) into %s", len(config.feeds), topic)
        tasks = [asyncio.create_task(poller.run(feed, stopping), name=f"feed-{feed.name}") for feed in config.feeds]
        await stopping.wait()
        # A poll under way finishes (so what Kafka acknowledged is also remembered), within bounds.
        grace = max(feed.timeout_s for feed in config.feeds) + 35.0
        _, late = await asyncio.wait(tasks, timeout=grace)
        for task in late:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        return 0
    finally:
        with contextlib.suppress(Exception):
            await session.close()
        with contextlib.suppress(Exception):
            await producer.stop()
        store.close()
        lock.close()


def run_poll_feeds(settings: Settings, config: FeedsConfig, once: bool = False) -> int:
    logging.basicConfig(level=settings.log_level.upper(), format="%(asctime)s %(levelname)s %(message)s")
    for name in ("aiokafka", "kafka"):
        logging.getLogger(name).setLevel(logging.CRITICAL)
    if settings.feeds_metrics_port and not once:
        from prometheus_client import start_http_server

        try:
            start_http_server(settings.feeds_metrics_port, addr=settings.metrics_host)
        except OSError as exc:
            raise PulseError(f"port {settings.metrics_host}:{settings.feeds_metrics_port} is taken "
                             f"({exc.strerror}); set PULSE_FEEDS_METRICS_PORT") from None
    return asyncio.run(poll(settings, config, once))
