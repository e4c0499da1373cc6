"""What a windows checkpoint writes to its changelog topic: everything that changed in one
partition since the last checkpoint, as (key, value) entries; a None value deletes. Pure: the
changelog (`streams/agents/changelog.py`) encodes keys and values as JSON, as Faust's tables wrote
them, and `owned_windows` in the agent reads them back. Keys: "{q}:b\\x1f{dim}\\x1f{key}\\x1f{minute}"
a bucket, "{q}:d\\x1f{rule}\\x1f{dim}\\x1f{key}" a detector state, "{q}:p" the populations, "{q}:c"
the clocks with the newest input offset merged.

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


def take_checkpoint(q: int, part: WindowPartition, engine: AlertEngine, offset: int) -> list[ChangelogEntry]:
    """The writes for partition q, and forget what they cover (the next checkpoint writes only what
    changes after this one). Deletes go first: a detector state forgotten and then made again is kept."""
    out: list[ChangelogEntry] = [(bucket_key(q, bk), None) for bk in part.removed]
    for bk in part.changed:
        value = part.bucket_value(bk[0], bk[1], bk[2])
        if value is not None:
            out.append((bucket_key(q, bk), value))
    out.extend((state_key(q, sk), None) for sk in engine.removed)
    for sk in engine.changed:
        if sk in engine.states:
            out.append((state_key(q, sk), engine.state_value(sk)))
    if engine.population_changed:
        out.append((f"{q}:p", engine.population_value()))
        engine.population_changed = False
    out.append((f"{q}:c", {**part.clock_state(), "offset": offset}))
    part.changed.clear()
    part.removed.clear()
    engine.changed.clear()
    engine.removed.clear()
    return out
