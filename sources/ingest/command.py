"""`pulse ingest`: checks, the Kafka producer, the HTTP listener, signals."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal

from aiohttp import web
from aiokafka.errors import KafkaError

from pulse.errors import PulseError
from pulse.preflight import kafka_unreachable, require_kafka_reachable
from sources.ingest.config import webhook_secrets
from sources.ingest.server import IngestServer
from streams.settings import Settings

log = logging.getLogger("pulse.ingest")


async def serve(settings: Settings) -> None:
    secrets = webhook_secrets(settings)
    names = secrets.enabled_names()
    if not names:
        raise PulseError("no webhook secret is configured: set PULSE_INGEST_SECRET, or a platform's own "
                         "(e.g. PULSE_INGEST_FACEBOOK_APP_SECRET); see the README, 'Connecting webhooks'")
    require_kafka_reachable(settings)
    server = IngestServer(settings, secrets)
    runner = web.AppRunner(server.app(), access_log=None, shutdown_timeout=15.0)
    try:
        try:
            await server.producer.start()
            partitions = await asyncio.wait_for(server.producer.partitions_for(server.raw_topic), 15)
        except (KafkaError, OSError, TimeoutError) as exc:
            raise kafka_unreachable(settings, exc) from exc
        if not partitions:
            raise PulseError(f"topic {server.raw_topic} does not exist; run `pulse migrate` first")
        await runner.setup()
        site = web.TCPSite(runner, settings.ingest_host, settings.ingest_port)
        try:
            await site.start()
        except OSError as exc:
            raise PulseError(f"cannot listen on {settings.ingest_host}:{settings.ingest_port} ({exc.strerror}); "
                             "stop the other process or set PULSE_INGEST_HOST / PULSE_INGEST_PORT") from None
        stopping = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stopping.set)
        for address in runner.addresses:
            log.warning("ingest: listening on http://%s:%s/webhooks/<platform> for %s", address[0], address[1],
                        ", ".join(names))
        await stopping.wait()
    finally:
        # In-flight webhooks finish (their produce is awaited) before the producer stops.
        with contextlib.suppress(Exception):
            await runner.cleanup()
        with contextlib.suppress(Exception):
            await server.producer.stop()


def run_ingest(settings: Settings) -> None:
    """Serve until SIGTERM or SIGINT."""
    logging.basicConfig(level=settings.log_level.upper(), format="%(asctime)s %(levelname)s %(message)s")
    for name in ("aiokafka", "kafka"):
        logging.getLogger(name).setLevel(logging.CRITICAL)
    asyncio.run(serve(settings))
