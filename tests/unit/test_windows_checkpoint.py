"""What a windows checkpoint writes: everything changed since the last one, once, in an order
whose fold (what recovery reads back) is the state at the checkpoint."""

from __future__ import annotations

from typing import Any

import orjson

from streams.agents.changelog import latest_values
from streams.agents.windows import owned_windows
from streams.detect.config import load_detector_config
from streams.detect.state import KeyState
from streams.settings import Settings
from streams.windows.alerting import AlertEngine
from streams.windows.checkpoint import ChangelogEntry, PartitionCheckpoint
from streams.windows.state import WindowPartition

MINUTE = 60_000
T0 = 1_795_255_200_000


def take_checkpoint(q: int, part: WindowPartition, engine: AlertEngine, offset: int) -> list[ChangelogEntry]:
    """A whole checkpoint at once, as the windows stage writes it when idle: every bucket, then the
    closing entries."""
    checkpoint = PartitionCheckpoint(q, part, engine, offset)
    return checkpoint.step() + checkpoint.closing()


class RecordingChangelog:
    """The writes checkpoints make, as (key, value) bytes like the changelog topic holds them."""

    def __init__(self) -> None:
        self.writes: list[tuple[bytes, bytes | None]] = []

    def checkpoint(self, q: int, part: WindowPartition, engine: AlertEngine, offset: int) -> None:
        for key, value in take_checkpoint(q, part, engine, offset):
            self.writes.append((orjson.dumps(key), None if value is None else orjson.dumps(value)))


def author_row(actor: str, minute: int) -> list[Any]:
    return ["author", actor, minute, [[1, 0, 0, 0, 0, 0, 0, 0, 0], {}, [0, 1, 0], {}, {"x": 1}]]


def recovered(writes: list[tuple[bytes, bytes | None]]) -> dict[str, Any]:
    folded: dict[bytes, bytes] = {}
    latest_values(writes, folded)
    return {orjson.loads(k).split(":", 1)[1]: orjson.loads(v) for k, v in folded.items()}


def test_a_bucket_changed_by_many_batches_is_written_once_per_checkpoint_with_its_last_counts() -> None:
    part = WindowPartition(120_000, 1, 1)
    engine = AlertEngine(load_detector_config(None))
    changelog = RecordingChangelog()
    for offset in range(5):  # five batches between two checkpoints, each adding to the same bucket
        part.apply(0, offset, {0: T0 + 1000}, [author_row("a1", T0)], T0 + 2000)
    changelog.checkpoint(0, part, engine, 4)
    bucket_writes = [k for k, _ in changelog.writes if b"\\u001fauthor\\u001fa1" in k]
    assert len(bucket_writes) == 1
    rebuilt = owned_windows(Settings(topic_partitions=1), engine.config, recovered(changelog.writes), T0 + 2000)
    bucket = rebuilt.part.bucket("author", "a1", T0)
    assert bucket is not None and bucket.data.counts[0] == 5
    assert rebuilt.last_offset == 4


def test_a_detector_state_forgotten_and_made_again_before_a_checkpoint_is_kept() -> None:
    engine = AlertEngine(load_detector_config(None))
    part = WindowPartition(120_000, 1, 1)
    sk = (0, "hashtag", "launch")
    engine.states[sk] = KeyState(T0)
    engine.last_seen[sk] = T0
    engine.changed.add(sk)
    changelog = RecordingChangelog()
    changelog.checkpoint(0, part, engine, 0)
    # Between two checkpoints: idle long enough to be forgotten, then seen again.
    engine.forget_idle(T0 + 30 * 24 * 60 * MINUTE)
    assert sk in engine.removed and sk not in engine.states
    engine.states[sk] = KeyState(T0 + 30 * 24 * 60 * MINUTE)
    engine.last_seen[sk] = T0 + 30 * 24 * 60 * MINUTE
    engine.changed.add(sk)
    changelog.checkpoint(0, part, engine, 1)
    state_key = "d\x1f0\x1fhashtag\x1flaunch"
    assert state_key in recovered(changelog.writes)


