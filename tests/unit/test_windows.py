from __future__ import annotations

import orjson

from schemas.event import CanonicalEvent
from streams.detect.config import DEFAULT_CONFIG
from streams.windows.alerting import AlertEngine, rule_measures
from streams.windows.contributions import (
    MINUTE_MS,
    Contribution,
    RuleMeasure,
    WireRow,
    contribution_messages,
    is_single_wire,
    pack_rows,
)
from streams.windows.records import EngagementRecords
from streams.windows.state import MinuteBucket, WindowPartition

T0 = 1_795_255_200_000  # a minute boundary
MEASURES = rule_measures(DEFAULT_CONFIG)


def ev(i: int, kind: str = "like", t: int = T0, actor: str = "u1", target: str = "p1", text: str = "",
       hashtags: tuple[str, ...] = (), brands: tuple[str, ...] = (), sentiment: float = 0.0) -> CanonicalEvent:
    e = CanonicalEvent("x", f"e{i}", kind, t, actor, target_id="" if kind == "post" else target, text=text)
    e.hashtags, e.brands, e.sentiment = list(hashtags), list(brands), sentiment
    return e


def pack_contributions(events: list[CanonicalEvent], measures: list[RuleMeasure]) -> list[
        tuple[str, str, int, Contribution]]:
    """The rows as the windows stage sees them: through JSON, as Contributions."""
    return [(d, k, m, Contribution.from_wire(w)) for d, k, m, w in wire(pack_rows(events, measures))]


def wire(rows: list[WireRow]) -> list[WireRow]:
    return [(d, k, m, w) for d, k, m, w in orjson.loads(orjson.dumps(rows))]


def rows_of(events: list[CanonicalEvent]) -> dict[tuple[str, str, int], Contribution]:
    return {(d, k, m): c for d, k, m, c in pack_contributions(events, MEASURES)}


def test_contributions_aggregate_each_dimension_within_the_pack() -> None:
    events = [ev(1, "post", actor="a", target="", text="hi #x", hashtags=("x",), brands=("acme",)),
              ev(2, "like", actor="b", target="e1", hashtags=("x",), brands=("acme",)),
              ev(3, "comment", actor="b", target="e1", text="awful", brands=("acme",), sentiment=-0.6),
              ev(4, "like", t=T0 + MINUTE_MS, actor="c", target="e1")]
    rows = rows_of(events)
    post = rows[("post", "e1", T0)]
    assert post.counts[:3] == [1, 1, 0] and sum(post.counts) == 3 and len(post.authors) == 2
    assert rows[("post", "e1", T0 + MINUTE_MS)].total == 1
    brand = rows[("brand", "acme", T0)]
    assert brand.total == 3 and brand.sentiment == [1, 1, 0] and brand.posts == {"e1": 3}
    assert rows[("hashtag", "x", T0)].total == 2
    assert rows[("author", "b", T0)].total == 2 and rows[("platform", "x", T0)].total == 3
    names = [r.name for r in DEFAULT_CONFIG.rules]
    assert brand.measures[names.index("negative_surge")] == 1.0  # only the negative comment
    assert brand.measures[names.index("volume_spike")] == 2.0  # the post and the comment
    assert post.measures[names.index("viral_post")] == 3.0  # comment (2) + like (1)


def test_every_windows_partition_hears_of_every_pack() -> None:
    packs = [(0, 10, {0: T0}, [ev(1)]), (1, 7, {1: T0 + 5}, [])]
    messages = contribution_messages(packs, MEASURES, 3, lambda key: len(key) % 3)
    for q, entries in messages.items():
        assert [(s, o, c) for s, o, c, _ in entries] == [(0, 10, {"0": T0}), (1, 7, {"1": T0 + 5})], q
    rows = [r for entries in messages.values() for r in entries[0][3]]
    assert {(d, k) for d, k, _, _ in rows} == {("platform", "x"), ("author", "u1"), ("post", "p1")}


def partition(grace_ms: int = 2 * MINUTE_MS, sources: int = 1, raws: int = 1) -> WindowPartition:
    return WindowPartition(grace_ms, sources, raws)


