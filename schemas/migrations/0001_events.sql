-- Unique canonical events, and the `events` contract view.
-- ReplacingMergeTree on the dedupe key: a redelivered event (worker restart, replay) collapses
-- into one row; the view reads with FINAL so readers always see unique events without OPTIMIZE.

-- migrate:up
CREATE TABLE events_local
(
    platform        LowCardinality(String),
    id              String,
    kind            LowCardinality(String),
    occurred_at     DateTime64(3, 'UTC'),
    actor_id        String,
    actor_handle    String,
    actor_followers UInt64,
    actor_verified  Bool,
    author_tier     LowCardinality(String),
    target_id       String,
    parent_id       String,
    text            String,
    url             String,
    lang            LowCardinality(String),
    sentiment       Float32,
    hashtags        Array(String),
    mentions        Array(String),
    urls            Array(String),
    brands          Array(String),
    ingested_at     DateTime64(3, 'UTC')
)
ENGINE = ReplacingMergeTree
PARTITION BY toYYYYMM(occurred_at)
ORDER BY (platform, id);

CREATE VIEW events AS
SELECT platform, id, kind, occurred_at, actor_id, target_id, text, lang, sentiment,
       hashtags, mentions, brands, ingested_at,
       actor_handle, actor_followers, actor_verified, author_tier, parent_id, url, urls
FROM events_local FINAL;

-- migrate:down
DROP VIEW IF EXISTS events;
DROP TABLE IF EXISTS events_local;
