"""The HTTP side of `pulse ingest` (aiohttp): routes, status codes, and the Kafka producer.

A webhook is answered 2xx only after Kafka acknowledged its envelope (acks=all), so an accepted
webhook is never lost; when Kafka does not acknowledge in time the answer is 503 and the platform
retries (a retry of a body that did reach Kafka is dropped by the pipeline's dedupe).
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any, Final

import orjson
from aiohttp import web
from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaError
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from schemas.topics import TopicNames
from sources.ingest.signatures import facebook_challenge, twitter_crc_response
from sources.ingest.webhooks import (
    Rejection,
    WebhookSecrets,
    canonical_platform,
    check_signature,
    envelope,
    parse_payload,
)
from streams.metrics import INGEST_BAD_SIGNATURES, INGEST_PRODUCE_SECONDS, INGEST_REQUESTS
from streams.settings import Settings

log = logging.getLogger("pulse.ingest")
PRODUCE_TIMEOUT_S: Final = 10.0  # platforms give up on a webhook after ~10-20 s
READY_TIMEOUT_S: Final = 5.0


def _json(status: int, body: dict[str, Any], platform: str) -> web.Response:
    INGEST_REQUESTS.labels(platform, str(status)).inc()
    return web.Response(status=status, body=orjson.dumps(body), content_type="application/json")


def _reject(rejection: Rejection, platform: str) -> web.Response:
    return _json(rejection.status, {"error": rejection.reason}, platform)


class IngestServer:
    def __init__(self, settings: Settings, secrets: WebhookSecrets) -> None:
        self.settings = settings
        self.secrets = secrets
        self.raw_topic = TopicNames(settings.topic_prefix).raw
        self.producer = AIOKafkaProducer(bootstrap_servers=settings.kafka_bootstrap, client_id="pulse-ingest",
                                         acks="all", enable_idempotence=True, request_timeout_ms=10_000,
                                         max_request_size=max(settings.ingest_max_body_bytes * 2, 1024 * 1024))

    def app(self) -> web.Application:
        app = web.Application(client_max_size=self.settings.ingest_max_body_bytes)
        app.router.add_get("/healthz", self.healthz)
        app.router.add_get("/readyz", self.readyz)
        app.router.add_get("/metrics", self.metrics)
        app.router.add_get("/webhooks/{platform}", self.handshake)
        app.router.add_post("/webhooks/{platform}", self.webhook)
        return app

    async def healthz(self, _: web.Request) -> web.Response:
        return web.Response(text="ok\n")

    async def readyz(self, _: web.Request) -> web.Response:
        """Ready when Kafka answers a metadata request now and social.raw exists (cached metadata is not enough)."""
        client = self.producer.client
        try:
            fresh = await asyncio.wait_for(client.force_metadata_update(), READY_TIMEOUT_S)
        except (TimeoutError, KafkaError, OSError):
            fresh = False
        if not fresh:
            return web.Response(status=503, text="kafka unreachable\n")
        if self.raw_topic not in client.cluster.topics():
            return web.Response(status=503, text=f"topic {self.raw_topic} missing\n")
        return web.Response(text="ready\n")

    async def metrics(self, _: web.Request) -> web.Response:
        return web.Response(body=generate_latest(), headers={"Content-Type": CONTENT_TYPE_LATEST})

    def _platform(self, request: web.Request) -> tuple[str, str | None]:
        name = request.match_info["platform"].lower()
        platform = canonical_platform(name)
        if platform is None or not self.secrets.enabled(platform):
            return name, None
        return name, platform

    async def handshake(self, request: web.Request) -> web.StreamResponse:
        """The platforms' GET verification: Meta's subscribe challenge, X's CRC."""
        _, platform = self._platform(request)
        if platform is None:
            return _reject(Rejection(404, "unknown or unconfigured platform"), "unknown")
        if platform == "facebook" and "hub.mode" in request.query:
            token = self.secrets.facebook_verify_token
            challenge = None if token is None else facebook_challenge(request.query, token)
            if challenge is None:
                return _reject(Rejection(403, "verify token does not match"), platform)
            INGEST_REQUESTS.labels(platform, "200").inc()
            return web.Response(text=challenge)
        if platform == "twitter" and "crc_token" in request.query and self.secrets.twitter_consumer is not None:
            return _json(200, twitter_crc_response(self.secrets.twitter_consumer, request.query["crc_token"]),
                         platform)
        return _reject(Rejection(405, "POST webhooks here"), platform)

    async def webhook(self, request: web.Request) -> web.StreamResponse:
        received_s = time.time()
        name, platform = self._platform(request)
        if platform is None:
            return _reject(Rejection(404, "unknown or unconfigured platform"), "unknown")
        limit = self.settings.ingest_max_body_bytes
        if request.content_length is not None and request.content_length > limit:
            return _reject(Rejection(413, f"body larger than {limit} bytes"), platform)
        try:
            body = await request.read()
        except web.HTTPRequestEntityTooLarge:
            return _reject(Rejection(413, f"body larger than {limit} bytes"), platform)
        rejected = check_signature(platform, self.secrets, request.headers, body, received_s,
                                   self.settings.ingest_signature_tolerance_s)
        if rejected is not None:
            INGEST_BAD_SIGNATURES.labels(platform).inc()
            log.info("ingest: %s webhook rejected: %s", platform, rejected.reason)
            return _reject(rejected, platform)
        payload = parse_payload(body)
        if isinstance(payload, Rejection):
            return _reject(payload, platform)
        value = envelope(name, payload, int(received_s * 1000), request.headers)
        started = time.perf_counter()
        try:
            await asyncio.wait_for(self.producer.send_and_wait(self.raw_topic, value), PRODUCE_TIMEOUT_S)
        except (TimeoutError, KafkaError, OSError) as exc:
            log.warning("ingest: %s webhook not accepted: Kafka did not acknowledge (%s)", platform,
                        type(exc).__name__)
            response = _reject(Rejection(503, "not stored; retry later"), platform)
            response.headers["Retry-After"] = "5"
            return response
        INGEST_PRODUCE_SECONDS.observe(time.perf_counter() - started)
        return _json(200, {"status": "accepted"}, platform)