def apply(part: WindowPartition, events: list[CanonicalEvent], offset: int, clock: int, source: int = 0,
          now: int = 0) -> int:
    rows = wire(pack_rows(events, MEASURES))
    return part.apply(source, offset, {0: clock}, rows, now)[1]


def test_a_redelivered_pack_is_merged_once() -> None:
    part = partition()
    apply(part, [ev(1), ev(2)], offset=5, clock=T0)
    apply(part, [ev(1), ev(2)], offset=5, clock=T0)  # redelivery after a crash
    apply(part, [ev(3)], offset=6, clock=T0)
    bucket = part.bucket("post", "p1", T0)
    assert bucket is not None and bucket.data.total == 3


def test_watermark_waits_for_every_source_then_closes_and_drops_only_beyond_grace() -> None:
    part = partition(sources=2)
    apply(part, [ev(1)], 0, clock=T0 + 10 * MINUTE_MS, source=0, now=0)
    assert part.watermark(1_000) == 0  # source 1 not heard from yet
    apply(part, [ev(2)], 0, clock=T0 + 4 * MINUTE_MS, source=1, now=1_000)
    assert part.watermark(1_000) == T0 + 4 * MINUTE_MS  # the slower source holds it back
    assert part.close(1_000) == [T0]
    assert set(part.take_emissions()) == {("author", "u1", T0), ("platform", "x", T0), ("post", "p1", T0)}
    # Within the grace period: merged, and the closed minute is emitted again as a revision.
    assert apply(part, [ev(3, t=T0 + 3 * MINUTE_MS)], 1, clock=T0 + 4 * MINUTE_MS, source=1, now=2_000) == 0
    # Beyond it (minute T0 is final once the watermark passed T0 + 1 min + grace): counted as late.
    assert apply(part, [ev(4, t=T0)], 2, clock=T0 + 4 * MINUTE_MS, source=1, now=3_000) == 3
    bucket = part.bucket("post", "p1", T0)
    assert bucket is not None and bucket.data.total == 2 and bucket.revision == 2  # two packs merged
    # A source silent for longer than the idle time stops holding the watermark back.
    later = 3_000 + part.idle_ms + 1
    apply(part, [], 1, clock=T0 + 10 * MINUTE_MS, source=0, now=later)
    assert part.watermark(later) == T0 + 10 * MINUTE_MS


def test_a_late_merge_re_emits_the_minute_with_a_higher_revision_and_emitting_writes_no_state() -> None:
    part = partition()
    apply(part, [ev(1)], 0, clock=T0 + 2 * MINUTE_MS)
    part.changed.clear()  # persisted
    part.close(1_000)
    assert ("post", "p1", T0) in part.take_emissions()
    assert not part.changed  # the emission itself changed nothing to persist
    first = part.bucket("post", "p1", T0)
    assert first is not None
    emitted = first.revision
    apply(part, [ev(2)], 1, clock=T0 + 2 * MINUTE_MS)  # late, within the grace period
    assert ("post", "p1", T0) in part.changed and ("post", "p1", T0) in part.take_emissions()
    assert first.revision > emitted and first.data.total == 2


def test_engagement_record_sums_sliding_windows_and_velocity() -> None:
    part = partition()
    records = EngagementRecords({"like": 1.0, "share": 5.0})
    apply(part, [ev(1)], 0, clock=T0)
    apply(part, [ev(2, "share", t=T0 + MINUTE_MS), ev(3, t=T0 + MINUTE_MS, actor="u2")], 1, clock=T0 + MINUTE_MS)
    r = records.record(part, "post", "p1", T0 + MINUTE_MS, emitted_at_ms=T0)
    assert r["counts"]["total"] == 2 and r["score"] == 6.0 and r["velocity"] == 5.0
    assert r["windows"]["5m"]["total"] == 3 and r["windows"]["5m"]["score"] == 7.0
    assert r["windows"]["5m"]["velocity"] == 6.0 and r["windows"]["5m"]["unique_actors"] == 2
    assert r["windows"]["1h"]["start"] == "2026-11-21T09:02:00.000Z"


