"""The live page's reads from the ClickHouse contract views (events, engagement_by_minute,
alerts_latest, dead_letters). Every value goes in as a driver parameter, never formatted into the SQL.

Throughput counts `events` by `ingested_at`, not engagement_by_minute by event time: it is the rate at
which the pipeline stores unique events, whatever their event time (a replay of last week's data, or
late events, are throughput too, and would not show in the current minutes of engagement_by_minute).
"""

from __future__ import annotations

from typing import Any

from clickhouse_driver import Client

from pulse.ui import shape

CONTRACT_VIEWS = ("events", "engagement_by_minute", "alerts_latest", "dead_letters")

TOP_KEYS = 5
LIST_LIMIT = 20
RAW_EXCERPT_CHARS = 300

THROUGHPUT = """
SELECT intDiv(toUnixTimestamp(ingested_at), %(step)s) * %(step)s AS bucket, count()
FROM events
WHERE ingested_at >= fromUnixTimestamp(%(start)s) AND ingested_at < fromUnixTimestamp(%(end)s)
GROUP BY bucket
"""

EVENT_COUNT = "SELECT count() FROM events"

TRENDING = """
SELECT dimension, key, sum(total) AS events, groupArray((toUnixTimestamp(minute), total)) AS minutes
FROM engagement_by_minute
WHERE minute >= fromUnixTimestamp(%(start)s) AND dimension IN %(dimensions)s
GROUP BY dimension, key
ORDER BY dimension, events DESC, key
LIMIT %(top)s BY dimension
"""

# count() OVER (): the total of the same read as the rows, so the page's tile and list agree.
OPEN_ALERTS = """
SELECT alert_id, rule, dimension, key, severity, toUnixTimestamp64Milli(opened_at),
       toUnixTimestamp64Milli(updated_at), observed, expected, score, lift, count() OVER () AS open_alerts
FROM alerts_latest
WHERE status = 'open'
ORDER BY indexOf(['critical', 'warning', 'info'], severity), updated_at DESC
LIMIT %(limit)s
"""

DEAD_LETTERS = """
SELECT toUnixTimestamp64Milli(received_at), error, substringUTF8(raw, 1, %(chars)s), raw_encoding, topic,
       partition, offset, count() OVER () AS dead_letters
FROM dead_letters
ORDER BY received_at DESC
LIMIT %(limit)s
"""


def missing_views(client: Client) -> list[str]:
    """Contract views the page reads that the database lacks (not migrated yet)."""
    rows = client.execute("SELECT name FROM system.tables WHERE database = currentDatabase() AND name IN %(names)s",
                          {"names": list(CONTRACT_VIEWS)})
    present = {str(r[0]) for r in rows}
    return [v for v in CONTRACT_VIEWS if v not in present]


def fetch_summary(client: Client, windows: shape.Windows) -> dict[str, Any]:
    """Everything the page shows, read now; blocking (run it off the event loop)."""
    flow = client.execute(THROUGHPUT, {"step": windows.throughput_step_s, "start": windows.throughput_start,
                                       "end": windows.throughput_end})
    trending = client.execute(TRENDING, {"start": windows.trend_start, "dimensions": list(shape.DIMENSIONS),
                                         "top": TOP_KEYS})
    alerts = client.execute(OPEN_ALERTS, {"limit": LIST_LIMIT})
    letters = client.execute(DEAD_LETTERS, {"chars": RAW_EXCERPT_CHARS, "limit": LIST_LIMIT})
    return {
        "generated_at": windows.now,
        "totals": {
            "events": int(client.execute(EVENT_COUNT)[0][0]),
            "dead_letters": int(letters[0][-1]) if letters else 0,
            "open_alerts": int(alerts[0][-1]) if alerts else 0,
        },
        "throughput": shape.throughput(((int(b), int(c)) for b, c in flow), windows),
        "trend_minutes": windows.trend_minutes,
        "trend_start": windows.trend_start,
        "trending": shape.trending(trending, windows, TOP_KEYS),
        "alerts": shape.open_alerts(row[:-1] for row in alerts),
        "dead_letters": shape.dead_letters(row[:-1] for row in letters),
    }
