"""Every Prometheus metric of the pipeline, declared in one place."""

from __future__ import annotations

import bisect
import time
from collections.abc import Iterable
from typing import Any, Final

from prometheus_client import REGISTRY, Counter, Gauge, Histogram
from prometheus_client.core import HistogramMetricFamily, Metric
from prometheus_client.registry import Collector

EVENTS_IN = Counter("pulse_events_in_total", "Raw messages read from social.raw")
EVENTS_VALID = Counter("pulse_events_valid_total", "Raw messages that became canonical events",
                       ["platform", "kind"])
DEAD_LETTERS = Counter("pulse_dead_letters_total", "Raw messages rejected to social.dlq", ["reason"])
DUPLICATES = Counter("pulse_duplicates_dropped_total", "Events dropped as already seen (same platform, id)")
EVENTS_STORED = Counter("pulse_events_stored_total", "Events written to ClickHouse by the events sink")
SINK_BATCH_ROWS = Histogram("pulse_sink_batch_rows", "Rows per ClickHouse insert", ["table"],
                            buckets=(1, 10, 100, 500, 1000, 5000, 10000, 50000))
SINK_SECONDS = Histogram("pulse_sink_insert_seconds", "ClickHouse insert latency", ["table"])
SINK_RETRIES = Counter("pulse_sink_retries_total", "ClickHouse insert attempts that failed and were retried",
                       ["table"])
SINK_ERRORS = Counter("pulse_clickhouse_insert_errors_total", "ClickHouse insert errors", ["table", "error"])
LATE_EVENTS = Counter("pulse_late_events_total",
                      "Unique events later than the window grace period: not windowed (still stored in ClickHouse)")
ENGAGEMENT_UPDATES = Counter("pulse_engagement_updates_total", "Window updates produced to social.engagement")
ALERTS = Counter("pulse_alerts_total", "Alert state changes produced to social.alerts",
                 ["rule", "transition", "severity"])

# Health of every consuming stage. `stage` is route, store, windows, dead-letter-sink or alerts-sink.
# Set or observed once per batch (per partition, per message), never per event: the event path is hot.
CONSUMER_LAG = Gauge("pulse_consumer_lag_messages",
                     "Messages in the partition after the newest one this process handled (highwater - position)",
                     ["stage", "topic", "partition"])
PROCESSING_SECONDS = Histogram(
    "pulse_processing_latency_seconds",
    "From the Kafka timestamp of an input message (a pack, in store and windows) to the end of its batch",
    ["stage"], buckets=(0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 1800))
BATCH_MESSAGES = Histogram("pulse_batch_messages", "Input messages handled per batch", ["stage"],
                           buckets=(1, 4, 16, 64, 256, 1024, 4096, 16384))

# Windows stage state, per owned social.contributions partition (set after every batch touching it).
ACTIVE_KEYS = Gauge("pulse_window_active_keys", "(dimension, key) pairs holding minute buckets", ["partition"])
WINDOW_BUCKETS = Gauge("pulse_window_buckets", "Minute buckets held in memory (window state size)", ["partition"])
DETECTOR_STATES = Gauge("pulse_detector_states", "Per-key spike detector states held in memory", ["partition"])
OPEN_ALERTS = Gauge("pulse_open_alerts", "Keys with an open alert", ["partition"])

# pulse notify
NOTIFY_DELIVERIES = Counter("pulse_notify_deliveries_total", "Alert changes a subscriber accepted (HTTP 2xx)",
                            ["subscriber"])
NOTIFY_RETRIES = Counter("pulse_notify_retries_total", "Delivery attempts that failed and were retried",
                         ["subscriber"])
NOTIFY_FAILURES = Counter("pulse_notify_failures_total",
                          "Alert changes given up on after the last attempt (sent to social.notify.dlq)",
                          ["subscriber"])
NOTIFY_ALREADY_DONE = Counter("pulse_notify_already_done_total",
                              "Alert changes skipped because the delivery ledger had their outcome", ["subscriber"])
NOTIFY_QUEUED = Gauge("pulse_notify_queued", "Alert changes waiting for a subscriber", ["subscriber"])
NOTIFY_SECONDS = Histogram("pulse_notify_delivery_seconds", "One HTTP delivery attempt", ["subscriber"])

# pulse ingest
INGEST_REQUESTS = Counter("pulse_ingest_requests_total", "Webhook requests answered, by platform and HTTP status",
                          ["platform", "status"])
INGEST_BAD_SIGNATURES = Counter("pulse_ingest_rejected_signatures_total",
                                "Webhook requests rejected for a missing or wrong signature", ["platform"])
INGEST_PRODUCE_SECONDS = Histogram("pulse_ingest_produce_seconds",
                                   "From an accepted webhook to Kafka's acknowledgement of its envelope")

# pulse poll-feeds
FEED_POLLS = Counter("pulse_feed_polls_total", "Feed fetches, by outcome (new, unchanged, not_modified, error)",
                     ["feed", "outcome"])
FEED_ENTRIES = Counter("pulse_feed_entries_total", "New feed entries produced to social.raw", ["feed"])
FEED_FAILING = Gauge("pulse_feed_consecutive_failures", "Failed polls of a feed since its last success", ["feed"])


class GcPauses(Collector):
    """`pulse_gc_pause_seconds{generation}`: how long each garbage collection held its process.
    `on_collection` is a gc callback (installed by pulse/gc_tuning.py). It runs inside whichever
    allocation triggered the collection, possibly while that thread holds a lock (a metrics scrape
    holds its metric's), so it takes none: it stores into plain per-generation lists, turned into a
    histogram when scraped. Objects freed and collections per generation are prometheus_client's own
    `python_gc_*` metrics."""

    BUCKETS: Final = (0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)

    def __init__(self) -> None:
        self.counts = [[0] * (len(self.BUCKETS) + 1) for _ in range(3)]  # per generation; last: +Inf
        self.sums = [0.0, 0.0, 0.0]
        self._started = 0.0  # when the collection under way began

    def on_collection(self, phase: str, info: dict[str, Any]) -> None:
        if phase == "start":
            self._started = time.perf_counter()
        elif self._started:
            self.record(int(info["generation"]), time.perf_counter() - self._started)
            self._started = 0.0

    def record(self, generation: int, seconds: float) -> None:
        bucket = bisect.bisect_left(self.BUCKETS, seconds)
        self.counts[generation][bucket] += 1
        self.sums[generation] += seconds

    def collect(self) -> Iterable[Metric]:
        family = HistogramMetricFamily("pulse_gc_pause_seconds",
                                       "How long each garbage collection held the process, by generation",
                                       labels=["generation"])
        for generation in range(3):
            cumulative, buckets = 0, []
            for bound, n in zip((*map(repr, self.BUCKETS), "+Inf"), list(self.counts[generation]), strict=True):
                cumulative += n
                buckets.append((bound, cumulative))
            family.add_metric([str(generation)], buckets, self.sums[generation])
        yield family


GC_PAUSES = GcPauses()
REGISTRY.register(GC_PAUSES)