def test_bucket_and_clock_survive_a_restart() -> None:
    part = partition()
    apply(part, [ev(1)], 3, clock=T0 + 9 * MINUTE_MS)
    bucket = part.bucket("post", "p1", T0)
    assert bucket is not None
    restored = partition()
    value = part.bucket_value("post", "p1", T0)
    assert value is not None
    restored.restore_bucket("post", "p1", T0, orjson.loads(orjson.dumps(value)))
    restored.load_clock(orjson.loads(orjson.dumps(part.clock_state())), now_ms=0)
    apply(restored, [ev(1)], 3, clock=T0)  # the pack again: skipped
    again = restored.bucket("post", "p1", T0)
    assert again is not None and again.data.total == 1 and restored.watermark(0) == T0 + 9 * MINUTE_MS


def test_alert_engine_opens_on_a_partial_minute_and_resolves_once_it_calms() -> None:
    engine = AlertEngine(DEFAULT_CONFIG)
    names = [r.name for r in DEFAULT_CONFIG.rules]
    volume = names.index("volume_spike")

    def measures(n: float) -> list[float]:
        m = [0.0] * len(names)
        m[volume] = n
        return m

    minute = T0
    for _ in range(120):  # two hours of a steady ~5 mentions a minute
        engine.closed_before = minute
        assert engine.on_closed("brand", "acme", minute, measures(5), now_ms=0) == []
        minute += MINUTE_MS
    engine.closed_before = minute
    opened = engine.on_partial("brand", "acme", minute, measures(80), now_ms=1)
    assert [t.status for _, _, _, t in opened] == ["opened"]
    alert_id = opened[0][3].alert_id
    assert engine.on_partial("brand", "acme", minute, measures(85), now_ms=2) == []  # one alert, not a storm
    changes = []
    for i in range(30):
        engine.closed_before = minute + MINUTE_MS
        changes += engine.on_closed("brand", "acme", minute, measures(90 if i == 0 else 5), now_ms=3)
        minute += MINUTE_MS
    assert [t.status for _, _, _, t in changes][-1] == "resolved"
    assert {t.alert_id for _, _, _, t in changes} == {alert_id}


def test_wire_form_drops_trailing_empty_fields_and_decodes_to_the_same_contribution() -> None:
    rows = rows_of([ev(1, "comment", actor="a", text="nice", hashtags=("x",))])
    author, hashtag = rows[("author", "a", T0)], rows[("hashtag", "x", T0)]
    assert len(author.to_wire()) == 5 and author.samples == [] and author.measures == []  # no rule watches authors
    for c in (author, hashtag):
        assert Contribution.from_wire(orjson.loads(orjson.dumps(c.to_wire()))) == c
    assert hashtag.samples == ["nice"] and len(hashtag.measures) == len(MEASURES)


def test_an_authors_single_event_goes_out_compact_and_merges_as_the_full_row_would() -> None:
    events = [ev(1, "comment", actor="a", text="awful", sentiment=-0.7), ev(2, "like", actor="b"),
              ev(3, "share", actor="b", text="love it", sentiment=0.8)]
    rows = {(d, k): w for d, k, _, w in wire(pack_rows(events, MEASURES))}
    assert is_single_wire(rows[("author", "a")]) and rows[("author", "a")] == [1, 0, "x"]
    assert not is_single_wire(rows[("author", "b")])  # two events: the full row
    assert not is_single_wire(rows[("platform", "x")]) and not is_single_wire(rows[("post", "p1")])
    assert Contribution.from_wire(rows[("author", "a")]) == Contribution.from_wire(
        [[0, 1, 0, 0, 0, 0, 0, 0, 0], {}, [1, 0, 0], {}, {"x": 1}])
    # The same events one per pack (compact rows, merged with add_single) or all in one pack.
    one_pack, per_event = partition(), partition()
    apply(one_pack, events, offset=0, clock=T0)
    for i, e in enumerate(events):
        apply(per_event, [e], offset=i, clock=T0)
    for actor in ("a", "b"):
        merged, whole = per_event.bucket("author", actor, T0), one_pack.bucket("author", actor, T0)
        assert merged is not None and whole is not None and merged.data == whole.data
    b = per_event.bucket("author", "b", T0)
    assert b is not None and b.data.counts[3:5] == [1, 1] and b.data.sentiment == [0, 0, 1]
    assert b.data.platforms == {"x": 2} and b.data.to_wire() == whole.data.to_wire()


