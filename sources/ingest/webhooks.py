"""What `pulse ingest` decides about one webhook request (pure: inputs in, decision out).

A platform's webhooks are accepted when a secret that can sign them is configured: its own scheme's
secret (Meta app secret, X consumer secret, Discourse webhook secret) or the generic X-Pulse-Signature
secret. Unsigned requests are never accepted. A missing signature is 401, a wrong one 403.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Final

import orjson

from schemas.adapters.registry import ADAPTERS
from schemas.event import format_time_ms
from sources.ingest.signatures import verify_base64_sha256, verify_hex_sha256, verify_pulse_signature

PULSE_HEADER: Final = "X-Pulse-Signature"
DISCOURSE_SITE_HEADER: Final = "X-Discourse-Instance"


@dataclass(frozen=True)
class NativeScheme:
    header: str
    verify: Callable[[bytes, bytes, str], bool]


# Canonical platform → the signature its own webhooks carry.
NATIVE_SCHEMES: Final[dict[str, NativeScheme]] = {
    "facebook": NativeScheme("X-Hub-Signature-256", verify_hex_sha256),
    "twitter": NativeScheme("X-Twitter-Webhooks-Signature", verify_base64_sha256),
    "forum": NativeScheme("X-Discourse-Event-Signature", verify_hex_sha256),
}


@dataclass(frozen=True)
class WebhookSecrets:
    generic: bytes | None = None                 # X-Pulse-Signature, every platform
    facebook_app: bytes | None = None
    facebook_verify_token: bytes | None = None
    twitter_consumer: bytes | None = None
    forum: bytes | None = None

    def native(self, platform: str) -> bytes | None:
        return {"facebook": self.facebook_app, "twitter": self.twitter_consumer, "forum": self.forum}.get(platform)

    def enabled(self, platform: str) -> bool:
        return self.generic is not None or self.native(platform) is not None

    def enabled_names(self) -> list[str]:
        """Envelope names (URL path segments) whose webhooks are accepted."""
        return sorted(name for name, adapter in ADAPTERS.items() if self.enabled(adapter.platform))


@dataclass(frozen=True)
class Rejection:
    status: int
    reason: str


def canonical_platform(name: str) -> str | None:
    """The adapter platform behind an envelope name (`x` → `twitter`), None when unknown."""
    adapter = ADAPTERS.get(name.lower())
    return None if adapter is None else adapter.platform


def check_signature(platform: str, secrets: WebhookSecrets, headers: Mapping[str, str], body: bytes,
                    now_s: float, tolerance_s: float) -> Rejection | None:
    """None when `body` is signed by a configured secret of `platform` (canonical); else why not.

    `headers` must look names up case-insensitively (HTTP headers are)."""
    offered = False
    scheme = NATIVE_SCHEMES.get(platform)
    native_secret = secrets.native(platform)
    if scheme is not None and native_secret is not None:
        header = headers.get(scheme.header)
        if header is not None:
            offered = True
            if scheme.verify(native_secret, body, header):
                return None
    if secrets.generic is not None:
        header = headers.get(PULSE_HEADER)
        if header is not None:
            offered = True
            if verify_pulse_signature(secrets.generic, body, header, now=now_s, tolerance_s=tolerance_s):
                return None
    if not offered:
        return Rejection(401, "missing signature")
    return Rejection(403, "bad signature")


def parse_payload(body: bytes) -> dict[str, Any] | list[Any] | Rejection:
    """The webhook body as JSON (an object or an array: what platforms send), or a 400."""
    try:
        payload = orjson.loads(body)
    except orjson.JSONDecodeError:
        return Rejection(400, "body is not JSON")
    if not isinstance(payload, dict | list):
        return Rejection(400, "body must be a JSON object or array")
    return payload


def envelope(name: str, payload: Any, received_at_ms: int, headers: Mapping[str, str]) -> bytes:
    """The social.raw value: `{"platform", "payload", "fetched_at"}` (+ `site` for Discourse).

    `fetched_at` is when we received the body: adapters date counter snapshots with it. Discourse names
    the forum in a header; it is trusted only because the request was signed with the forum's secret."""
    record: dict[str, Any] = {"platform": name.lower(), "payload": payload,
                              "fetched_at": format_time_ms(received_at_ms)}
    site = headers.get(DISCOURSE_SITE_HEADER) if canonical_platform(name) == "forum" else None
    if site:
        record["site"] = site
    return orjson.dumps(record)