def test_a_checkpoint_deletes_what_was_pruned_and_writes_nothing_twice() -> None:
    part = WindowPartition(120_000, 1, 1)
    engine = AlertEngine(load_detector_config(None))
    changelog = RecordingChangelog()
    part.apply(0, 0, {0: T0 + 1000}, [author_row("old", T0)], T0 + 2000)
    changelog.checkpoint(0, part, engine, 0)
    assert "b\x1fauthor\x1fold\x1f" + str(T0) in recovered(changelog.writes)
    # Two hours later the old bucket has left the longest window.
    later = T0 + 120 * MINUTE
    part.apply(0, 1, {0: later + 1000}, [author_row("new", later)], later + 2000)
    part.close(later + 2000)
    while part.emissions_pending:  # a minute still being emitted is never pruned
        part.take_emissions()
    assert part.prune() == 1
    changelog.writes.clear()
    changelog.checkpoint(0, part, engine, 1)
    keys = [orjson.loads(k) for k, _ in changelog.writes]
    assert len(keys) == len(set(keys))
    assert (orjson.dumps(f"0:b\x1fauthor\x1fold\x1f{T0}"), None) in changelog.writes
    assert f"0:b\x1fauthor\x1fnew\x1f{later}" in keys
    changelog.writes.clear()
    changelog.checkpoint(0, part, engine, 2)  # nothing changed since: only the clocks
    assert [orjson.loads(k) for k, _ in changelog.writes] == ["0:c"]


def test_buckets_changed_while_a_checkpoint_is_written_in_steps_recover_exactly_after_a_replay() -> None:
    settings = Settings(topic_partitions=1)
    part = WindowPartition(120_000, 1, 1)
    engine = AlertEngine(load_detector_config(None))
    actors = [f"a{i}" for i in range(6)]
    # Input offset n carries source pack n: every pack adds one event to every actor's bucket.
    packs = {n: [author_row(a, T0) for a in actors] for n in range(10)}
    for n in range(5):
        part.apply(0, n, {0: T0 + 1000}, packs[n], T0 + 2000)
    changelog = RecordingChangelog()
    checkpoint = PartitionCheckpoint(0, part, engine, 4)  # starts after input offset 4
    for n in (5, 6):  # merged between the steps: some buckets are written with them, some without
        for key, value in checkpoint.step(2):
            changelog.writes.append((orjson.dumps(key), orjson.dumps(value)))
        part.apply(0, n, {0: T0 + 1000}, packs[n], T0 + 2000)
    assert checkpoint.buckets_left == 2
    for key, value in checkpoint.step() + checkpoint.closing():
        changelog.writes.append((orjson.dumps(key), None if value is None else orjson.dumps(value)))
    assert orjson.loads(changelog.writes[-1][0]) == "0:c"  # the clocks last

    # A crash now: recovery reads the checkpoint and replays the input after its offset.
    rebuilt = owned_windows(settings, engine.config, recovered(changelog.writes), T0 + 2000)
    assert rebuilt.last_offset == 4
    for n in (5, 6):
        rebuilt.part.apply(0, n, {0: T0 + 1000}, packs[n], T0 + 2000)
    for a in actors:
        bucket = rebuilt.part.bucket("author", a, T0)
        assert bucket is not None and bucket.data.counts[0] == 7, a
    # What changed after the start is the next checkpoint's.
    assert {bk[1] for bk in part.changed} == set(actors)


def test_a_bucket_pruned_while_its_checkpoint_is_written_is_left_to_the_next_one_to_delete() -> None:
    part = WindowPartition(120_000, 1, 1)
    engine = AlertEngine(load_detector_config(None))
    part.apply(0, 0, {0: T0 + 1000}, [author_row("old", T0)], T0 + 2000)
    checkpoint = PartitionCheckpoint(0, part, engine, 0)
    later = T0 + 120 * MINUTE
    part.apply(0, 1, {0: later + 1000}, [author_row("new", later)], later + 2000)
    part.close(later + 2000)
    while part.emissions_pending:
        part.take_emissions()
    assert part.prune() == 1
    assert checkpoint.step() == []
    assert ("author", "old", T0) in part.removed
    assert (f"0:b\x1fauthor\x1fold\x1f{T0}", None) in take_checkpoint(0, part, engine, 1)