def test_a_single_events_bucket_is_stored_compact_until_a_second_event_merges() -> None:
    part = partition(sources=2)
    apply(part, [ev(1, "comment", actor="a", text="awful", sentiment=-0.7)], offset=5, clock=T0)
    stored = part.buckets[("author", "a")][T0]
    assert isinstance(stored, int)  # one int, not a MinuteBucket and its Contribution
    one = part.bucket("author", "a", T0)
    assert one is not None and one.applied == {0: 5} and one.revision == 1
    assert one.data == Contribution.from_wire([1, 0, "x"])
    apply(part, [ev(1, "comment", actor="a", text="awful", sentiment=-0.7)], offset=5, clock=T0)  # redelivered
    apply(part, [ev(9, "like", actor="a")], offset=4, clock=T0, source=1)  # another source's pack
    both = part.buckets[("author", "a")][T0]
    assert isinstance(both, MinuteBucket) and both.applied == {0: 5, 1: 4} and both.revision == 2
    assert both.data.counts[1] == 1 and both.data.counts[3] == 1 and both.data.sentiment == [1, 0, 0]
    apply(part, [ev(9, "like", actor="a")], offset=4, clock=T0, source=1)  # redelivered, now full
    assert part.bucket("author", "a", T0) == both and both.data.total == 2


def test_compact_buckets_round_trip_through_the_changelog_with_any_platform_source_and_offset() -> None:
    part = partition(sources=70_000)
    cases = [("a", "x", 0, 0), ("b", "reddit", 65_535, 2**40 + 3), ("c", "ünï", 7, 2**62), ("d", "x", 65_536, 9)]
    for actor, platform, source, offset in cases:
        e = ev(1, "share", actor=actor, text="yes", sentiment=0.9)
        e.platform = platform
        part.apply(source, offset, {0: T0}, wire(pack_rows([e], MEASURES)), 0)
    assert all(isinstance(part.buckets[("author", a)][T0], int) for a in "abc")
    assert isinstance(part.buckets[("author", "d")][T0], MinuteBucket)  # a source beyond the packing: full
    restored = partition(sources=70_000)
    for dim, key, minute, value in part.stored_buckets():
        restored.restore_bucket(dim, key, minute, orjson.loads(orjson.dumps(value)))
    for actor, platform, source, offset in cases:
        before, after = part.bucket("author", actor, T0), restored.bucket("author", actor, T0)
        assert before is not None and after == before and after.applied == {source: offset}
        assert after.data.platforms == {platform: 1} and after.data.counts[4] == 1 and after.data.sentiment == [0, 0, 1]
    assert isinstance(restored.buckets[("author", "c")][T0], int)
    # What earlier versions wrote for a single event (the full form) reads back as the same bucket.
    full = [[0, 1, 0, 0, 0, 0, 0, 0, 0], {}, [0, 0, 0], {}, {"x": 1}]
    restored.restore_bucket("author", "z", T0, [full, [[0, 3]], 1])
    z = restored.bucket("author", "z", T0)
    assert z is not None and z.data == Contribution.from_wire([1, -1, "x"]) and z.applied == {0: 3}


def test_compact_rows_are_only_for_dimensions_no_rule_watches() -> None:
    watching_authors = [RuleMeasure(frozenset({"author"}), {"like": 1.0})]
    rows = {d: w for d, _, _, w in wire(pack_rows([ev(1)], watching_authors))}
    assert not is_single_wire(rows["author"]) and rows["author"][6] == [1.0]


