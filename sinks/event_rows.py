"""Canonical events → columns of ClickHouse `events_local` (one list per column)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from schemas.event import CanonicalEvent

EVENT_COLUMNS = (
    "platform", "id", "kind", "occurred_at", "actor_id", "actor_handle", "actor_followers",
    "actor_verified", "author_tier", "target_id", "parent_id", "text", "url", "lang", "sentiment",
    "hashtags", "mentions", "urls", "brands", "ingested_at",
)


def event_columns(events: Sequence[CanonicalEvent], ingested_at_ms: int) -> list[list[Any]]:
    """DateTime64(3) columns take epoch milliseconds as they are (no datetime objects)."""
    return [
        [e.platform for e in events],
        [e.id for e in events],
        [e.kind for e in events],
        [e.occurred_at_ms for e in events],
        [e.actor_id for e in events],
        [e.actor_handle for e in events],
        [e.actor_followers for e in events],
        [e.actor_verified for e in events],
        [e.author_tier for e in events],
        [e.target_id for e in events],
        [e.parent_id for e in events],
        [e.text for e in events],
        [e.url for e in events],
        [e.lang for e in events],
        [e.sentiment for e in events],
        [e.hashtags for e in events],
        [e.mentions for e in events],
        [e.urls for e in events],
        [e.brands for e in events],
        [ingested_at_ms] * len(events),
    ]
