from __future__ import annotations

from schemas.event import CanonicalEvent
from streams.dedupe import DedupeState, PackRecord

HOUR = 3600_000


def ev(i: int, t: int = 0, kind: str = "like", target: str = "p-1") -> CanonicalEvent:
    return CanonicalEvent("x", f"e-{i}", kind, t, "u", target_id="" if kind == "post" else target)


def admit_pack(state: DedupeState, offset: int, events: list[CanonicalEvent]) -> list[str]:
    new = [e.id for e in events if state.admit(e, offset)]
    return new


def test_duplicates_within_and_across_packs_are_dropped() -> None:
    s = DedupeState(24 * HOUR)
    assert admit_pack(s, 10, [ev(1), ev(2), ev(1)]) == ["e-1", "e-2"]
    s.close_batch()
    assert admit_pack(s, 11, [ev(2), ev(3)]) == ["e-3"]
    s.close_batch()
    assert len(s) == 3


def test_redelivered_pack_is_emitted_again_but_later_copies_are_not() -> None:
    s = DedupeState(24 * HOUR)
    admit_pack(s, 10, [ev(1), ev(2)])
    admit_pack(s, 11, [ev(1)])  # a copy in a later pack of the same batch
    records = s.close_batch()
    # The worker died before acking: a fresh state recovers the persisted records...
    r = DedupeState(24 * HOUR)
    for offset, record in records.items():
        r.load(offset, PackRecord.from_json(record.to_json()))
    # ...and the redelivered packs produce exactly what they produced the first time.
    assert admit_pack(r, 10, [ev(1), ev(2), ev(2)]) == ["e-1", "e-2"]
    assert admit_pack(r, 11, [ev(1)]) == []
    r.close_batch()
    assert admit_pack(r, 12, [ev(1), ev(2)]) == []


def test_posts_are_remembered_for_inheritance_and_persisted() -> None:
    s = DedupeState(24 * HOUR)
    post = ev(1, kind="post")
    assert s.admit(post, 5)
    post.hashtags, post.brands = ["launch"], ["acme"]
    s.remember_post(post, 5)
    like = ev(2, target="e-1")
    assert s.inherited(like, 5) == (["launch"], ["acme"])
    assert s.inherited(ev(3, target="unknown"), 5) is None
    assert s.inherited(ev(4, kind="comment", target="e-1"), 5) is None  # comments have their own text
    records = s.close_batch()
    r = DedupeState(24 * HOUR)
    r.load(5, PackRecord.from_json(records[5].to_json()))
    assert r.inherited(like, 6) == (["launch"], ["acme"])


def test_a_redelivered_pack_does_not_inherit_from_a_post_that_came_later() -> None:
    """Pack 4 (a like) then pack 5 (its post) were processed and persisted, then the worker died
    before acking: on redelivery the like must be enriched as the first time (no tags)."""
    s = DedupeState(24 * HOUR)
    like = ev(2, target="e-1")
    assert s.admit(like, 4) and s.inherited(like, 4) is None
    post = ev(1, kind="post")
    assert s.admit(post, 5)
    post.hashtags, post.brands = ["launch"], ["acme"]
    s.remember_post(post, 5)
    records = s.close_batch()
    restarted = DedupeState(24 * HOUR)
    for offset, record in records.items():
        restarted.load(offset, PackRecord.from_json(record.to_json()))
    assert restarted.admit(like, 4)  # re-emitted ...
    assert restarted.inherited(like, 4) is None  # ... with the same enrichment
    assert restarted.inherited(ev(3, target="e-1"), 6) == (["launch"], ["acme"])


def test_within_a_pack_only_a_post_before_the_like_counts_also_on_redelivery() -> None:
    def deliver_pack_7(state: DedupeState) -> dict[int, PackRecord]:
        like, post = ev(2, target="e-1"), ev(1, kind="post")
        assert state.admit(like, 7) and state.inherited(like, 7) is None  # its post comes later in the pack
        assert state.admit(post, 7)
        post.hashtags, post.brands = ["launch"], []
        state.remember_post(post, 7)
        assert state.inherited(ev(3, target="e-1"), 7) == (["launch"], [])  # after the post: inherits
        return state.close_batch()

    records = deliver_pack_7(DedupeState(24 * HOUR))
    restarted = DedupeState(24 * HOUR)
    for offset, record in records.items():
        restarted.load(offset, PackRecord.from_json(record.to_json()))
    deliver_pack_7(restarted)  # the same decisions the second time


def test_horizon_forgets_old_packs_by_event_time() -> None:
    s = DedupeState(2 * HOUR)
    admit_pack(s, 1, [ev(1, t=0)])
    s.close_batch()
    admit_pack(s, 2, [ev(2, t=1 * HOUR)])
    s.close_batch()
    assert s.expire() == []
    admit_pack(s, 3, [ev(3, t=3 * HOUR)])
    s.close_batch()
    assert s.expire() == [1]
    assert admit_pack(s, 4, [ev(1, t=3 * HOUR), ev(2, t=3 * HOUR)]) == ["e-1"]


def test_every_pack_leaves_a_record_so_skipped_packs_are_detected() -> None:
    s = DedupeState(24 * HOUR)
    assert list(s.missing_before(0)) == []
    assert list(s.missing_before(3)) == [0, 1, 2], "nothing recorded yet: packs 0..2 were never processed"
    for offset, events in ((0, [ev(1)]), (1, [ev(1)])):  # pack 1 holds only a duplicate
        assert list(s.missing_before(offset)) == [], "packs opened in this batch count as processed"
        s.open_pack(offset)
        for e in events:
            s.admit(e, offset)
    records = s.close_batch()
    assert set(records) == {0, 1} and records[1].keys == []
    assert list(s.missing_before(2)) == []
    assert list(s.missing_before(5)) == [2, 3, 4]
    r = DedupeState(24 * HOUR)
    for offset, record in records.items():
        r.load(offset, PackRecord.from_json(record.to_json()))
    assert list(r.missing_before(2)) == [] and r.last_offset == 1