def test_a_late_compact_row_counts_as_one_late_event() -> None:
    part = partition()
    apply(part, [ev(1)], 0, clock=T0 + 10 * MINUTE_MS)
    assert apply(part, [ev(2, actor="late")], 1, clock=T0 + 10 * MINUTE_MS) == 3  # platform, author, post


def test_merging_packs_into_a_bucket_adds_every_field() -> None:
    part = partition()
    apply(part, [ev(1, "post", actor="a", target="", text="one #x", hashtags=("x",))], offset=1, clock=T0)
    apply(part, [ev(2, "post", actor="b", target="", text="two #x", hashtags=("x",), sentiment=-0.5),
                 ev(3, "like", actor="a", target="e1", hashtags=("x",))], offset=2, clock=T0)
    bucket = part.bucket("hashtag", "x", T0)
    assert bucket is not None
    data = bucket.data
    assert data.counts[:4] == [2, 0, 0, 1] and data.total == 3
    assert data.authors == {"a": 2, "b": 1} and data.posts == {"e1": 2, "e2": 1}
    assert data.sentiment == [1, 1, 0] and data.samples == ["one #x", "two #x"]
    assert data.measures[[r.name for r in DEFAULT_CONFIG.rules].index("volume_spike")] == 2.0


def test_packs_sent_twice_by_two_owners_in_any_interleaving_merge_once() -> None:
    # After a rebalance the old owner of a keyed partition may still send rows for packs the new
    # owner sends again, cut into other slices. Rows are per pack, so any interleaving is exact
    # (why the store does not aggregate contributions across packs: a group cut differently by
    # the other owner would be merged twice or partly lost).
    packs = [(i, [ev(i, actor=f"a{i}")]) for i in range(6)]
    old_owner = [packs[:4]]
    new_owner = [packs[:2], packs[2:]]
    for order in ([*old_owner, *new_owner], [new_owner[0], old_owner[0], new_owner[1]], [*new_owner, *old_owner]):
        part = partition()
        for slice_ in order:
            for offset, evs in slice_:
                part.apply(0, offset, {0: T0}, wire(pack_rows(evs, MEASURES)), 0)
        bucket = part.bucket("post", "p1", T0)
        assert bucket is not None and bucket.data.total == 6, order


def test_rows_of_untracked_dimensions_share_empty_fields_that_stay_empty() -> None:
    from streams.windows import contributions

    events = [ev(i, kind, actor=f"a{i % 3}", text="great #x" if kind == "comment" else "", hashtags=("x",),
                 brands=("acme",)) for i, kind in enumerate(["post", "comment", "like", "share", "comment"] * 4)]
    rows = pack_rows(events, MEASURES)
    assert contributions._NO_MAP == {} and contributions._NO_LIST == []
    by_dim = {d: w for d, _, _, w in rows}
    assert by_dim["author"][1] is contributions._NO_MAP and by_dim["hashtag"][1] is not contributions._NO_MAP
    assert sum(by_dim["platform"][0]) == len(events) and len(by_dim["platform"]) == 3


def test_viral_post_is_judged_against_the_population_of_posts_it_closes_with() -> None:
    # The same 600-weighted minute on a post with a quiet history: ordinary where posts commonly
    # reach 150 a minute (floor 6 x 150), an alert where they reach 20.
    import dataclasses

    from streams.detect.config import DetectorConfig

    rules = tuple(dataclasses.replace(r, population_min_count=50.0) if r.name == "viral_post" else r
                  for r in DEFAULT_CONFIG.rules)
    viral = [r.name for r in rules].index("viral_post")

    def statuses(typical: float) -> list[str]:
        engine = AlertEngine(DetectorConfig(rules))
        m = [0.0] * len(rules)
        minute = T0
        for _ in range(10):  # 10 closed minutes of 40 ordinary posts, and the watched one at 40
            engine.closed_before = minute + MINUTE_MS
            for k in range(40):
                m[viral] = typical
                engine.on_closed("post", f"p{k}", minute, list(m), now_ms=0)
            m[viral] = 40.0
            engine.on_closed("post", "watched", minute, list(m), now_ms=0)
            engine.close_population(minute + MINUTE_MS)
            minute += MINUTE_MS
        engine.closed_before = minute
        m[viral] = 600.0
        return [t.status for _, _, _, t in engine.on_partial("post", "watched", minute, list(m), now_ms=1)]

    assert statuses(typical=20.0) == ["opened"]
    assert statuses(typical=150.0) == []


