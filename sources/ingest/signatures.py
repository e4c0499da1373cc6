"""Webhook signatures and verification handshakes, per platform scheme (pure, standard library only).

* Meta (Facebook): `X-Hub-Signature-256: sha256=<hex HMAC-SHA256(app secret, raw body)>`; subscription
  handshake `GET ?hub.mode=subscribe&hub.verify_token=T&hub.challenge=C` → `C` when `T` is ours.
* Twitter/X Account Activity: `X-Twitter-Webhooks-Signature: sha256=<base64 HMAC-SHA256(consumer secret,
  raw body)>`; CRC `GET ?crc_token=T` → `{"response_token": "sha256=<base64 HMAC(consumer secret, T)>"}`.
* Discourse: `X-Discourse-Event-Signature: sha256=<hex HMAC-SHA256(webhook secret, raw body)>`.
* Ours (any platform, relays): `X-Pulse-Signature: t=<unix s>,v1=<hex HMAC(secret, "<t>." + body)>`,
  the scheme `pulse notify` signs with (sinks/notify/signing.py).

Every comparison is constant-time (`hmac.compare_digest`).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Mapping

from sinks.notify.signing import verify_signature as verify_pulse_signature

__all__ = ["facebook_challenge", "twitter_crc_response", "verify_base64_sha256", "verify_hex_sha256",
           "verify_pulse_signature"]

_PREFIX = "sha256="


def _mac(secret: bytes, message: bytes) -> bytes:
    return hmac.new(secret, message, hashlib.sha256).digest()


def verify_hex_sha256(secret: bytes, body: bytes, header: str) -> bool:
    """`sha256=<hex HMAC-SHA256(secret, body)>` (Meta's X-Hub-Signature-256, Discourse's signature)."""
    if not header.startswith(_PREFIX):
        return False
    expected = _mac(secret, body).hex()
    return hmac.compare_digest(expected.encode(), header[len(_PREFIX):].strip().lower().encode())


def verify_base64_sha256(secret: bytes, body: bytes, header: str) -> bool:
    """`sha256=<base64 HMAC-SHA256(secret, body)>` (X-Twitter-Webhooks-Signature)."""
    if not header.startswith(_PREFIX):
        return False
    expected = base64.b64encode(_mac(secret, body))
    return hmac.compare_digest(expected, header[len(_PREFIX):].strip().encode())


def twitter_crc_response(consumer_secret: bytes, crc_token: str) -> dict[str, str]:
    """The body that answers X's challenge-response check."""
    token = base64.b64encode(_mac(consumer_secret, crc_token.encode())).decode()
    return {"response_token": _PREFIX + token}


def facebook_challenge(query: Mapping[str, str], verify_token: bytes) -> str | None:
    """`hub.challenge` when the query is a subscribe handshake with our verify token, else None."""
    if query.get("hub.mode") != "subscribe":
        return None
    given = query.get("hub.verify_token", "").encode()
    challenge = query.get("hub.challenge")
    if not challenge or not hmac.compare_digest(given, verify_token):
        return None
    return challenge
