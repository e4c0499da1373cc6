"""The values of `social.engagement` and `social.alerts` (JSON Schemas in schemas/json/). Pure."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from operator import mul
from typing import Any

import orjson

from schemas.event import format_time_ms
from streams.detect.lifecycle import Transition
from streams.windows.contributions import KIND_ORDER, MAX_AUTHORS, MINUTE_MS, TRACKED_DIMENSIONS, Contribution
from streams.windows.state import MinuteBucket, WindowPartition

# Sliding windows reported with every minute: name -> minutes.
WINDOWS = {"5m": 5, "1h": 60}
# Distinct actors are kept per minute; their union is reported for short windows only (cheap there).
_ACTORS_UP_TO_MINUTES = 5


def combined(buckets: Iterable[MinuteBucket]) -> Contribution:
    total = Contribution()
    for b in buckets:
        total.add(b.data)
    return total


def _counts(c: list[int]) -> dict[str, int]:
    # A literal, not dict(zip(...)): this runs for every record and window (measured ~1.5x faster).
    return {"posts": c[0], "comments": c[1], "replies": c[2], "likes": c[3], "shares": c[4], "views": c[5],
            "mentions": c[6], "follows": c[7], "votes": c[8], "total": sum(c)}


def _top(counter: Mapping[str, int], n: int = 5) -> list[dict[str, Any]]:
    return [{"key": k, "events": v} for k, v in sorted(counter.items(), key=lambda kv: (-kv[1], kv[0]))[:n]]


class EngagementRecords:
    """Builds `social.engagement` values; one per (dimension, key, minute) emitted.

    On a hot path (one record per active key per minute, ~0.3-0.8 per event): weights as a
    vector, the formatted times of a minute's windows computed once per minute, and a key active
    in a single minute (most authors and posts) skips the window sums.
    """

    def __init__(self, weights: Mapping[str, float]) -> None:
        self._weights = [weights.get(kind, 0.0) for kind in KIND_ORDER]
        self._times: dict[int, tuple[str, str, list[str]]] = {}  # minute -> (minute, end, window starts)
        self._emitted: tuple[int, str] = (-1, "")
        # Serialized records of single-minute keys, split around the key, per emission time and
        # bucket contents (see record_json).
        self._shapes: dict[tuple[Any, ...], tuple[bytes, bytes]] = {}
        self._shapes_at = -1

    def score(self, counts: list[int]) -> float:
        return float(sum(map(mul, counts, self._weights)))

    def _minute_times(self, minute: int) -> tuple[str, str, list[str]]:
        times = self._times.get(minute)
        if times is None:
            if len(self._times) > 10_000:
                self._times.clear()
            times = self._times[minute] = (
                format_time_ms(minute), format_time_ms(minute + MINUTE_MS),
                [format_time_ms(minute - (minutes - 1) * MINUTE_MS) for minutes in WINDOWS.values()])
        return times

    def record_json(self, part: WindowPartition, dim: str, key: str, minute: int, emitted_at_ms: int) -> bytes:
        """`orjson.dumps(self.record(...))`, built once per shape for keys whose only bucket is this
        minute (most authors, many posts): their records differ only in the key when the buckets'
        contents and revision agree, and a minute's thousands of authors have a few hundred shapes
        between them (kind, sentiment, platform). Profiled at ~18 us per author record built and
        serialized; a reused shape costs the key's serialization and a concatenation."""
        if dim == "platform":  # a platform's record names it in "platforms"
            return orjson.dumps(self.record(part, dim, key, minute, emitted_at_ms))
        shape: tuple[Any, ...]
        single = part.single_shape(dim, key, minute)
        if single is not None:  # a compact bucket (most authors): kind, mood and platform
            shape = (dim, minute, single)
        else:
            per_key = part.buckets.get((dim, key))
            stored = per_key.get(minute) if per_key is not None and len(per_key) == 1 else None
            if not isinstance(stored, MinuteBucket):
                return orjson.dumps(self.record(part, dim, key, minute, emitted_at_ms))
            data = stored.data
            shape = (dim, minute, stored.revision, *data.counts, *data.sentiment, len(data.authors),
                     *sorted(data.platforms.items()))
        if emitted_at_ms != self._shapes_at:
            self._shapes.clear()
            self._shapes_at = emitted_at_ms
        parts = self._shapes.get(shape)
        if parts is None:
            full = orjson.dumps(self.record(part, dim, key, minute, emitted_at_ms))
            head = b'{"dimension":' + orjson.dumps(dim) + b',"key":'
            key_json = orjson.dumps(key)
            assert full.startswith(head + key_json)
            parts = self._shapes[shape] = (head, full[len(head) + len(key_json):])
            return full
        return parts[0] + orjson.dumps(key) + parts[1]

    def record(self, part: WindowPartition, dim: str, key: str, minute: int, emitted_at_ms: int) -> dict[str, Any]:
        per_key = part.key_buckets(dim, key)
        bucket = per_key.get(minute)
        data = bucket.data if bucket is not None else Contribution()
        counts = _counts(data.counts)
        minute_score = self.score(data.counts)
        tracked = dim in TRACKED_DIMENSIONS
        actors: int | None = (len(data.authors) if tracked else 1 if dim == "author" and counts["total"] else None)
        previous = per_key.get(minute - MINUTE_MS)
        minute_text, end_text, starts = self._minute_times(minute)
        if self._emitted[0] != emitted_at_ms:
            self._emitted = (emitted_at_ms, format_time_ms(emitted_at_ms))
        windows: dict[str, Any] = {}
        # The only minute of the key (most authors and posts): every window holds just it, the
        # window before held nothing. Else one pass over the key's minutes in the longest window;
        # shorter windows are its suffix.
        single = len(per_key) == 1
        if not single:
            first = minute - (max(WINDOWS.values()) - 1) * MINUTE_MS
            in_window = [(m, b) for m, b in per_key.items() if first <= m <= minute]
            summed_over = -1  # how many buckets the previous (shorter) window summed
        for (name, minutes), start_text in zip(WINDOWS.items(), starts, strict=True):
            if single:
                window_counts, now_score, before_score, window_actors = counts, minute_score, 0.0, actors
            else:
                start = minute - (minutes - 1) * MINUTE_MS
                buckets = [b for m, b in in_window if m >= start]
                # Windows ending at the same minute nest: as many buckets as the window before is
                # the same buckets, and the same sums (a key whose minutes all lie in the last
                # five, like most authors').
                if len(buckets) != summed_over:
                    summed_over = len(buckets)
                    summed = [sum(column) for column in zip(*(b.data.counts for b in buckets), strict=True)]
                    window_counts = _counts(summed or [0] * len(KIND_ORDER))
                    now_score = self.score(summed) if summed else 0.0
                # The window one minute earlier: this minute out, the one that slid out back in.
                dropped = per_key.get(minute - minutes * MINUTE_MS)
                before_score = now_score - minute_score + (self.score(dropped.data.counts) if dropped else 0.0)
                window_actors = None
                if minutes <= _ACTORS_UP_TO_MINUTES:
                    window_actors = (len(set().union(*(b.data.authors for b in buckets))) if tracked
                                     else 1 if dim == "author" else None)
            window: dict[str, Any] = {"start": start_text, "end": end_text, **window_counts,
                                      "score": round(now_score, 3), "velocity": round(now_score - before_score, 3)}
            if minutes <= _ACTORS_UP_TO_MINUTES:
                window["unique_actors"] = window_actors
            windows[name] = window
        return {
            "dimension": dim,
            "key": key,
            "minute": minute_text,
            "revision": bucket.revision if bucket is not None else 0,
            "counts": counts,
            "score": round(minute_score, 3),
            "velocity": round(minute_score - (self.score(previous.data.counts) if previous else 0.0), 3),
            "unique_actors": actors,
            "unique_actors_capped": actors is not None and actors >= MAX_AUTHORS,
            "sentiment": {"negative": data.sentiment[0], "neutral": data.sentiment[1],
                          "positive": data.sentiment[2]},
            "platforms": {key: counts["total"]} if dim == "platform" else dict(sorted(data.platforms.items())),
            "windows": windows,
            "emitted_at": self._emitted[1],
        }


