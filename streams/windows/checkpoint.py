"""What a windows checkpoint writes to its changelog topic: everything that changed in one
partition since the last checkpoint, as (key, value) entries; a None value deletes. Pure: the
changelog (`streams/agents/changelog.py`) encodes keys and values as JSON, as Faust's tables wrote
them, and `owned_windows` in the agent reads them back. Keys: "{q}:b\\x1f{dim}\\x1f{key}\\x1f{minute}"
a bucket, "{q}:d\\x1f{rule}\\x1f{dim}\\x1f{key}" a detector state, "{q}:p" the populations, "{q}:c"
the clocks with the newest input offset merged.

A checkpoint is taken in steps (`PartitionCheckpoint`), so that writing it never holds up the
batches behind it for long: at its start, what is small is taken as of that moment (deletes,
detector states, populations, clocks with the input offset: the "closing" entries, written last);
the buckets that changed are written a budget at a time by the batches that follow, each with its
value when written. A bucket written later than the start may hold merges from input after the
start offset: harmless, since every bucket remembers per source the newest pack merged into it and
a replay from the start offset skips what it holds. The clocks go last, so a checkpoint whose
closing entries were read back has all its buckets written.

Compiled with mypyc (native-modules.txt) like the rest of the windows logic; measured offline it is
no faster than interpreted (~5 µs per bucket either way: allocating the encoded records dominates).
"""

from __future__ import annotations

from typing import Any

from streams.windows.alerting import AlertEngine, StateKey
from streams.windows.state import BucketKey, WindowPartition

ChangelogEntry = tuple[str, Any]  # (key, value); a None value deletes the key


def bucket_key(q: int, bk: BucketKey) -> str:
    return f"{q}:b\x1f{bk[0]}\x1f{bk[1]}\x1f{bk[2]}"


def state_key(q: int, sk: StateKey) -> str:
    return f"{q}:d\x1f{sk[0]}\x1f{sk[1]}\x1f{sk[2]}"


class PartitionCheckpoint:
    """One partition's checkpoint as of its start (offset: the newest input offset merged then).
    What changes after the start goes to the next checkpoint."""

    def __init__(self, q: int, part: WindowPartition, engine: AlertEngine, offset: int) -> None:
        self.q = q
        self.part = part
        self._buckets: list[BucketKey] = list(part.changed)
        # Deletes go first: a detector state forgotten and then made again is kept.
        closing: list[ChangelogEntry] = [(bucket_key(q, bk), None) for bk in part.removed]
        closing.extend((state_key(q, sk), None) for sk in engine.removed)
        closing.extend((state_key(q, sk), engine.state_value(sk)) for sk in engine.changed if sk in engine.states)
        if engine.population_changed:
            closing.append((f"{q}:p", engine.population_value()))
            engine.population_changed = False
        closing.append((f"{q}:c", {**part.clock_state(), "offset": offset}))
        self._closing = closing
        part.changed.clear()
        part.removed.clear()
        engine.changed.clear()
        engine.removed.clear()

    @property
    def buckets_left(self) -> int:
        return len(self._buckets)

    def step(self, budget: int | None = None) -> list[ChangelogEntry]:
        """The next `budget` buckets (all that are left if None), with their values now; a bucket
        pruned since the start is left out (the next checkpoint deletes it)."""
        n = len(self._buckets) if budget is None else min(budget, len(self._buckets))
        taken = self._buckets[len(self._buckets) - n:]
        del self._buckets[len(self._buckets) - n:]
        out: list[ChangelogEntry] = []
        q, part = self.q, self.part
        for bk in taken:
            value = part.bucket_value(bk[0], bk[1], bk[2])
            if value is not None:
                out.append((bucket_key(q, bk), value))
        return out

    def closing(self) -> list[ChangelogEntry]:
        """What is written once every bucket is: deletes, detector states, populations and clocks,
        as of the start."""
        return self._closing

