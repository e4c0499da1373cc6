"""Per-batch metrics of the Faust agents (store, windows): one call per batch, a few per partition."""

from __future__ import annotations

import contextlib
import logging
import time
from typing import Any

from streams import metrics

log = logging.getLogger(__name__)


def observe_faust_batch(stage: str, consumer: Any, batch: list[Any]) -> None:
    """Batch size, latency of every input message (a pack: one observation per message, not per
    event) and consumer lag of every partition the batch came from (highwater - next offset)."""
    now = time.time()
    metrics.BATCH_MESSAGES.labels(stage).observe(len(batch))
    latency = metrics.PROCESSING_SECONDS.labels(stage)
    newest: dict[Any, int] = {}
    for event in batch:
        msg = event.message
        latency.observe(max(0.0, now - msg.timestamp))  # Faust's timestamps are in seconds
        newest[msg.tp] = msg.offset
    observe_lag(stage, consumer, newest)


def observe_lag(stage: str, consumer: Any, newest: dict[Any, int]) -> None:
    """Consumer lag (highwater - next offset) of the partitions a batch came from (newest offset
    handled per partition). Best-effort: a rebalance may have revoked a partition while the batch
    was handled, and aiokafka then refuses `highwater` (an assertion) — never a reason to crash."""
    for tp, offset in newest.items():
        try:
            highwater = consumer.highwater(tp)
        except Exception as exc:
            log.debug("%s: no highwater for %s: %s", stage, tp, exc)
            continue
        if highwater is not None:
            metrics.CONSUMER_LAG.labels(stage, tp.topic, str(tp.partition)).set(max(0, highwater - offset - 1))


def observe_window_state(partition: int, keys: int, buckets: int, detector_states: int, open_alerts: int) -> None:
    label = str(partition)
    metrics.ACTIVE_KEYS.labels(label).set(keys)
    metrics.WINDOW_BUCKETS.labels(label).set(buckets)
    metrics.DETECTOR_STATES.labels(label).set(detector_states)
    metrics.OPEN_ALERTS.labels(label).set(open_alerts)


def forget_window_state(partitions: set[int]) -> None:
    """Drop the state gauges of partitions this process no longer owns (another worker reports them)."""
    for gauge in (metrics.ACTIVE_KEYS, metrics.WINDOW_BUCKETS, metrics.DETECTOR_STATES, metrics.OPEN_ALERTS):
        for partition in partitions:
            with contextlib.suppress(KeyError):
                gauge.remove(str(partition))
