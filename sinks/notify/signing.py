"""Webhook signatures: HMAC-SHA256 over the timestamp and the exact body bytes.

Header (name `X-Pulse-Signature`): `t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>." + body)>`.
The timestamp is inside the signed material so a captured request cannot be replayed later than the
receiver's tolerance; receivers should also drop repeats by the `Idempotency-Key` header.
`verify_signature` is what a Python receiver needs (it imports nothing from the pipeline).
"""

from __future__ import annotations

import hashlib
import hmac

SIGNATURE_HEADER = "X-Pulse-Signature"
SCHEME = "v1"
DEFAULT_TOLERANCE_S = 300


def signature(secret: bytes, body: bytes, timestamp: int) -> str:
    mac = hmac.new(secret, f"{timestamp}.".encode() + body, hashlib.sha256)
    return mac.hexdigest()


def signature_header(secret: bytes, body: bytes, timestamp: int) -> str:
    """The `X-Pulse-Signature` value for `body` sent at `timestamp` (unix seconds)."""
    return f"t={timestamp},{SCHEME}={signature(secret, body, timestamp)}"


def verify_signature(secret: bytes, body: bytes, header: str, now: float,
                     tolerance_s: float = DEFAULT_TOLERANCE_S) -> bool:
    """True when `header` signs exactly `body` with `secret` and its timestamp is within
    `tolerance_s` of `now` (unix seconds, the receiver's clock)."""
    fields: dict[str, list[str]] = {}
    for part in header.split(","):
        name, sep, value = part.strip().partition("=")
        if sep:
            fields.setdefault(name, []).append(value)
    stamps = fields.get("t", [])
    if len(stamps) != 1 or not stamps[0].isdigit():
        return False
    timestamp = int(stamps[0])
    if abs(now - timestamp) > tolerance_s:
        return False
    expected = signature(secret, body, timestamp)
    # Several v1 values may be present while a secret is rotated: any one valid signature suffices.
    return any(hmac.compare_digest(expected, given) for given in fields.get(SCHEME, []))
