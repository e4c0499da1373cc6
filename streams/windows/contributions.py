"""Unique events → what they add to each (dimension, key, minute), aggregated inside one pack.

Pure. The store stage calls `pack_rows` once per pack of unique events; the windows
stage merges the rows into its minute buckets. Aggregating here means the windows stage pays
per (dimension, key, minute) of a pack, not per event.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

from schemas.event import CanonicalEvent

MINUTE_MS: Final = 60_000
KIND_ORDER: Final = ("post", "comment", "reply", "like", "share", "view", "mention", "follow", "vote")
KIND_INDEX: Final = {kind: i for i, kind in enumerate(KIND_ORDER)}
DIMENSIONS: Final = ("post", "hashtag", "brand", "platform", "author")
# VADER's conventional cut-offs for negative / positive text.
NEGATIVE_AT_MOST: Final = -0.05
POSITIVE_AT_LEAST: Final = 0.05
# Bounds on what one bucket remembers about who and what drove it (alerts show the top few).
MAX_AUTHORS: Final = 5_000
MAX_POSTS: Final = 1_000
MAX_SAMPLES: Final = 3
MAX_PLATFORMS: Final = 64


@dataclass(frozen=True)
class RuleMeasure:
    """What one alert rule counts: weight per kind, only events with sentiment <= sentiment_max."""

    dimensions: frozenset[str]
    weights: dict[str, float]
    sentiment_max: float = 1.0


@dataclass(slots=True)
class Contribution:
    """What some events add to one (dimension, key, minute)."""

    counts: list[int] = field(default_factory=lambda: [0] * len(KIND_ORDER))
    authors: dict[str, int] = field(default_factory=dict)   # actor id -> events (bounded)
    sentiment: list[int] = field(default_factory=lambda: [0, 0, 0])  # negative, neutral, positive texts
    posts: dict[str, int] = field(default_factory=dict)     # post id -> events (bounded; not for dimension post)
    platforms: dict[str, int] = field(default_factory=dict)
    samples: list[str] = field(default_factory=list)        # a few texts, first seen first (post, hashtag, brand)
    measures: list[float] = field(default_factory=list)     # one per rule ([] if no rule watches the dimension)

    def to_wire(self) -> list[Any]:
        """Positional; trailing empty fields left out (most rows are an author's: counts,
        sentiment and a platform)."""
        return _trimmed([self.counts, self.authors, self.sentiment, self.posts, self.platforms, self.samples,
                         self.measures])

    @classmethod
    def from_wire(cls, data: list[Any]) -> Contribution:
        """From freshly decoded JSON (adopted, not copied: nothing else refers to it); either form
        (`is_single_wire`)."""
        if type(data[0]) is int:
            return cls.single(data[0], data[1], data[2])
        n = len(data)
        return cls(data[0], data[1], data[2], data[3] if n > 3 else {}, data[4] if n > 4 else {},
                   data[5] if n > 5 else [], data[6] if n > 6 else [])

    @classmethod
    def single(cls, kind_index: int, mood: int, platform: str) -> Contribution:
        """One event of an untracked dimension (the compact wire form `[kind index, mood, platform]`)."""
        counts, sentiment = _single_counts(kind_index, mood)
        return cls(counts, {}, sentiment, {}, {platform: 1})

    def add_single(self, kind_index: int, mood: int, platform: str) -> None:
        """`add(Contribution.single(...))` without making it: most rows the windows stage merges are
        an author's single event."""
        self.counts[kind_index] += 1
        if mood >= 0:
            self.sentiment[mood] += 1
        platforms = self.platforms
        if platform in platforms:
            platforms[platform] += 1
        elif len(platforms) < MAX_PLATFORMS:
            platforms[platform] = 1

    def add(self, other: Contribution) -> None:
        """Merge `other` into this one (bounded maps keep their first keys). In place: the windows
        stage calls this for most rows it receives."""
        counts = self.counts
        for i, n in enumerate(other.counts):
            if n:
                counts[i] += n
        sentiment = self.sentiment
        for i, n in enumerate(other.sentiment):
            if n:
                sentiment[i] += n
        if other.authors:
            _merge_bounded(self.authors, other.authors, MAX_AUTHORS)
        if other.posts:
            _merge_bounded(self.posts, other.posts, MAX_POSTS)
        if other.platforms:
            _merge_bounded(self.platforms, other.platforms, MAX_PLATFORMS)
        if other.samples and len(self.samples) < MAX_SAMPLES:
            self.samples.extend(other.samples[: MAX_SAMPLES - len(self.samples)])
        if other.measures:
            measures = self.measures
            if len(measures) < len(other.measures):
                measures.extend([0.0] * (len(other.measures) - len(measures)))
            for i, m in enumerate(other.measures):
                measures[i] += m

    @property
    def total(self) -> int:
        return sum(self.counts)


