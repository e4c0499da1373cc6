"""The dev stack's Kafka cluster ids: what `kafka-storage format -t ID` accepts."""

from __future__ import annotations

import base64

from pulse.devstack.kafka import _random_cluster_id


def test_cluster_ids_never_start_with_a_dash_and_decode_to_16_bytes() -> None:
    # One in 64 random ids starts with "-", which the storage tool's parser takes for an option:
    # 5,000 draws would all but surely hit one.
    ids = [_random_cluster_id() for _ in range(5000)]
    assert not [i for i in ids if i.startswith("-")]
    assert all(len(base64.urlsafe_b64decode(i + "==")) == 16 for i in ids)
    assert len(set(ids)) == len(ids)
