-- Alert state changes from social.alerts, and the `alerts_latest` contract view: one row per
-- alert in its newest state. The sink inserts the social.alerts values as they are (JSONEachRow);
-- a change delivered twice (redelivery after a crash) collapses into one row.

-- migrate:up
CREATE TABLE alerts_local
(
    alert_id     String,
    rule         LowCardinality(String),
    dimension    LowCardinality(String),
    key          String,
    transition   LowCardinality(String),
    status       LowCardinality(String),
    severity     LowCardinality(String),
    opened_at    DateTime64(3, 'UTC'),
    updated_at   DateTime64(3, 'UTC'),
    observed     Float64,
    expected     Float64,
    score        Float64,
    lift         Nullable(Float64),
    top_posts    Array(Tuple(key String, events UInt64)),
    top_authors  Array(Tuple(key String, events UInt64)),
    sample_texts Array(String),
    platforms    Map(String, UInt64),
    emitted_at   DateTime64(3, 'UTC')
)
ENGINE = ReplacingMergeTree(updated_at)
PARTITION BY toYYYYMM(opened_at)
ORDER BY alert_id;

CREATE VIEW alerts_latest AS
SELECT alert_id, dimension, key, rule, status, severity, opened_at, updated_at, observed, expected, score,
       transition, lift, top_posts, top_authors, sample_texts, platforms
FROM alerts_local FINAL;

-- migrate:down
DROP VIEW IF EXISTS alerts_latest;
DROP TABLE IF EXISTS alerts_local;
