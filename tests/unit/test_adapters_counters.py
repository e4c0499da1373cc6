"""Counters (views, likes, scores) → unit events: deterministic, capped, never negative, dated by
the snapshot, and exact once the store stage's dedupe on (platform, id) has dropped repeats."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import orjson

from schemas.adapters.output import AdapterLimits
from schemas.event import CanonicalEvent
from streams.normalize import Rejection, normalize
from streams.routing import unpack

LIMIT = 1 << 20
PUBLISHED = "2026-11-21T10:00:00Z"
DEFAULT_LIMITS = AdapterLimits()


def video(views: int, likes: int, fetched_at: str | None = "2026-11-21T10:30:00Z") -> bytes:
    envelope: dict[str, Any] = {"platform": "youtube", "payload": {
        "kind": "youtube#video", "id": "V",
        "snippet": {"publishedAt": PUBLISHED, "channelId": "C", "title": "t"},
        "statistics": {"viewCount": str(views), "likeCount": str(likes), "commentCount": "9"}}}
    if fetched_at is not None:
        envelope["fetched_at"] = fetched_at
    return orjson.dumps(envelope)


def units(raw: bytes, limits: AdapterLimits = DEFAULT_LIMITS) -> list[CanonicalEvent]:
    result = normalize(raw, LIMIT, limits)
    assert isinstance(result, list) and not any(isinstance(r, Rejection) for r in result), result
    return [e for e in result if isinstance(e, CanonicalEvent) and e.kind != "post"]


def ids(events: list[CanonicalEvent], kind: str) -> set[str]:
    return {e.id for e in events if e.kind == kind}


def test_a_snapshot_is_one_unit_per_count_dated_at_the_fetch() -> None:
    events = units(video(views=30, likes=120))
    assert ids(events, "like") == {f"V:likes:{n}" for n in range(1, 121)}
    assert ids(events, "view") == {f"V:views:{n}" for n in range(1, 31)}
    assert {e.occurred_at_ms for e in events} == {1_795_257_000_000}
    assert {(e.actor_id, e.target_id) for e in events} == {("anonymous", "V")}
    assert "comment" not in {e.kind for e in events}  # comments arrive one by one, never as counters


def test_successive_snapshots_count_exactly_the_increase_after_dedupe() -> None:
    seen: set[str] = set()
    new_per_snapshot = []
    for likes in (120, 150, 150, 140, 155):  # an unlike (150 → 140) emits nothing new
        fresh = ids(units(video(0, likes)), "like") - seen
        new_per_snapshot.append(len(fresh))
        seen |= fresh
    assert new_per_snapshot == [120, 30, 0, 0, 5]
    assert len(seen) == 155  # the high-water mark, never negative


def test_cap_per_counter_and_a_lower_cap_for_views() -> None:
    limits = AdapterLimits(counter_cap=50)
    events = units(video(views=1_000_000_000, likes=80), limits)
    assert ids(events, "like") == {f"V:likes:{n}" for n in range(31, 81)}
    assert ids(events, "view") == {f"V:views:{n}" for n in range(999_999_996, 1_000_000_001)}
    assert len(units(video(views=10**6, likes=10**6))) == 1000 + 100  # default caps


def test_counters_without_fetched_at_are_rejected_but_the_post_is_kept() -> None:
    result = normalize(video(views=3, likes=2, fetched_at=None), LIMIT)
    assert isinstance(result, list)
    assert [e.kind for e in result if isinstance(e, CanonicalEvent)] == ["post"]
    assert [r.reason for r in result if isinstance(r, Rejection)] == [
        "payload.youtube: missing envelope fetched_at (the snapshot time counters are dated with)"]
    # Zero counters need no time: nothing to date.
    zero = normalize(video(views=0, likes=0, fetched_at=None), LIMIT)
    assert isinstance(zero, list) and len(zero) == 1 and isinstance(zero[0], CanonicalEvent)


def test_items_older_than_the_dedupe_horizon_emit_no_counters() -> None:
    limits = AdapterLimits(horizon_ms=3_600_000)
    assert units(video(5, 5, fetched_at="2026-11-21T10:59:00Z"), limits) != []
    assert units(video(5, 5, fetched_at="2026-11-21T11:01:00Z"), limits) == []


def test_unit_ids_never_collide_with_itemized_ids() -> None:
    snapshot = {"platform": "facebook", "fetched_at": "2026-11-21T11:00:00Z", "payload": {
        "id": "P_1", "created_time": 1795255210, "from": {"id": "1"},
        "reactions": {"summary": {"total_count": 3}}}}
    reaction = {"platform": "facebook", "payload": {"entry": [{"changes": [{"field": "feed", "value": {
        "item": "reaction", "verb": "add", "post_id": "P_1", "from": {"id": "1"}, "created_time": 1795255220}}]}]}}
    a, b = normalize(orjson.dumps(snapshot), LIMIT), normalize(orjson.dumps(reaction), LIMIT)
    assert isinstance(a, list) and isinstance(b, list)
    assert not {e.id for e in a if isinstance(e, CanonicalEvent)} & {e.id for e in b if isinstance(e, CanonicalEvent)}


def test_route_batch_routes_every_event_of_an_envelope_and_one_dead_letter() -> None:
    from streams.agents.route import route_batch

    def rec(offset: int, value: bytes) -> SimpleNamespace:
        return SimpleNamespace(topic="social.raw", partition=0, offset=offset, value=value)

    broken = orjson.dumps({"platform": "youtube", "payload": {"kind": "youtube#commentListResponse", "items": [
        {"kind": "youtube#comment", "id": "c1", "snippet": {"videoId": "V", "authorDisplayName": "a",
                                                            "publishedAt": "2026-11-21T10:40:00Z"}},
        {"kind": "youtube#comment", "id": "c2", "snippet": {"videoId": "V"}}]}})
    clocks: dict[int, int] = {}
    dead, packs = route_batch([rec(0, video(3, 2)), rec(1, broken)], 6, 6, LIMIT, 0, clocks)
    routed = [e for _, _, value in packs for e in unpack(value)[1]]
    assert sorted(e.id for e in routed) == sorted(["V", "V:likes:1", "V:likes:2", "V:views:1", "V:views:2",
                                                   "V:views:3", "c1"])
    assert len(packs) == 1  # a post and all its engagement share one partition
    assert [orjson.loads(v)["error"] for _, _, v in dead] == ["payload.youtube: missing items[1].snippet.publishedAt"]
    assert [orjson.loads(v)["offset"] for _, _, v in dead] == [1]
    assert clocks == {0: 1_795_257_600_000}  # the newest event of the batch (c1 at 10:40)