def test_the_population_survives_a_restart_through_its_changelog_form() -> None:
    engine = AlertEngine(DEFAULT_CONFIG)
    viral = [r.name for r in DEFAULT_CONFIG.rules].index("viral_post")
    m = [0.0] * len(DEFAULT_CONFIG.rules)
    for k in range(2000):
        m[viral] = float(10 + k % 50)
        engine.on_closed("post", f"p{k}", T0, list(m), now_ms=0)
    engine.close_population(T0 + MINUTE_MS)
    restored = AlertEngine(DEFAULT_CONFIG)
    restored.load_population(orjson.loads(orjson.dumps(engine.population_value())))
    assert restored.population_through == T0 + MINUTE_MS
    assert restored._population == engine._population and engine._population[viral] is not None


def many_authors(n: int, t: int, first: int = 0) -> list[CanonicalEvent]:
    return [ev(first + i, t=t, actor=f"a{i}") for i in range(n)]


def test_a_closed_minute_is_emitted_over_several_batches_within_the_budget() -> None:
    part = partition()
    apply(part, many_authors(10, T0), 0, clock=T0 + 2 * MINUTE_MS)
    part.close(1_000)
    keys_of_minute = {("author", f"a{i}", T0) for i in range(10)} | {("platform", "x", T0), ("post", "p1", T0)}
    first = part.take_emissions(budget=5)
    assert len(first) == 5 and part.emissions_pending
    rest = part.take_emissions(budget=5) + part.take_emissions(budget=5)
    assert set(first) | set(rest) == keys_of_minute and len(first) + len(rest) == 12
    assert not part.emissions_pending and part.take_emissions(budget=5) == []


def test_an_older_closed_minute_goes_out_whole_once_a_newer_one_closes() -> None:
    part = partition()
    apply(part, many_authors(10, T0), 0, clock=T0 + MINUTE_MS)
    part.close(1_000)  # minute T0 closes: 12 keys
    assert len(part.take_emissions(budget=2)) == 2
    apply(part, many_authors(10, T0 + MINUTE_MS, first=100), 1, clock=T0 + 2 * MINUTE_MS)
    part.close(2_000)  # minute T0 + 1 closes while 10 keys of T0 wait
    taken = part.take_emissions(budget=2)
    assert [bk[2] for bk in taken] == [T0] * 10  # over the budget, and none of the newer minute yet
    assert [bk[2] for bk in part.take_emissions(budget=2)] == [T0 + MINUTE_MS] * 2


def test_a_minute_being_emitted_is_emitted_again_whole_after_a_restart_and_never_pruned() -> None:
    part = partition()
    apply(part, many_authors(10, T0), 0, clock=T0 + 2 * MINUTE_MS)
    part.close(1_000)
    part.take_emissions(budget=4)
    restored = partition()
    for dim, key, minute, value in part.stored_buckets():
        restored.restore_bucket(dim, key, minute, orjson.loads(orjson.dumps(value)))
    restored.load_clock(orjson.loads(orjson.dumps(part.clock_state())), now_ms=0)
    assert restored.emissions_pending
    # The watermark jumps far ahead: older buckets are pruned, but not those still to be emitted.
    restored.closed_before = T0 + 3 * 60 * MINUTE_MS
    restored.prune()
    assert len(restored.take_emissions(budget=100)) == 12  # at least once: all of it again
    restored.prune()
    assert restored.bucket("post", "p1", T0) is None


