"""The canonical event: what every raw input becomes, and what `social.events` carries."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final

KINDS: Final = frozenset({"post", "comment", "reply", "like", "share", "view", "mention", "follow", "vote"})
# Kinds that act on a post and so must name it in `target_id` (CONTRACT.md section 2).
KINDS_WITHOUT_TARGET: Final = frozenset({"post", "mention", "follow"})
# Engagement kinds carry no text of their own; they inherit hashtags and brands from their post.
ENGAGEMENT_KINDS: Final = frozenset({"like", "share", "view", "vote"})


def dedupe_key(platform: str, event_id: str) -> str:
    """The identity of an event: the same (platform, id) delivered again is the same event."""
    return f"{platform}\x1f{event_id}"


_SECOND_PREFIX: dict[int, str] = {}


def format_time_ms(epoch_ms: int) -> str:
    """RFC 3339 UTC with milliseconds, e.g. 2026-11-21T10:00:05.120Z.

    On the per-event path: events cluster in time, so the formatted second is cached (bounded).
    """
    seconds, millis = divmod(epoch_ms, 1000)
    prefix = _SECOND_PREFIX.get(seconds)
    if prefix is None:
        if len(_SECOND_PREFIX) > 100_000:
            _SECOND_PREFIX.clear()
        prefix = _SECOND_PREFIX[seconds] = datetime.fromtimestamp(seconds, tz=UTC).strftime("%Y-%m-%dT%H:%M:%S.")
    return f"{prefix}{millis:03d}Z"


@dataclass(slots=True)
class CanonicalEvent:
    platform: str
    id: str
    kind: str
    occurred_at_ms: int
    actor_id: str
    actor_handle: str = ""
    actor_followers: int = 0
    actor_verified: bool = False
    target_id: str = ""
    parent_id: str = ""
    text: str = ""
    url: str = ""
    lang: str = ""
    # Enrichment (filled by the enrich stage, which assigns fresh lists). Immutable empty
    # defaults save four list allocations per event on the hot path.
    sentiment: float = 0.0
    hashtags: Sequence[str] = ()
    mentions: Sequence[str] = ()
    urls: Sequence[str] = ()
    brands: Sequence[str] = ()
    author_tier: str = ""

    @property
    def key(self) -> str:
        return dedupe_key(self.platform, self.id)

    @property
    def post_key(self) -> str:
        """The post this event counts under: its own id for a post, else the post acted on."""
        return self.id if self.kind == "post" else self.target_id

    @property
    def route_key(self) -> str:
        """Partitioning key: a post and everything acting on it meet in one partition, so engagement
        can inherit the post's hashtags and brands and per-post state stays local. Every copy of
        one event has the same route key, so dedupe stays local too."""
        return dedupe_key(self.platform, self.post_key or self.id)

    def to_wire(self) -> list[Any]:
        """Compact positional form for the internal hand-off between worker stages (social.keyed)."""
        return [self.platform, self.id, self.kind, self.occurred_at_ms, self.actor_id, self.actor_handle,
                self.actor_followers, self.actor_verified, self.target_id, self.parent_id, self.text, self.url,
                self.lang]

    @classmethod
    def from_wire(cls, row: list[Any]) -> CanonicalEvent:
        return cls(*row[:13])

    def to_output(self, ingested_at: str) -> dict[str, Any]:
        """The `social.events` value (JSON Schema: schemas/json/social.events.schema.json)."""
        return {
            "platform": self.platform,
            "id": self.id,
            "kind": self.kind,
            "occurred_at": format_time_ms(self.occurred_at_ms),
            "actor": {"id": self.actor_id, "handle": self.actor_handle or None,
                      "followers": self.actor_followers, "verified": self.actor_verified,
                      "tier": self.author_tier},
            "target_id": self.target_id or None,
            "parent_id": self.parent_id or None,
            "text": self.text or None,
            "url": self.url or None,
            "lang": self.lang,
            "sentiment": round(self.sentiment, 4),
            "hashtags": self.hashtags,
            "mentions": self.mentions,
            "urls": self.urls,
            "brands": self.brands,
            "ingested_at": ingested_at,
        }
