"""Records for social.notify.dlq (schemas/json/social.notify.dlq.schema.json): an alert change a
subscriber never accepted, or a social.alerts message that was not an alert change at all."""

from __future__ import annotations

import base64
from datetime import UTC, datetime
from typing import Any

from sinks.notify.alert import AlertChange
from sinks.notify.config import Subscriber


def source(topic: str, partition: int, offset: int) -> dict[str, Any]:
    return {"topic": topic, "partition": partition, "offset": offset}


def undelivered_record(sub: Subscriber, change: AlertChange, reason: str, attempts: int, now_s: float,
                       where: dict[str, Any]) -> dict[str, Any]:
    return {"subscriber": sub.name, "subscriber_type": sub.kind, "reason": reason, "attempts": attempts,
            "idempotency_key": change.change_id, "alert_id": change.alert_id, "failed_at": _rfc3339(now_s),
            "source": where, "alert": change.record}


def unreadable_record(error: str, value: bytes | None, now_s: float, where: dict[str, Any]) -> dict[str, Any]:
    raw: dict[str, Any]
    try:
        raw = {"raw": (value or b"").decode("utf-8")}
    except UnicodeDecodeError:
        raw = {"raw": base64.b64encode(value or b"").decode(), "raw_encoding": "base64"}
    return {"subscriber": None, "subscriber_type": None, "reason": f"not an alert change: {error}",
            "attempts": 0, "idempotency_key": None, "alert_id": None, "failed_at": _rfc3339(now_s),
            "source": where, **raw}


def _rfc3339(unix_s: float) -> str:
    return datetime.fromtimestamp(unix_s, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