def _trimmed(wire: list[Any]) -> list[Any]:
    """The wire form leaves trailing empty fields out (keeps counts, authors, sentiment)."""
    while len(wire) > 3 and not wire[-1]:
        wire.pop()
    return wire


def _merge_bounded(into: dict[str, int], other: dict[str, int], bound: int) -> None:
    for k, n in other.items():
        if k in into:
            into[k] += n
        elif len(into) < bound:
            into[k] = n


# A row's contribution on the wire: `Contribution.to_wire()`, or for one event of an untracked
# dimension without rule measures (most author rows: ~0.9 per event) the compact
# `[kind index, mood (-1: no text), platform]`, which is a third of the bytes and merges without
# making a Contribution.
CompactWire = tuple[int, int, str]
WireRow = tuple[str, str, int, list[Any] | CompactWire]  # dimension, key, minute start (epoch ms), contribution


def is_single_wire(wire: Sequence[Any]) -> bool:
    """Whether a decoded row contribution is the compact form of a single event."""
    return type(wire[0]) is int


def _single_counts(kind_index: int, mood: int) -> tuple[list[int], list[int]]:
    """Counts per kind and sentiment mix of one event (mood -1: no text)."""
    counts = [0] * len(KIND_ORDER)
    counts[kind_index] = 1
    sentiment = [0, 0, 0]
    if mood >= 0:
        sentiment[mood] = 1
    return counts, sentiment


# Shared by the rows of dimensions that never fill them (authors, platforms): nothing writes to them.
_NO_MAP: Final[dict[str, int]] = {}
_NO_LIST: Final[list[Any]] = []
# Dimensions whose rows track actors, posts and sample texts (alerts on them show those): not
# platforms (everybody), not authors (just the author).
TRACKED_DIMENSIONS: Final = frozenset(("post", "hashtag", "brand"))


