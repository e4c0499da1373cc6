"""Dedupe decisions and the post attributes engagement inherits, per partition of social.keyed.

Pure: the worker feeds it events with the Kafka offset of the pack they came in, and persists
the `PackRecord` each pack leaves behind (a Faust table changelog entry). Recovery replays those
records with `load`.

Why offsets: a worker can die after its state was persisted but before it acknowledged the
pack. On redelivery the keys of that pack look "already seen". A key first seen *in this very
pack* is therefore treated as new again, so the pack's outputs are re-written (idempotently)
instead of lost.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from schemas.event import ENGAGEMENT_KINDS, CanonicalEvent, dedupe_key

PostAttributes = tuple[list[str], list[str]]  # (hashtags, brands)


@dataclass
class PackRecord:
    """What one pack taught the partition: keys first seen in it, posts it introduced, newest event time."""

    keys: list[str] = field(default_factory=list)
    posts: dict[str, PostAttributes] = field(default_factory=dict)
    max_event_ms: int = 0

    def to_json(self) -> dict[str, Any]:
        return {"k": self.keys, "p": {k: [h, b] for k, (h, b) in self.posts.items()}, "t": self.max_event_ms}

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> PackRecord:
        return cls(list(d["k"]), {k: (list(v[0]), list(v[1])) for k, v in d["p"].items()}, int(d["t"]))


class DedupeState:
    """Keys seen within the event-time horizon, for one partition."""

    def __init__(self, horizon_ms: int) -> None:
        self.horizon_ms = horizon_ms
        self._seen: dict[str, int] = {}  # dedupe key -> offset of the pack that first saw it
        # post dedupe key -> (attributes, offset of the pack that introduced it)
        self._posts: dict[str, tuple[PostAttributes, int]] = {}
        self._records: dict[int, PackRecord] = {}  # pack offset -> what it recorded
        self._open: dict[int, PackRecord] = {}  # records being built in the current batch
        self._admitted_now: set[str] = set()
        self.watermark_ms = 0  # newest event time seen in this partition
        self.last_offset = -1  # newest pack with a record: every pack leaves one, even if all duplicates

    def __len__(self) -> int:
        return len(self._seen)

    def load(self, offset: int, record: PackRecord) -> None:
        """Replay one persisted record (recovery)."""
        self._records[offset] = record
        for key in record.keys:
            self._seen.setdefault(key, offset)
        self._posts.update((post, (attrs, offset)) for post, attrs in record.posts.items())
        self.watermark_ms = max(self.watermark_ms, record.max_event_ms)
        self.last_offset = max(self.last_offset, offset)

    def missing_before(self, offset: int) -> range:
        """Pack offsets between the last recorded pack and `offset` that were never processed.

        The consumer can skip messages around a rebalance (a known Faust issue); the worker reads
        the packs in this range directly from Kafka before going on, so none is lost.
        """
        newest = max(self.last_offset, max(self._open, default=-1))
        return range(newest + 1, offset)

    def open_pack(self, offset: int) -> None:
        """Start processing the pack at `offset`, so it leaves a record even if it adds nothing."""
        self._open.setdefault(offset, PackRecord())

    def admit(self, event: CanonicalEvent, offset: int) -> bool:
        """True when `event` is new (first copy of its key); records it under the pack at `offset`."""
        key = event.key
        first = self._seen.get(key)
        if first is not None and not (first == offset and key not in self._admitted_now):
            return False
        self._seen[key] = offset
        self._admitted_now.add(key)
        record = self._open.get(offset)
        if record is None:
            record = self._open[offset] = PackRecord()
        record.keys.append(key)
        record.max_event_ms = max(record.max_event_ms, event.occurred_at_ms)
        self.watermark_ms = max(self.watermark_ms, event.occurred_at_ms)
        return True

    def inherited(self, event: CanonicalEvent, offset: int) -> PostAttributes | None:
        """For textless engagement (like, share, view, vote): hashtags and brands of the post it acts
        on, when that post is known here. Comments and replies speak for themselves.

        Only a post from an earlier pack, or from earlier in this pack, counts: a redelivered pack
        then enriches exactly as it did the first time, even when the post arrived in a later pack
        that was processed before the crash (the windows stage and ClickHouse agree on the tags).
        """
        if event.kind not in ENGAGEMENT_KINDS or not event.target_id:
            return None
        post_key = dedupe_key(event.platform, event.target_id)
        known = self._posts.get(post_key)
        if known is None or known[1] > offset or (known[1] == offset and post_key not in self._admitted_now):
            return None  # the post came later (in a later pack, or later in this one)
        return known[0]

    def remember_post(self, event: CanonicalEvent, offset: int) -> None:
        """After enrichment: keep a post's attributes so its later engagement can inherit them."""
        if event.kind != "post":
            return
        attrs = (list(event.hashtags), list(event.brands))
        self._posts[event.key] = (attrs, offset)
        record = self._open.setdefault(offset, PackRecord())
        record.posts[event.key] = attrs

    def close_batch(self) -> dict[int, PackRecord]:
        """The records to persist for the packs of this batch (offset -> record)."""
        records = self._open
        for offset, record in records.items():
            previous = self._records.get(offset)
            if previous is not None:  # a redelivered pack: keep what the first delivery recorded too
                record.keys = list(dict.fromkeys(previous.keys + record.keys))
                record.posts = {**previous.posts, **record.posts}
                record.max_event_ms = max(previous.max_event_ms, record.max_event_ms)
            if not record.keys and not record.max_event_ms:
                record.max_event_ms = self.watermark_ms  # an all-duplicate pack expires with its peers
            self._records[offset] = record
            self.last_offset = max(self.last_offset, offset)
        self._open = {}
        self._admitted_now = set()
        return records

    def expire(self) -> list[int]:
        """Forget packs whose newest event is older than the horizon; returns their offsets."""
        cutoff = self.watermark_ms - self.horizon_ms
        old = [offset for offset, record in self._records.items() if record.max_event_ms < cutoff]
        for offset in old:
            record = self._records.pop(offset)
            for key in record.keys:
                if self._seen.get(key) == offset:
                    del self._seen[key]
            for post in record.posts:
                self._posts.pop(post, None)
        return old
