"""Minute buckets per (dimension, key) for the keys one partition owns, with a watermark.

Pure; the clock (`now_ms`, processing time) is an argument. Exactly-once under redelivery: every
bucket remembers, per source partition, the newest source pack offset merged into it. A source
partition's packs arrive in offset order (one producer per source partition at a time), so a
redelivered pack — same offset, same content — is recognised and skipped, key by key.

Watermark: every source pack carries the router's clocks (raw partition → newest event time it
had read). Per (source partition, raw partition) the newest clock is kept; the watermark is the
minimum over all of them (heard from recently). A raw partition read behind the others (a
backlog, a restarted router) or a source partition processed behind the others holds the
watermark back instead of having its events declared late. Minutes before the watermark are
*closed* (emitted, and handed to the spike detector); minutes more than `grace_ms` before it are
*final*: later contributions to them are counted as late and not merged (they still reach
ClickHouse, which counts every unique event whenever it arrives).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

from streams.windows.contributions import MINUTE_MS, Contribution

BucketKey = tuple[str, str, int]  # dimension, key, minute start (epoch ms)

# A bucket holding a single event of a compact row (`CompactWire`: most authors', who act once in a
# minute) is stored as one int, not as a MinuteBucket with its Contribution (~9 objects, ~1 KB, all
# surviving into the collector's older generations): the event's kind, mood and platform (an index
# into the partition's platform table) and the source pack it came from. It becomes a MinuteBucket
# when a second event merges into it, and readers get one made on the fly (`bucket`, `key_buckets`).
# Measured (BENCHMARKS.md, Session 12): 1,755 -> 703 bytes per such bucket with its indexes, and with
# many distinct actors a minute ~30% less of the stage's CPU.
_KINDS: Final = 16  # > len(KIND_ORDER)
_MOODS: Final = 4  # mood + 1: -1 (no text), negative, neutral, positive
_CODES: Final = 1 << 26  # kind, mood and platform index
_SOURCES: Final = 1 << 16  # source (social.keyed) partitions


def minute_floor(ms: int) -> int:
    return ms - ms % MINUTE_MS


@dataclass(slots=True)
class MinuteBucket:
    data: Contribution
    applied: dict[int, int] = field(default_factory=dict)  # source partition -> newest pack offset merged
    # Packs merged so far: what social.engagement reports as `revision`. It grows with every merge,
    # so a re-emitted minute always carries a higher one, and it changes only with the data: an
    # emission needs no state write of its own.
    revision: int = 1

    def to_list(self) -> list[Any]:
        return [self.data.to_wire(), [[p, o] for p, o in self.applied.items()], self.revision]

    @classmethod
    def from_list(cls, data: list[Any]) -> MinuteBucket:
        # max: buckets persisted before revisions counted merges started at 0.
        return cls(Contribution.from_wire(data[0]), {int(p): int(o) for p, o in data[1]}, max(1, int(data[2])))


# A stored bucket: a MinuteBucket, or a single compact event packed in an int (see _CODES).
StoredBucket = MinuteBucket | int


@dataclass
class SourceClock:
    event_ms: int  # newest event time this source partition has sent
    seen_ms: int  # processing time it was last heard from


class WindowPartition:
    def __init__(self, grace_ms: int, sources: int, raw_partitions: int, retain_ms: int = 3_600_000,
                 idle_ms: int = 60_000) -> None:
        self.grace_ms = grace_ms
        # (social.keyed partition, social.raw partition) pairs: each keyed partition sends every pack
        # to every windows partition, stamped with the clocks of the raw partitions it came from.
        self.expected_clocks = sources * raw_partitions
        self.retain_ms = retain_ms  # the longest sliding window
        self.idle_ms = idle_ms  # a source silent for this long stops holding the watermark back
        self.buckets: dict[tuple[str, str], dict[int, StoredBucket]] = {}
        self._platforms: list[str] = []  # platform names of compact buckets, by index
        self._platform_index: dict[str, int] = {}
        self.by_minute: dict[int, set[tuple[str, str]]] = {}
        self.sources: dict[tuple[int, int], SourceClock] = {}
        self.closed_before = 0  # minutes before this were closed
        self.started_ms = 0  # processing time of the first pack (or of recovery)
        self.changed: set[BucketKey] = set()  # to persist (changelog)
        self.removed: set[BucketKey] = set()  # to delete from the changelog
        self._to_emit: set[BucketKey] = set()  # late revisions of closed minutes: emitted next
        # Per closed minute not fully emitted yet: its keys still to emit (None after a recovery:
        # listed again from the buckets when next emitted). A minute can close with ~100,000 keys:
        # emitting them over several batches keeps alerts behind it waiting seconds, not tens of
        # seconds. The minutes are persisted with the clocks.
        self._closing: dict[int, deque[tuple[str, str]] | None] = {}

    # ------------------------------------------------------------------ time
    def watermark(self, now_ms: int) -> int:
        if len(self.sources) < self.expected_clocks and now_ms - self.started_ms <= self.idle_ms:
            return 0  # until every source has spoken (or the rest stayed silent), nothing is final
        active = [c.event_ms for c in self.sources.values() if now_ms - c.seen_ms <= self.idle_ms]
        return min(active) if active else 0

    def final_before(self, now_ms: int) -> int:
        wm = self.watermark(now_ms)
        return minute_floor(wm - self.grace_ms) if wm else 0

    # ------------------------------------------------------------------ input
    def apply(self, source: int, offset: int, clocks: dict[int, int], rows: Iterable[Sequence[Any]],
              now_ms: int) -> tuple[list[BucketKey], int]:
        """Merge one source pack's rows, as they came off the wire (`[dim, key, minute,
        Contribution.to_wire()]`, freshly decoded: adopted, not copied). Returns (buckets changed,
        late events not merged). Decoding happens here, only for rows that are merged."""
        if not self.started_ms:
            self.started_ms = now_ms
        final_before = self.final_before(now_ms)  # before this pack's own clocks count
        for raw, event_ms in clocks.items():
            clock = self.sources.get((source, raw))
            if clock is None:
                self.sources[(source, raw)] = SourceClock(event_ms, now_ms)
            else:
                clock.event_ms = max(clock.event_ms, event_ms)
                clock.seen_ms = now_ms
        touched: list[BucketKey] = []
        late = 0
        from_wire = Contribution.from_wire
        buckets = self.buckets
        for dim, key, minute, wire in rows:
            per_key = buckets.get((dim, key))
            stored = per_key.get(minute) if per_key is not None else None
            if stored is not None:  # skip a pack merged before (redelivery)
                if isinstance(stored, MinuteBucket):
                    if stored.applied.get(source, -1) >= offset:
                        continue
                elif (stored // _CODES) % _SOURCES == source and stored // (_CODES * _SOURCES) >= offset:
                    continue
            single = type(wire[0]) is int  # is_single_wire, inlined: most rows are
            if minute < final_before:
                late += 1 if single else sum(wire[0])
                continue
            if per_key is None or stored is None:
                if per_key is None:
                    per_key = buckets[(dim, key)] = {}
                # Most buckets get one contribution: it becomes the bucket (rows are never shared).
                if single and source < _SOURCES:
                    per_key[minute] = self._compact(wire[0], wire[1], wire[2], source, offset)
                else:
                    per_key[minute] = MinuteBucket(from_wire(wire), {source: offset}, 1)
                self.by_minute.setdefault(minute, set()).add((dim, key))
            else:
                if isinstance(stored, MinuteBucket):
                    bucket = stored
                else:  # a compact bucket's second event
                    bucket = per_key[minute] = self._inflate(stored)
                if single:
                    bucket.data.add_single(wire[0], wire[1], wire[2])
                else:
                    bucket.data.add(from_wire(wire))
                bucket.applied[source] = offset
                bucket.revision += 1
            bk = (dim, key, minute)
            self.changed.add(bk)
            touched.append(bk)
            if minute < self.closed_before:
                self._to_emit.add(bk)  # a late revision of a minute already emitted
        return touched, late

    # ------------------------------------------------------------------ closing
    def closable(self, now_ms: int) -> bool:
        """Whether `close` would close a minute now."""
        return minute_floor(self.watermark(now_ms)) > self.closed_before

    def close(self, now_ms: int) -> list[int]:
        """Close the minutes the watermark has passed; returns those that have buckets, oldest first."""
        boundary = minute_floor(self.watermark(now_ms))
        if boundary <= self.closed_before:
            return []
        closing = sorted(m for m in self.by_minute if self.closed_before <= m < boundary)
        for m in closing:
            self._queue_minute(m)
        self.closed_before = boundary
        return closing

    def _queue_minute(self, minute: int) -> None:
        keys = self._minute_keys(minute)
        if keys:
            self._closing[minute] = keys

    def _minute_keys(self, minute: int) -> deque[tuple[str, str]]:
        """The (dimension, key)s with a bucket in `minute`, in emission order."""
        return deque(sorted(self.by_minute.get(minute, ())))

    @property
    def emissions_pending(self) -> bool:
        return bool(self._closing or self._to_emit)

    def take_emissions(self, budget: int | None = None) -> list[BucketKey]:
        """Buckets to (re-)emit to social.engagement: every late revision, and keys of closed
        minutes, oldest first — all of them when `budget` is None, else about `budget` of them:
        older closed minutes go whole even beyond it, and only the newest closed minute waits for
        later calls (so a backlog that closes minutes faster than the budget emits never piles up
        more than a minute)."""
        out = sorted(self._to_emit, key=lambda bk: bk[2])
        self._to_emit = set()
        newest = max(self._closing, default=None)
        taken = 0
        for minute in sorted(self._closing):
            keys = self._closing[minute]
            if keys is None:  # recovered: all its keys again (at least once)
                keys = self._closing[minute] = self._minute_keys(minute)
            while keys and not (budget is not None and taken >= budget and minute == newest):
                dim, key = keys.popleft()
                out.append((dim, key, minute))
                taken += 1
            if not keys:
                del self._closing[minute]
        return out

    def prune(self, budget: int | None = None) -> int:
        """Forget buckets that left the longest window and can no longer change (never those of a
        minute still being emitted), oldest minutes first: all of them, or at most `budget` per call.
        A minute holds ~190,000 buckets at 10,000 events/s, and the first live minute after a
        backlog makes all of the backlog's prunable at once: forgetting (and deleting from the
        changelog) that many in one batch held alerts for seconds. Returns how many were forgotten."""
        cutoff = self._prune_before()
        pruned = 0
        for m in sorted(m for m in self.by_minute if m < cutoff):
            keys = self.by_minute[m]
            while keys and (budget is None or pruned < budget):
                dim, key = keys.pop()
                per_key = self.buckets[(dim, key)]
                per_key.pop(m, None)
                if not per_key:
                    del self.buckets[(dim, key)]
                self.removed.add((dim, key, m))
                self.changed.discard((dim, key, m))
                self._to_emit.discard((dim, key, m))
                pruned += 1
            if keys:
                break  # the budget is spent
            del self.by_minute[m]
        return pruned

    def _prune_before(self) -> int:
        return min(self.closed_before - self.retain_ms, self.closed_before - self.grace_ms - MINUTE_MS,
                   min(self._closing, default=self.closed_before))

    def prunable(self) -> int:
        """Buckets `prune` would forget without a budget."""
        cutoff = self._prune_before()
        return sum(len(keys) for m, keys in self.by_minute.items() if m < cutoff)

    # ------------------------------------------------------------------ compact buckets
    def _compact(self, kind_index: int, mood: int, platform: str, source: int, offset: int) -> int:
        index = self._platform_index.get(platform)
        if index is None:
            index = self._platform_index[platform] = len(self._platforms)
            self._platforms.append(platform)
        code = (index * _MOODS + mood + 1) * _KINDS + kind_index
        return (offset * _SOURCES + source) * _CODES + code

    def _single(self, stored: int) -> tuple[int, int, str]:
        """(kind index, mood, platform) of a compact bucket's event."""
        code = stored % _CODES
        return code % _KINDS, (code // _KINDS) % _MOODS - 1, self._platforms[code // (_KINDS * _MOODS)]

    def _inflate(self, stored: StoredBucket) -> MinuteBucket:
        if isinstance(stored, MinuteBucket):
            return stored
        kind_index, mood, platform = self._single(stored)
        return MinuteBucket(Contribution.single(kind_index, mood, platform),
                            {(stored // _CODES) % _SOURCES: stored // (_CODES * _SOURCES)}, 1)

    # ------------------------------------------------------------------ reading
    def bucket(self, dim: str, key: str, minute: int) -> MinuteBucket | None:
        """The bucket (made on the fly for a compact one: changing it changes nothing)."""
        per_key = self.buckets.get((dim, key))
        stored = per_key.get(minute) if per_key is not None else None
        return None if stored is None else self._inflate(stored)

    def has_bucket(self, dim: str, key: str, minute: int) -> bool:
        per_key = self.buckets.get((dim, key))
        return per_key is not None and minute in per_key

    def key_buckets(self, dim: str, key: str) -> dict[int, MinuteBucket]:
        """Every bucket of the key by minute (see `bucket`)."""
        per_key = self.buckets.get((dim, key))
        if per_key is None:
            return {}
        return {m: self._inflate(stored) for m, stored in per_key.items()}

    def single_shape(self, dim: str, key: str, minute: int) -> int | None:
        """For a key whose only bucket is a compact one in `minute`: what its engagement record
        depends on besides the key (kind, mood, platform), else None."""
        per_key = self.buckets.get((dim, key))
        if per_key is None or len(per_key) != 1:
            return None
        stored = per_key.get(minute)
        return stored % _CODES if isinstance(stored, int) else None

    def window(self, dim: str, key: str, end_minute: int, minutes: int) -> Iterator[MinuteBucket]:
        """Buckets of the sliding window of `minutes` minutes ending with (and including) `end_minute`."""
        per_key = self.buckets.get((dim, key), {})
        start = end_minute - (minutes - 1) * MINUTE_MS
        inflate = self._inflate
        if len(per_key) <= minutes:
            return (inflate(b) for m, b in per_key.items() if start <= m <= end_minute)
        return (inflate(b) for m in range(start, end_minute + 1, MINUTE_MS) if (b := per_key.get(m)) is not None)

    def bucket_value(self, dim: str, key: str, minute: int) -> list[Any] | None:
        """The changelog form of a bucket (`MinuteBucket.to_list`; a compact bucket's event in the
        compact wire form), None if there is none."""
        per_key = self.buckets.get((dim, key))
        stored = per_key.get(minute) if per_key is not None else None
        if stored is None:
            return None
        if isinstance(stored, MinuteBucket):
            return stored.to_list()
        kind_index, mood, platform = self._single(stored)
        return [[kind_index, mood, platform], [[(stored // _CODES) % _SOURCES, stored // (_CODES * _SOURCES)]], 1]

    def stored_buckets(self) -> Iterator[tuple[str, str, int, list[Any]]]:
        """(dimension, key, minute, changelog form) of every bucket."""
        for (dim, key), per_key in self.buckets.items():
            for minute in per_key:
                value = self.bucket_value(dim, key, minute)
                if value is not None:
                    yield dim, key, minute, value

    def load_bucket(self, dim: str, key: str, minute: int, bucket: MinuteBucket) -> None:
        self.buckets.setdefault((dim, key), {})[minute] = bucket
        self.by_minute.setdefault(minute, set()).add((dim, key))

    def restore_bucket(self, dim: str, key: str, minute: int, value: list[Any]) -> None:
        """Recovery: one bucket from its changelog form (compact again if it was)."""
        wire, applied, revision = value
        if type(wire[0]) is int and len(applied) == 1 and int(revision) == 1 and int(applied[0][0]) < _SOURCES:
            source, offset = applied[0]
            self.buckets.setdefault((dim, key), {})[minute] = self._compact(
                int(wire[0]), int(wire[1]), str(wire[2]), int(source), int(offset))
            self.by_minute.setdefault(minute, set()).add((dim, key))
        else:
            self.load_bucket(dim, key, minute, MinuteBucket.from_list(value))

    def clock_state(self) -> dict[str, Any]:
        return {"closed_before": self.closed_before,
                "clocks": [[p, r, c.event_ms] for (p, r), c in self.sources.items()],
                "emitting": sorted(self._closing)}

    def load_clock(self, data: dict[str, Any], now_ms: int) -> None:
        """Recovery: restored sources count as just heard from, so none is wrongly idle at start."""
        self.closed_before = int(data.get("closed_before", 0))
        self.started_ms = now_ms
        # Closed minutes whose emission was under way: all their keys go out again (at least once).
        self._closing = {int(m): None for m in data.get("emitting", [])}
        for p, r, event_ms in data.get("clocks", []):
            self.sources[(int(p), int(r))] = SourceClock(int(event_ms), now_ms)
