"""Raw bytes from `social.raw` → a validated CanonicalEvent, or a rejection naming the field.

Pure: no Kafka, no clock. The worker calls `normalize` once per message and sends rejections to
the dead-letter topic; nothing here raises on bad input. A platform envelope
(`{"platform", "payload"}`) goes through its platform's adapter (schemas/adapters) and may yield
several events; every one of them is validated by `canonical_from_object`, like canonical input.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson

from schemas.adapters.output import AdapterLimits
from schemas.adapters.registry import adapt
from schemas.event import KINDS, KINDS_WITHOUT_TARGET, CanonicalEvent

MAX_ID_LEN = 512
MAX_TEXT_LEN = 100_000


@dataclass(frozen=True, slots=True)
class Rejection:
    reason: str


DEFAULT_ADAPTER_LIMITS = AdapterLimits()
# What one raw message becomes: canonical input is one event or a rejection (the hot path: no list
# is built for it); an envelope is a bare rejection when nothing of it could be read, else a list
# of events with at most one rejection last (for the parts that could not be read), possibly empty
# (a deletion, a notification type without engagement).
Normalized = CanonicalEvent | Rejection | list[CanonicalEvent | Rejection]


class InvalidField(ValueError):
    """A value that fails validation; the message starts with the field's name."""


def parse_time_ms(value: Any, field: str = "occurred_at") -> int:
    if not isinstance(value, str):
        raise InvalidField(f"{field}: expected an RFC 3339 string, got {type(value).__name__}")
    try:
        dt = datetime.fromisoformat(value)
    except ValueError:
        raise InvalidField(f"{field}: not an RFC 3339 timestamp: {value[:40]!r}") from None
    if dt.tzinfo is None:
        raise InvalidField(f"{field}: timestamp has no time zone (add 'Z' or an offset): {value[:40]!r}")
    return int(dt.timestamp() * 1000)


def _required_str(obj: dict[str, Any], name: str, field: str) -> str:
    value = obj.get(name)
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)  # numeric ids are common in platform APIs; they mean the same as strings
    if not isinstance(value, str) or not value:
        what = "missing" if value is None else f"must be a non-empty string, got {type(value).__name__}"
        raise InvalidField(f"{field}: {what}")
    if len(value) > MAX_ID_LEN:
        raise InvalidField(f"{field}: longer than {MAX_ID_LEN} characters")
    return value


def _optional_str(obj: dict[str, Any], name: str, field: str, limit: int = MAX_ID_LEN) -> str:
    value = obj.get(name)
    if value is None:
        return ""
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str):
        raise InvalidField(f"{field}: must be a string or null, got {type(value).__name__}")
    if len(value) > limit:
        raise InvalidField(f"{field}: longer than {limit} characters")
    return value


def canonical_from_object(obj: dict[str, Any]) -> CanonicalEvent:
    """Validate a canonical-shape object (CONTRACT.md section 2, shape 1)."""
    platform = _required_str(obj, "platform", "platform").lower()
    event_id = _required_str(obj, "id", "id")
    kind = obj.get("kind")
    if not isinstance(kind, str) or kind not in KINDS:
        shown = "missing" if kind is None else f"unknown kind {str(kind)[:40]!r}"
        raise InvalidField(f"kind: {shown}; expected one of {', '.join(sorted(KINDS))}")
    occurred_at_ms = parse_time_ms(obj.get("occurred_at"))
    actor = obj.get("actor")
    if not isinstance(actor, dict):
        raise InvalidField("actor: missing" if actor is None else "actor: must be an object")
    actor_id = _required_str(actor, "id", "actor.id")
    followers = actor.get("followers", 0)
    if followers is None:
        followers = 0
    if not isinstance(followers, int) or isinstance(followers, bool) or followers < 0:
        raise InvalidField("actor.followers: must be an integer >= 0")
    verified = actor.get("verified", False)
    if verified is None:
        verified = False
    if not isinstance(verified, bool):
        raise InvalidField("actor.verified: must be true or false")
    target_id = _optional_str(obj, "target_id", "target_id")
    if not target_id and kind not in KINDS_WITHOUT_TARGET:
        raise InvalidField(f"target_id: required for kind {kind!r} (the post acted on)")
    return CanonicalEvent(
        platform=platform,
        id=event_id,
        kind=kind,
        occurred_at_ms=occurred_at_ms,
        actor_id=actor_id,
        actor_handle=_optional_str(actor, "handle", "actor.handle"),
        actor_followers=followers,
        actor_verified=verified,
        target_id=target_id,
        parent_id=_optional_str(obj, "parent_id", "parent_id"),
        text=_optional_str(obj, "text", "text", MAX_TEXT_LEN),
        url=_optional_str(obj, "url", "url", 4096),
        lang=_optional_str(obj, "lang", "lang", 16).lower(),
    )


def normalize(raw: bytes | None, max_bytes: int, limits: AdapterLimits = DEFAULT_ADAPTER_LIMITS) -> Normalized:
    """Turn one raw message value into canonical events, or say exactly why not."""
    if raw is None:
        return Rejection("value: empty message (null value)")
    if len(raw) > max_bytes:
        return Rejection(f"value: oversize message, {len(raw)} bytes > limit {max_bytes}")
    try:
        obj = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        # orjson also rejects invalid UTF-8; decode only on this slow path to say which it was.
        try:
            raw.decode("utf-8")
        except UnicodeDecodeError as bad:
            return Rejection(f"value: not UTF-8 (invalid byte at position {bad.start})")
        return Rejection(f"value: not JSON ({str(exc)[:120]})")
    if not isinstance(obj, dict):
        return Rejection(f"value: must be a JSON object, got {type(obj).__name__}")
    try:
        if "payload" in obj and "kind" not in obj:
            return normalize_envelope(obj, limits)
        return canonical_from_object(obj)
    except InvalidField as exc:
        return Rejection(str(exc))


def normalize_envelope(envelope: dict[str, Any], limits: AdapterLimits) -> Rejection | list[CanonicalEvent | Rejection]:
    """A platform envelope → its validated events, then one rejection if any part was not readable
    (the good events still go on: a replay of the dead letter re-sends them, and the dedupe drops them).
    An envelope of which nothing could be read is a bare rejection, like bad canonical input."""
    adapted = adapt(envelope, limits)
    if adapted.error and not adapted.events:
        return Rejection(adapted.error[:2000])
    results: list[CanonicalEvent | Rejection] = []
    invalid = ""
    for item in adapted.events:
        try:
            results.append(canonical_from_object(item))
        except InvalidField as exc:  # the first is enough to fix the adapter or the payload
            platform = str(envelope.get("platform")).lower()
            invalid = invalid or f"payload.{platform}: event {str(item.get('id'))[:80]!r}: {exc}"
    reason = "; ".join(r for r in (adapted.error, invalid) if r)
    if reason:
        results.append(Rejection(reason[:2000]))
    return results