def pack_rows(events: Iterable[CanonicalEvent], measures: Sequence[RuleMeasure]) -> list[WireRow]:
    """Aggregate unique events per (dimension, key, minute), straight into the wire form of
    `Contribution` (what the windows stage decodes): no objects on the way.

    On the per-event path (profiled: building rows was ~40% of it): plain lists and local names,
    per event only the work its dimensions need (actors, posts and sample texts are tracked for
    posts, hashtags and brands only: alerts on them show those), rows of the other dimensions
    share their empty fields, and a single event of a compact dimension stays a `CompactWire`.
    """
    rows: dict[tuple[str, str, int], Any] = {}  # a full row (list), or a CompactWire while it has one event
    n_rules = len(measures)
    # Per dimension, once: (indices of the rules that watch it, tracks actors/posts/samples).
    shape = {dim: ([i for i, m in enumerate(measures) if dim in m.dimensions], dim in TRACKED_DIMENSIONS)
             for dim in DIMENSIONS}
    # Dimensions whose single-event rows go out compact: untracked, unwatched, and not platforms
    # (whose rows name no platform map).
    compact = {dim for dim, (ruled, tracked) in shape.items() if not ruled and not tracked and dim != "platform"}
    rule_weights = [(m.weights, m.sentiment_max) for m in measures]
    n_kinds = len(KIND_ORDER)
    for ev in events:
        occurred = ev.occurred_at_ms
        minute = occurred - occurred % MINUTE_MS
        kind = ev.kind
        kind_index = KIND_INDEX[kind]
        text = ev.text
        sentiment = ev.sentiment
        mood = 0 if sentiment <= NEGATIVE_AT_MOST else 2 if sentiment >= POSITIVE_AT_LEAST else 1
        actor = ev.actor_id
        platform = ev.platform
        post = ev.post_key
        values = [w.get(kind, 0.0) if sentiment <= most else 0.0 for w, most in rule_weights]
        # The (dimension, key) pairs the event counts under, as in ClickHouse's engagement_by_minute:
        # its platform, its author, its post (own id for a post, else the post acted on), each
        # hashtag and each brand.
        dims = [("platform", platform), ("author", actor)]
        if post:
            dims.append(("post", post))
        for tag in ev.hashtags:
            if tag:
                dims.append(("hashtag", tag))
        for brand in ev.brands:
            if brand:
                dims.append(("brand", brand))
        for dim, key in dims:
            row = rows.get((dim, key, minute))
            if row is None:
                if dim in compact:
                    rows[(dim, key, minute)] = (kind_index, mood if text else -1, platform)
                    continue
                ruled, tracked = shape[dim]
                measures_field = [0.0] * n_rules if ruled else _NO_LIST
                if tracked:
                    row = [[0] * n_kinds, {}, [0, 0, 0], {}, {}, [], measures_field]
                else:
                    row = [[0] * n_kinds, _NO_MAP, [0, 0, 0], _NO_MAP, _NO_MAP if dim == "platform" else {},
                           _NO_LIST, measures_field]
                rows[(dim, key, minute)] = row
            else:
                ruled, tracked = shape[dim]
                if type(row) is tuple:  # its second event: the full row of the first
                    row = rows[(dim, key, minute)] = _full_row(row)
            row[0][kind_index] += 1
            if tracked:
                if text and len(row[5]) < MAX_SAMPLES:
                    row[5].append(text[:280])
                authors = row[1]
                n = authors.get(actor)
                if n is not None:
                    authors[actor] = n + 1
                elif len(authors) < MAX_AUTHORS:
                    authors[actor] = 1
                if dim != "post" and post:
                    posts = row[3]
                    n = posts.get(post)
                    if n is not None:
                        posts[post] = n + 1
                    elif len(posts) < MAX_POSTS:
                        posts[post] = 1
            if text:
                row[2][mood] += 1
            if dim != "platform":
                platforms = row[4]
                platforms[platform] = platforms.get(platform, 0) + 1
            if ruled:
                row_measures = row[6]
                for i in ruled:
                    row_measures[i] += values[i]
    return [(dim, key, minute, row if type(row) is tuple else _trimmed(row))
            for (dim, key, minute), row in rows.items()]


def _full_row(single: CompactWire) -> list[Any]:
    """The row of an untracked, unwatched dimension holding the one event `single` describes."""
    kind_index, mood, platform = single
    counts, sentiment = _single_counts(kind_index, mood)
    return [counts, _NO_MAP, sentiment, _NO_MAP, {platform: 1}, _NO_LIST, _NO_LIST]


# source (social.keyed) partition, pack offset, the router's clocks (raw partition -> newest event
# time), the pack's unique events
SourcePack = tuple[int, int, dict[int, int], list[CanonicalEvent]]


def contribution_messages(packs: Iterable[SourcePack], measures: Sequence[RuleMeasure],
                          partitions: int, partition_of: Callable[[str], int]) -> dict[int, list[Any]]:
    """One social.contributions value per target partition: for every source pack, the rows of the
    keys that partition owns. Every partition hears of every pack (maybe with no rows), so each
    windows task knows how far every source has got (its watermark)."""
    out: dict[int, list[Any]] = {q: [] for q in range(partitions)}
    for source, offset, clocks, events in packs:
        header = {str(r): ms for r, ms in clocks.items()}
        per_target: dict[int, list[Any]] = {q: [] for q in range(partitions)}
        for dim, key, minute, row in pack_rows(events, measures):
            per_target[partition_of(f"{dim}\x1f{key}")].append([dim, key, minute, row])
        for q, rows in per_target.items():
            out[q].append([source, offset, header, rows])
    return out