def test_old_minutes_are_pruned_oldest_first_within_the_budget() -> None:
    part = partition()
    for i in range(3):  # minutes T0, T0+1, T0+2: 10 authors, a post and a platform each
        apply(part, many_authors(10, T0 + i * MINUTE_MS, first=100 * i), i, clock=T0 + (i + 1) * MINUTE_MS)
    part.close(1_000)
    while part.emissions_pending:
        part.take_emissions()
    per_minute = {m: len(keys) for m, keys in part.by_minute.items()}
    assert per_minute == {T0: 12, T0 + MINUTE_MS: 12, T0 + 2 * MINUTE_MS: 12}
    part.changed.clear()
    assert part.prunable() == 0
    part.closed_before = T0 + 3 * 60 * MINUTE_MS  # all three left the longest window
    assert part.prunable() == 36
    assert part.prune(budget=5) == 5 and part.prunable() == 31
    assert {bk[2] for bk in part.removed} == {T0} and len(part.by_minute[T0]) == 7
    assert part.prune(budget=10) == 10  # the rest of T0, then the oldest of the next
    assert T0 not in part.by_minute and len(part.by_minute[T0 + MINUTE_MS]) == 9
    assert part.prune(budget=100) == 21 and part.prune(budget=100) == 0
    assert not part.buckets and not part.by_minute and len(part.removed) == 36


def test_a_minute_closing_after_a_restart_joins_the_recovered_ones_without_double_counting() -> None:
    part = partition()
    apply(part, many_authors(10, T0), 0, clock=T0 + MINUTE_MS)
    part.close(1_000)
    part.take_emissions(budget=4)  # 8 keys of T0 still to go when the worker dies
    apply(part, many_authors(10, T0 + MINUTE_MS, first=100), 1, clock=T0 + MINUTE_MS)
    restored = partition()
    for dim, key, minute, value in part.stored_buckets():
        restored.restore_bucket(dim, key, minute, orjson.loads(orjson.dumps(value)))
    restored.load_clock(orjson.loads(orjson.dumps(part.clock_state())), now_ms=0)
    # The batch after the restart closes T0 + 1 before it emits anything (as the windows agent does).
    apply(restored, [], 2, clock=T0 + 2 * MINUTE_MS)
    assert restored.close(2_000) == [T0 + MINUTE_MS]
    taken = restored.take_emissions(budget=100) + restored.take_emissions(budget=100)
    assert sorted(bk[2] for bk in taken) == [T0] * 12 + [T0 + MINUTE_MS] * 12
    assert not restored.emissions_pending


def test_a_partition_that_closes_its_minutes_a_batch_later_learns_and_alerts_the_same() -> None:
    from streams.windows.alerting import assess

    def run(defer_every_close: bool) -> tuple[AlertEngine, WindowPartition, list[str]]:
        part, engine = partition(), AlertEngine(DEFAULT_CONFIG)
        statuses: list[str] = []
        for m in range(40):  # a hashtag at ~6 posts a minute, then a burst of 400
            t = T0 + m * MINUTE_MS
            events = [ev(m * 1000 + i, "post", t + i, actor=f"u{i}", hashtags=("launch",))
                      for i in range(400 if m == 35 else 6)]
            apply(part, events, m, t + 30_000, now=t + 30_000)
            now = t + 30_000
            closable, before = part.closable(now), part.closed_before
            changes = assess(part, engine, [("hashtag", "launch", t)], now, close=not defer_every_close)
            if defer_every_close:
                assert part.closed_before == before  # nothing closed: as if the watermark were later
                changes += assess(part, engine, [], now + 100, close=closable)
                assert (part.closed_before > before) == closable
            statuses += [tr.status for _, _, _, tr in changes]
        return engine, part, statuses

    at_once, part_a, statuses_a = run(False)
    deferred, part_b, statuses_b = run(True)
    assert "opened" in statuses_a
    assert statuses_b == statuses_a
    assert part_b.closed_before == part_a.closed_before
    assert ({sk: s.to_list() for sk, s in deferred.states.items()}
            == {sk: s.to_list() for sk, s in at_once.states.items()})
