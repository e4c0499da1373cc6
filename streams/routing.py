"""Routing valid events to the partition that owns them.

Senders do not key their messages, so copies of one event can arrive on any `social.raw`
partition. The router re-partitions by a stable hash of the event's route key (its post:
see `CanonicalEvent.route_key`), and packs all events of
one input batch that go to the same partition into one message: downstream stages then pay the
per-message cost of Kafka and Faust once per pack, not once per event.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterable

import orjson

from schemas.event import CanonicalEvent


def partition_for_key(key: str, partitions: int) -> int:
    """Stable across processes and restarts (unlike Python's salted `hash`)."""
    return partition_for_bytes(key.encode("utf-8"), partitions)


def partition_for_bytes(key: bytes, partitions: int) -> int:
    """`partition_for_key` for a key already encoded (as a Kafka message key is)."""
    return zlib.crc32(key) % partitions


def pack_by_partition(events: Iterable[CanonicalEvent], partitions: int) -> dict[int, bytes]:
    """Group events by owning partition; each group becomes one message value (a JSON array)."""
    groups: dict[int, list[list[object]]] = {}
    for event in events:
        groups.setdefault(partition_for_key(event.route_key, partitions), []).append(event.to_wire())
    return {p: orjson.dumps(items) for p, items in groups.items()}


def unpack(value: bytes) -> list[CanonicalEvent]:
    return [CanonicalEvent.from_wire(d) for d in orjson.loads(value)]
