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


EventClocks = dict[int, int]  # raw partition -> newest event time (epoch ms) the router has read from it


def pack_by_partition(events: Iterable[CanonicalEvent], partitions: int,
                      clocks: EventClocks | None = None) -> dict[int, bytes]:
    """Group events by owning partition; each group becomes one message value.

    Every pack also carries the router's event-time clock per raw partition: the windows stage
    takes its watermark from them, so a raw partition read behind the others (a backlog, a
    restarted router) holds the watermark back instead of having its events declared late.
    """
    groups: dict[int, list[list[object]]] = {}
    for event in events:
        groups.setdefault(partition_for_key(event.route_key, partitions), []).append(event.to_wire())
    header = {str(r): ms for r, ms in (clocks or {}).items()}
    return {p: orjson.dumps([header, items]) for p, items in groups.items()}


def unpack(value: bytes) -> tuple[EventClocks, list[CanonicalEvent]]:
    data = orjson.loads(value)
    if data and isinstance(data[0], dict):
        header, items = data
    else:  # a pack written before packs carried clocks (an upgrade with a backlog): no clocks
        header, items = {}, data
    return {int(r): int(ms) for r, ms in header.items()}, [CanonicalEvent.from_wire(d) for d in items]
