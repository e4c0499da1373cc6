"""Input held until a checkpoint: acked only into the state it was merged into, and only when due."""

from __future__ import annotations

from streams.agents.held_input import HeldInput, release_taken


class Event:
    def __init__(self) -> None:
        self.acked = False

    def ack(self) -> None:
        self.acked = True


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_a_checkpoint_is_due_after_its_interval_and_taking_starts_the_next() -> None:
    clock = Clock()
    held: HeldInput[object] = HeldInput(2.0, clock)
    assert not held.due()
    clock.now += 2.0
    assert held.due()
    release_taken(held.take(), {})
    assert not held.due()


def test_release_acks_what_went_into_a_state_still_owned() -> None:
    state = object()
    held: HeldInput[object] = HeldInput(2.0, Clock())
    events = [Event(), Event()]
    for e in events:
        held.hold(3, state, e)
    assert held
    assert release_taken(held.take(), {3: state}) == 2
    assert all(e.acked for e in events)
    assert not held


def test_events_of_a_partition_revoked_or_rebuilt_meanwhile_are_not_acked() -> None:
    old, rebuilt = object(), object()
    held: HeldInput[object] = HeldInput(2.0, Clock())
    revoked, replaced, kept = Event(), Event(), Event()
    held.hold(1, old, revoked)
    held.hold(2, old, replaced)
    held.hold(4, old, kept)
    held.forget({1})
    assert release_taken(held.take(), {2: rebuilt, 4: old}) == 1
    assert (revoked.acked, replaced.acked, kept.acked) == (False, False, True)


def test_a_partition_rebuilt_between_batches_holds_only_what_went_into_its_new_state() -> None:
    old, rebuilt = object(), object()
    held: HeldInput[object] = HeldInput(2.0, Clock())
    before, after = Event(), Event()
    held.hold(0, old, before)
    held.hold(0, rebuilt, after)
    release_taken(held.take(), {0: rebuilt})
    assert (before.acked, after.acked) == (False, True)


def test_what_is_held_after_a_checkpoint_started_waits_for_the_next_one() -> None:
    state = object()
    held: HeldInput[object] = HeldInput(2.0, Clock())
    covered, later = Event(), Event()
    held.hold(0, state, covered)
    taken = held.take()
    held.hold(0, state, later)  # merged while the checkpoint is being written
    assert release_taken(taken, {0: state}) == 1
    assert (covered.acked, later.acked) == (True, False)
    assert held
