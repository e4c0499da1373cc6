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
    assert sum(len(unpack(v)) for v in packs.values()) == 3
    owner = partition_for_key(ev(1).route_key, 6)
    assert [e.id for e in unpack(packs[owner])].count("id-1") == 2


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
