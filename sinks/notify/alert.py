"""One alert state change as read from social.alerts (schemas/json/social.alerts.schema.json)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import orjson

SEVERITIES = ("info", "warning", "critical")
TRANSITIONS = ("opened", "escalated", "resolved")
DIMENSIONS = ("post", "hashtag", "brand", "platform", "author")
RULES = ("volume_spike", "viral_post", "negative_surge")

_REQUIRED_STR = ("alert_id", "rule", "dimension", "key", "transition", "severity")


@dataclass(frozen=True)
class AlertChange:
    """The fields delivery decides on, plus the whole record (what subscribers receive)."""

    alert_id: str
    rule: str
    dimension: str
    key: str
    transition: str
    severity: str
    record: dict[str, Any]

    @property
    def change_id(self) -> str:
        """Identifies this state change: an alert changes state at most once per (transition, severity),
        since severity only rises. The pipeline may emit a change twice after a worker crash; both
        copies have this id (the schema tells subscribers to dedupe on it)."""
        return f"{self.alert_id}:{self.transition}:{self.severity}"


def parse_alert(value: bytes | None) -> AlertChange:
    """The change in a social.alerts message value; ValueError naming the field when it is not one."""
    if value is None:
        raise ValueError("value: empty (tombstone)")
    try:
        record = orjson.loads(value)
    except orjson.JSONDecodeError as exc:
        raise ValueError(f"value: not JSON ({exc})") from None
    if not isinstance(record, dict):
        raise ValueError("value: not a JSON object")
    for name in _REQUIRED_STR:
        if not isinstance(record.get(name), str) or not record[name]:
            raise ValueError(f"{name}: missing or not a string")
    checks = (("transition", TRANSITIONS), ("severity", SEVERITIES))
    for name, allowed in checks:
        if record[name] not in allowed:
            raise ValueError(f"{name}: {record[name]!r} is not one of {', '.join(allowed)}")
    return AlertChange(alert_id=record["alert_id"], rule=record["rule"], dimension=record["dimension"],
                       key=record["key"], transition=record["transition"], severity=record["severity"],
                       record=record)
