"""Every Prometheus metric of the pipeline, declared in one place."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

EVENTS_IN = Counter("pulse_events_in_total", "Raw messages read from social.raw")
EVENTS_VALID = Counter("pulse_events_valid_total", "Raw messages that became canonical events",
                       ["platform", "kind"])
DEAD_LETTERS = Counter("pulse_dead_letters_total", "Raw messages rejected to social.dlq", ["reason"])
DUPLICATES = Counter("pulse_duplicates_dropped_total", "Events dropped as already seen (same platform, id)")
EVENTS_STORED = Counter("pulse_events_stored_total", "Unique events written to ClickHouse")
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
