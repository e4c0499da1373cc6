-- A JSONEachRow entry point for social.events values: the Null table stores nothing; its view
-- flattens each row into events_local, whose own views (engagement_by_minute) fire in turn.
-- NOT used by the sink: in the test suite, rows inserted here intermittently reached events_local
-- but not engagement_by_minute (the cascade of two views, on the embedded ClickHouse 26.9), so the
-- sink inserts columns into events_local directly. Kept so the migration history stays linear.

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
