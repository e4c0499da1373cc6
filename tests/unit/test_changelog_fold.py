"""Folding a changelog partition into its current entries (the pure part of state recovery)."""

from __future__ import annotations

from streams.agents.changelog import latest_values


def test_the_last_write_of_a_key_wins_and_a_tombstone_removes_it() -> None:
    state: dict[bytes, bytes] = {}
    latest_values([(b"a", b"1"), (b"b", b"1"), (b"a", b"2"), (b"b", None), (None, b"ignored")], state)
    assert state == {b"a": b"2"}


def test_a_key_written_again_after_its_tombstone_is_back() -> None:
    state: dict[bytes, bytes] = {b"a": b"1"}
    latest_values([(b"a", None)], state)
    latest_values([(b"a", b"3")], state)
    assert state == {b"a": b"3"}