def alert_record(t: Transition, rule: str, dim: str, key: str, evidence: Contribution,
                 window_minutes: int, emitted_at_ms: int) -> dict[str, Any]:
    """One alert state change: what a human needs to act on it."""
    a = t.assessment
    status = "resolved" if t.status == "resolved" else "open"
    return {
        "alert_id": t.alert_id,
        "rule": rule,
        "dimension": dim,
        "key": key,
        "transition": t.status,
        "status": status,
        "severity": t.severity,
        "opened_at": format_time_ms(t.opened_at_ms),
        "updated_at": format_time_ms(t.at_ms),
        "interval": {"start": format_time_ms(a.interval_start_ms),
                     "end": format_time_ms(a.interval_start_ms + MINUTE_MS)},
        "observed": round(a.observed, 3),
        "expected": round(a.expected, 3),
        "score": round(a.score, 4),
        "lift": round(a.observed / a.expected, 2) if a.expected > 0 else None,
        "evidence_window": {"start": format_time_ms(a.interval_start_ms - (window_minutes - 1) * MINUTE_MS),
                            "end": format_time_ms(a.interval_start_ms + MINUTE_MS),
                            **_counts(evidence.counts)},
        "top_posts": _top(evidence.posts),
        "top_authors": _top(evidence.authors),
        "sample_texts": evidence.samples[:3],
        "platforms": dict(sorted(evidence.platforms.items())),
        "sentiment": dict(zip(("negative", "neutral", "positive"), evidence.sentiment, strict=True)),
        "emitted_at": format_time_ms(emitted_at_ms),
    }
