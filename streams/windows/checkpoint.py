"""What a windows checkpoint writes to its changelog topic: everything that changed in one
partition since the last checkpoint, as encoded (partition, key, value) records; a None value
deletes. Pure; compiled with mypyc (native-modules.txt): interpreted, the writes cost ~5 µs per
bucket against ~1 µs for encoding the key and value alone, and a checkpoint in the live phase
writes tens of thousands of buckets in one go while alerts wait behind it.

Keys and values are JSON, as Faust's tables wrote them (`owned_windows` in the agent reads them
back): "{q}:b\\x1f{dim}\\x1f{key}\\x1f{minute}" a bucket, "{q}:d\\x1f{rule}\\x1f{dim}\\x1f{key}" a
detector state, "{q}:p" the populations, "{q}:c" the clocks with the newest input offset merged.
"""

from __future__ import annotations

import orjson

from streams.windows.alerting import AlertEngine, StateKey
from streams.windows.state import BucketKey, WindowPartition

ChangelogRecord = tuple[int, bytes, bytes | None]


def bucket_key(q: int, bk: BucketKey) -> str:
    return f"{q}:b\x1f{bk[0]}\x1f{bk[1]}\x1f{bk[2]}"


def state_key(q: int, sk: StateKey) -> str:
    return f"{q}:d\x1f{sk[0]}\x1f{sk[1]}\x1f{sk[2]}"


def take_checkpoint(q: int, part: WindowPartition, engine: AlertEngine, offset: int) -> list[ChangelogRecord]:
    """The writes for partition q, and forget what they cover (the next checkpoint writes only what
    changes after this one). Deletes go first: a detector state forgotten and then made again is kept."""
    dumps = orjson.dumps
    out: list[ChangelogRecord] = []
    for bk in part.removed:
        out.append((q, dumps(bucket_key(q, bk)), None))
    buckets = part.buckets
    for bk in part.changed:
        per_key = buckets.get((bk[0], bk[1]))
        bucket = per_key.get(bk[2]) if per_key is not None else None
        if bucket is not None:
            out.append((q, dumps(bucket_key(q, bk)), dumps(bucket.to_list())))
    for sk in engine.removed:
        out.append((q, dumps(state_key(q, sk)), None))
    for sk in engine.changed:
        if sk in engine.states:
            out.append((q, dumps(state_key(q, sk)), dumps(engine.state_value(sk))))
    if engine.population_changed:
        out.append((q, dumps(f"{q}:p"), dumps(engine.population_value())))
        engine.population_changed = False
    out.append((q, dumps(f"{q}:c"), dumps({**part.clock_state(), "offset": offset})))
    part.changed.clear()
    part.removed.clear()
    engine.changed.clear()
    engine.removed.clear()
    return out
