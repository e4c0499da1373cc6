"""What an adapter produces: canonical-shape event objects (CONTRACT.md section 2, shape 1) and
the errors of the parts it could not read.

Adapters never build `CanonicalEvent`s themselves: the objects they emit are validated by the
same code as canonical input (`streams.normalize.canonical_from_object`), so the same limits apply.

Counters (a video's `viewCount`, a tweet's `public_metrics`, a Reddit thing's `score`) become
*unit* events: a snapshot with likeCount = 120 for video V is the like events `V:likes:1` ..
`V:likes:120` (plural slugs, so they never collide with itemized ids like `<post>:reaction:<person>`).
The route stage is stateless, so it cannot know the previous snapshot; it emits the
newest `cap` units of each counter and the store stage's dedupe on (platform, id) drops the units
already counted. Hence:

* an increase larger than the cap between two snapshots is counted as the cap (poll often enough);
* a counter that goes down (an unlike, a removed vote) emits nothing new: counts are high-water
  marks and never go negative; a later rise counts only units above the highest seen;
* views use a tenth of the cap (`view_cap`): they are the largest counters and each snapshot
  re-emits its newest units, so a lower cap keeps the steady cost of polling low (views weigh
  0.1 in the engagement score, and their per-minute count is a lower bound when they grow faster);
* units are dated at the snapshot's `fetched_at` (envelope field); a snapshot without it cannot
  be dated deterministically, so its counters are rejected naming `fetched_at` (its other events
  are still emitted);
* the dedupe remembers keys for `PULSE_DEDUPE_HORIZON_S` of event time: a counter re-polled after
  that would count its units again, so counters of items older than the horizon (by their own
  creation time) emit nothing;
* counter events have no known actor: `actor.id` is `anonymous`;
* comment and reply counters (commentCount, num_comments, reply_count, …) are not turned into
  events: every platform delivers comments one by one, with text and parent, and unit events
  would count each comment twice. Likewise, do not deliver both a post's counter and its
  itemized likes/reposts (notifications, like records): the two id schemes would count them twice.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from schemas.adapters.fields import Node, PayloadError
from schemas.event import format_time_ms

COUNTER_ACTOR = "anonymous"
MAX_ERRORS_KEPT = 5


@dataclass(frozen=True, slots=True)
class Actor:
    """Who acted; followers and verified stay unset when the platform did not say."""

    id: str
    handle: str = ""
    followers: int | None = None
    verified: bool | None = None


ANONYMOUS = Actor(COUNTER_ACTOR)


@dataclass(frozen=True, slots=True)
class AdapterLimits:
    """Knobs of the counter → events conversion (see the module docstring)."""

    counter_cap: int = 1000
    horizon_ms: int = 7 * 24 * 3600 * 1000

    @property
    def view_cap(self) -> int:
        return max(1, self.counter_cap // 10)


class Output:
    """Collects one envelope's events and errors. `platform` is the canonical platform name."""

    def __init__(self, platform: str, limits: AdapterLimits, fetched_at_ms: int | None, site: str) -> None:
        self.platform = platform
        self.limits = limits
        self.fetched_at_ms = fetched_at_ms
        self.site = site.rstrip("/")
        self.events: list[dict[str, Any]] = []
        self.errors: list[str] = []

    def event(self, kind: str, event_id: str, occurred_ms: int, actor: Actor, *, target: str = "",
              parent: str = "", text: str = "", url: str = "", lang: str = "") -> None:
        who: dict[str, Any] = {"id": actor.id, "handle": actor.handle or None}
        if actor.followers is not None:
            who["followers"] = actor.followers
        if actor.verified is not None:
            who["verified"] = actor.verified
        self.events.append({
            "platform": self.platform, "id": event_id, "kind": kind, "occurred_at": format_time_ms(occurred_ms),
            "actor": who, "target_id": target or None, "parent_id": parent or None, "text": text or None,
            "url": url or None, "lang": lang or None,
        })

    def error(self, message: str) -> None:
        if message not in self.errors:
            self.errors.append(message)

    def each(self, items: Iterable[Node], read: Callable[[Node], object]) -> None:
        """Read every item; one bad item is reported and does not stop the others."""
        for item in items:
            try:
                read(item)
            except PayloadError as exc:
                self.error(str(exc))

    def require_site(self) -> str:
        if not self.site:
            raise PayloadError("missing envelope site (the base URL of the site the payload came from)")
        return self.site

    def counter(self, target: str, slug: str, kind: str, count: int | None, *, parent: str = "",
                created_ms: int | None = None) -> None:
        """Unit events for one counter of one item (module docstring). `parent` is the comment the
        counter belongs to when it is a comment's counter; unit ids are scoped to the counted item."""
        if count is None or count <= 0:
            return
        fetched = self.fetched_at_ms
        if fetched is None:
            self.error("missing envelope fetched_at (the snapshot time counters are dated with)")
            return
        if created_ms is not None and fetched - created_ms > self.limits.horizon_ms:
            return
        cap = self.limits.view_cap if kind == "view" else self.limits.counter_cap
        prefix = f"{parent or target}:{slug}:"
        for n in range(max(1, count - cap + 1), count + 1):
            self.event(kind, f"{prefix}{n}", fetched, ANONYMOUS, target=target, parent=parent)
