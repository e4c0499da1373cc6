"""`EngagementRecords.record` (the hot, one-pass version) against a plain reference computed
from the definition: per window, the buckets of its minutes summed; velocity against the window
one minute earlier; distinct actors over the 5-minute window."""

from __future__ import annotations

from operator import mul

import orjson
from hypothesis import given, settings
from hypothesis import strategies as st

from streams.windows.contributions import KIND_ORDER, MINUTE_MS, Contribution
from streams.windows.records import WINDOWS, EngagementRecords
from streams.windows.state import MinuteBucket, WindowPartition

T0 = 1_795_255_200_000
WEIGHTS = {"post": 1.0, "comment": 3.0, "reply": 2.0, "like": 0.5, "share": 4.0, "view": 0.1}
W = [WEIGHTS.get(k, 0.0) for k in KIND_ORDER]


def reference(per_key: dict[int, Contribution], dim: str, minute: int) -> dict[str, dict[str, float | int | None]]:
    def score(counts: list[int]) -> float:
        return sum(map(mul, counts, W))

    out: dict[str, dict[str, float | int | None]] = {}
    for name, minutes in WINDOWS.items():
        def window(end: int, minutes: int = minutes) -> list[Contribution]:
            return [per_key[m] for m in range(end - (minutes - 1) * MINUTE_MS, end + MINUTE_MS, MINUTE_MS)
                    if m in per_key]
        now = window(minute)
        before = window(minute - MINUTE_MS)
        total = sum(sum(c.counts) for c in now)
        now_score = sum(score(c.counts) for c in now)
        before_score = sum(score(c.counts) for c in before)
        actors: int | None = None
        if dim == "author":
            actors = 1
        elif dim in ("post", "hashtag", "brand"):
            actors = len({a for c in now for a in c.authors})
        out[name] = {"total": total, "score": round(now_score, 3), "velocity": round(now_score - before_score, 3),
                     "actors": actors if minutes <= 5 else None}
    return out


buckets = st.dictionaries(
    st.integers(min_value=-70, max_value=5),
    st.tuples(st.lists(st.integers(min_value=0, max_value=20), min_size=len(KIND_ORDER), max_size=len(KIND_ORDER)),
              st.sets(st.sampled_from(["a", "b", "c", "d", "e"]), max_size=4)),
    min_size=1, max_size=30)


@settings(max_examples=300, deadline=None)
@given(layout=buckets, dim=st.sampled_from(["post", "hashtag", "author", "platform"]), pick=st.integers(0, 29))
def test_record_windows_match_the_definition(layout: dict[int, tuple[list[int], set[str]]], dim: str,
                                              pick: int) -> None:
    part = WindowPartition(grace_ms=120_000, sources=1, raw_partitions=1)
    per_key: dict[int, Contribution] = {}
    for offset, (counts, authors) in layout.items():
        minute = T0 + offset * MINUTE_MS
        if sum(counts) == 0:
            counts = [*counts[:-1], 1]
        c = Contribution(list(counts), {a: 1 for a in sorted(authors)} if dim != "author" else {})
        per_key[minute] = c
        part.load_bucket(dim, "k", minute, MinuteBucket(Contribution.from_wire(c.to_wire())))
    minute = sorted(per_key)[pick % len(per_key)]  # only minutes with a bucket are ever emitted
    record = EngagementRecords(WEIGHTS).record(part, dim, "k", minute, emitted_at_ms=T0)
    expected = reference(per_key, dim, minute)
    for name in WINDOWS:
        got = record["windows"][name]
        want = expected[name]
        assert (got["total"], got["score"], got["velocity"]) == (want["total"], want["score"], want["velocity"]), name
        assert got.get("unique_actors") == want["actors"], name


def test_counts_name_every_kind_in_kind_order() -> None:
    from streams.windows.records import _counts

    plural = {"post": "posts", "comment": "comments", "reply": "replies", "like": "likes", "share": "shares",
              "view": "views", "mention": "mentions", "follow": "follows", "vote": "votes"}
    counts = [10 ** i for i in range(len(KIND_ORDER))]
    named = _counts(counts)
    assert named == {**{plural[k]: n for k, n in zip(KIND_ORDER, counts, strict=True)}, "total": sum(counts)}


single_buckets = st.lists(
    st.tuples(st.sampled_from(["post", "hashtag", "author", "platform"]),
              st.sampled_from(["u1", "u2", 'q"uote', "ünï", "p9", "twitter"]),
              st.integers(min_value=0, max_value=2),  # minute
              st.integers(min_value=0, max_value=2),  # kind index (few kinds: shapes repeat)
              st.integers(min_value=0, max_value=2),  # sentiment column
              st.sampled_from(["twitter", "reddit"]),
              st.integers(min_value=1, max_value=2)),  # revision
    min_size=1, max_size=40)


@settings(max_examples=200, deadline=None)
@given(rows=single_buckets, extra_minute=st.booleans())
def test_record_json_is_the_serialized_record_also_when_a_shape_is_reused(
        rows: list[tuple[str, str, int, int, int, str, int]], extra_minute: bool) -> None:
    part = WindowPartition(grace_ms=120_000, sources=1, raw_partitions=1)
    for dim, key, minute, kind, mood, platform, revision in rows:
        counts = [0] * len(KIND_ORDER)
        counts[kind] = 1
        sentiment = [0, 0, 0]
        sentiment[mood] = 1
        authors = {} if dim == "author" else {"a": 1}
        if dim == "author" and revision == 1:  # one event's bucket, stored compact as the stage stores it
            part.restore_bucket(dim, key, T0 + minute * MINUTE_MS, [[kind, mood, platform], [[0, 0]], 1])
            continue
        c = Contribution(counts, authors, sentiment, {}, {} if dim == "platform" else {platform: 1})
        part.load_bucket(dim, key, T0 + minute * MINUTE_MS, MinuteBucket(c, {}, revision))
    if extra_minute:  # a key with two minutes takes the general path
        dim, key = rows[0][0], rows[0][1]
        part.load_bucket(dim, key, T0 + 5 * MINUTE_MS, MinuteBucket(Contribution([1] + [0] * 8), {}, 1))
    fast, plain = EngagementRecords(WEIGHTS), EngagementRecords(WEIGHTS)
    for emitted_at in (T0, T0, T0 + 1):  # the same emission time reuses shapes; a new one starts afresh
        for (dim, key), per_key in part.buckets.items():
            for minute in per_key:
                expected = orjson.dumps(plain.record(part, dim, key, minute, emitted_at))
                assert fast.record_json(part, dim, key, minute, emitted_at) == expected
