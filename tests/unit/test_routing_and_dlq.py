from __future__ import annotations

import base64

import orjson
from hypothesis import given
from hypothesis import strategies as st

from schemas.event import CanonicalEvent, dedupe_key, format_time_ms
from streams.dead_letter import MAX_RAW_KEPT, dead_letter_record
from streams.routing import pack_by_partition, partition_for_key, unpack


def ev(i: int, platform: str = "x") -> CanonicalEvent:
    return CanonicalEvent(platform, f"id-{i}", "like", 1_700_000_000_000 + i, "u", target_id="p")


def test_partition_is_stable_and_in_range() -> None:
    assert partition_for_key(dedupe_key("x", "id-1"), 6) == partition_for_key(dedupe_key("x", "id-1"), 6)
    assert {partition_for_key(dedupe_key("x", f"id-{i}"), 6) for i in range(200)} == set(range(6))


def test_copies_of_one_event_pack_to_the_same_partition() -> None:
    packs = pack_by_partition([ev(1), ev(2), ev(1)], 6)
    assert sum(len(unpack(v)[1]) for v in packs.values()) == 3
    owner = partition_for_key(ev(1).route_key, 6)
    assert [e.id for e in unpack(packs[owner])[1]].count("id-1") == 2


def test_every_pack_carries_the_routers_clocks() -> None:
    packs = pack_by_partition([ev(i) for i in range(20)], 3, {0: 1_000, 4: 2_000})
    assert {p: unpack(v)[0] for p, v in packs.items()} == {p: {0: 1_000, 4: 2_000} for p in packs}


def test_packs_from_before_clocks_still_unpack() -> None:
    """A backlog written by the previous version (a bare list of events) after an upgrade."""
    old = orjson.dumps([ev(1).to_wire(), ev(2).to_wire()])
    clocks, events = unpack(old)
    assert clocks == {} and [e.id for e in events] == ["id-1", "id-2"]
    assert unpack(orjson.dumps([])) == ({}, [])


def test_route_batch_advances_clocks_per_raw_partition() -> None:
    from types import SimpleNamespace

    from streams.agents.route import route_batch

    def rec(partition: int, offset: int, value: bytes) -> SimpleNamespace:
        return SimpleNamespace(topic="social.raw", partition=partition, offset=offset, value=value)

    def raw(i: int, t: str) -> bytes:
        return orjson.dumps({"platform": "x", "id": f"e{i}", "kind": "post", "occurred_at": t, "actor": {"id": "u"}})

    clocks: dict[int, int] = {1: 0}
    dead, packs = route_batch([rec(0, 0, raw(1, "2026-11-21T10:00:05Z")), rec(0, 1, raw(2, "2026-11-21T10:00:01Z")),
                               rec(1, 0, raw(3, "2026-11-21T09:00:00Z")), rec(2, 0, b"not json")],
                              6, 6, 1 << 20, 0, clocks)
    assert len(dead) == 1
    assert clocks == {0: 1_795_255_205_000, 1: 1_795_251_600_000}
    assert all(unpack(value)[0] == clocks for _, _, value in packs)


def test_dead_letter_keeps_utf8_raw() -> None:
    rec = dead_letter_record("kind: bad", "social.raw", 3, 42, b'{"a": 1}', 1_763_719_205_120)
    assert rec == {"error": "kind: bad", "topic": "social.raw", "partition": 3, "offset": 42,
                   "received_at": "2025-11-21T10:00:05.120Z", "raw": '{"a": 1}'}
    orjson.dumps(rec)


def test_dead_letter_base64_for_binary_and_truncates_oversize() -> None:
    rec = dead_letter_record("value: not UTF-8", "social.raw", 0, 1, b"\xff\x00", 0)
    assert rec["raw_encoding"] == "base64" and base64.b64decode(rec["raw"]) == b"\xff\x00"
    big = dead_letter_record("value: oversize", "social.raw", 0, 1, b"a" * (MAX_RAW_KEPT + 10), 0)
    assert big["raw_truncated"] is True and len(big["raw"]) == MAX_RAW_KEPT


@given(st.integers(min_value=0, max_value=4_102_444_800_000))
def test_format_time_ms_matches_datetime(ms: int) -> None:
    from datetime import UTC, datetime

    expected = datetime.fromtimestamp(ms / 1000, tz=UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    assert format_time_ms(ms) == expected
    assert format_time_ms(ms) == expected  # and again, from the cache
