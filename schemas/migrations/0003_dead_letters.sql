-- Rejected inputs from social.dlq. One row per DLQ record: keyed by where the input came from,
-- so a record delivered to ClickHouse twice is still one row.

-- migrate:up
CREATE TABLE dead_letters_local
(
    received_at  DateTime64(3, 'UTC'),
    error        String,
    topic        LowCardinality(String),
    partition    Int32,
    offset       Int64,
    raw          String,
    raw_encoding LowCardinality(String)
)
ENGINE = ReplacingMergeTree
PARTITION BY toYYYYMM(received_at)
ORDER BY (topic, partition, offset);

CREATE VIEW dead_letters AS
SELECT received_at, error, raw, raw_encoding, topic, partition, offset
FROM dead_letters_local FINAL;

-- migrate:down
DROP VIEW IF EXISTS dead_letters;
DROP TABLE IF EXISTS dead_letters_local;
