"""social.events values → rows of ClickHouse `events_local`, parsed by ClickHouse.

The events sink sends each value as it came off social.events (one String column, `input()`),
and the INSERT's SELECT parses it once per row into the table's columns. Measured on 30,000
enriched events (BENCHMARKS.md, Session 10): clickhouse-driver's Python column writers cost
~2.5 µs/event of client CPU for the columns (arrays and LowCardinality the most), against
~0.6 µs/event for the values as one String column; the server's parse adds ~2 µs/event.
"""

from __future__ import annotations

EVENT_COLUMNS = (
    "platform", "id", "kind", "occurred_at", "actor_id", "actor_handle", "actor_followers",
    "actor_verified", "author_tier", "target_id", "parent_id", "text", "url", "lang", "sentiment",
    "hashtags", "mentions", "urls", "brands", "ingested_at",
)

# The value's shape (schemas/json/social.events.schema.json); absent optional fields are null.
_EVENT_TUPLE = (
    "Tuple(platform String, id String, kind String, occurred_at String, "
    "actor Tuple(id String, handle Nullable(String), followers UInt64, verified Bool, tier String), "
    "target_id Nullable(String), parent_id Nullable(String), text Nullable(String), url Nullable(String), "
    "lang String, sentiment Float32, hashtags Array(String), mentions Array(String), urls Array(String), "
    "brands Array(String), ingested_at String)"
)

# In EVENT_COLUMNS order. Times are RFC 3339 with milliseconds ("...T10:00:05.120Z"). Only the
# store writes social.events; a value from anywhere else that is not an event (no platform, id or
# kind, no readable time) is left out instead of failing the insert, which would stall the sink on
# it for ever.
EVENTS_FROM_JSON = f"""SELECT
    e.platform, e.id, e.kind, assumeNotNull(occurred_at),
    e.actor.id, ifNull(e.actor.handle, ''), e.actor.followers, e.actor.verified, e.actor.tier,
    ifNull(e.target_id, ''), ifNull(e.parent_id, ''), ifNull(e.text, ''), ifNull(e.url, ''),
    e.lang, e.sentiment, e.hashtags, e.mentions, e.urls, e.brands,
    parseDateTime64BestEffortOrZero(e.ingested_at, 3, 'UTC')
FROM (SELECT e, parseDateTime64BestEffortOrNull(e.occurred_at, 3, 'UTC') AS occurred_at
      FROM (SELECT JSONExtract(json, '{_EVENT_TUPLE}') AS e FROM input('json String')))
WHERE e.platform != '' AND e.id != '' AND e.kind != '' AND occurred_at IS NOT NULL"""
