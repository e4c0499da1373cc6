-- The ClickHouse sink inserts the very bytes it produces to social.events (JSONEachRow): ClickHouse
-- parses them in C++ on its own cores, which measured ~15% of the worker's CPU when the worker
-- serialized columns itself (BENCHMARKS.md). The Null table stores nothing; its view flattens each
-- row into events_local, whose own views (engagement_by_minute) fire in turn.

-- migrate:up
CREATE TABLE events_ingest
(
    platform    String,
    id          String,
    kind        String,
    occurred_at DateTime64(3, 'UTC'),
    actor       Tuple(id String, handle Nullable(String), followers UInt64, verified Bool, tier String),
    target_id   Nullable(String),
    parent_id   Nullable(String),
    text        Nullable(String),
    url         Nullable(String),
    lang        String,
    sentiment   Float32,
    hashtags    Array(String),
    mentions    Array(String),
    urls        Array(String),
    brands      Array(String),
    ingested_at DateTime64(3, 'UTC')
)
ENGINE = Null;

CREATE MATERIALIZED VIEW events_ingest_mv TO events_local AS
SELECT
    platform,
    id,
    kind,
    occurred_at,
    actor.id                   AS actor_id,
    ifNull(actor.handle, '')   AS actor_handle,
    actor.followers            AS actor_followers,
    actor.verified             AS actor_verified,
    actor.tier                 AS author_tier,
    ifNull(target_id, '')      AS target_id,
    ifNull(parent_id, '')      AS parent_id,
    ifNull(text, '')           AS text,
    ifNull(url, '')            AS url,
    lang,
    sentiment,
    hashtags,
    mentions,
    urls,
    brands,
    ingested_at
FROM events_ingest;

-- migrate:down
DROP VIEW IF EXISTS events_ingest_mv;
DROP TABLE IF EXISTS events_ingest;
