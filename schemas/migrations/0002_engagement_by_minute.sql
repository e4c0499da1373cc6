-- Per-minute engagement per (dimension, key), computed in ClickHouse from unique events.
-- States are uniqExact over the dedupe key, so an event inserted twice (redelivery, replay)
-- is still counted once, and late events land in their own minute whenever they arrive.

-- migrate:up
CREATE TABLE engagement_minute_state
(
    dimension LowCardinality(String),
    key       String,
    minute    DateTime('UTC'),
    posts     AggregateFunction(uniqExact, String),
    comments  AggregateFunction(uniqExact, String),
    replies   AggregateFunction(uniqExact, String),
    likes     AggregateFunction(uniqExact, String),
    shares    AggregateFunction(uniqExact, String),
    views     AggregateFunction(uniqExact, String),
    mentions  AggregateFunction(uniqExact, String),
    votes     AggregateFunction(uniqExact, String),
    total     AggregateFunction(uniqExact, String)
)
ENGINE = AggregatingMergeTree
PARTITION BY toYYYYMM(minute)
ORDER BY (dimension, key, minute);

CREATE MATERIALIZED VIEW engagement_minute_mv TO engagement_minute_state AS
SELECT
    dk.1 AS dimension,
    dk.2 AS key,
    toStartOfMinute(occurred_at) AS minute,
    uniqExactStateIf(uid, kind = 'post')    AS posts,
    uniqExactStateIf(uid, kind = 'comment') AS comments,
    uniqExactStateIf(uid, kind = 'reply')   AS replies,
    uniqExactStateIf(uid, kind = 'like')    AS likes,
    uniqExactStateIf(uid, kind = 'share')   AS shares,
    uniqExactStateIf(uid, kind = 'view')    AS views,
    uniqExactStateIf(uid, kind = 'mention') AS mentions,
    uniqExactStateIf(uid, kind = 'vote')    AS votes,
    uniqExactState(uid)                     AS total
FROM
(
    SELECT
        occurred_at,
        kind,
        concat(platform, '\0', id) AS uid,
        arrayJoin(arrayFilter(x -> x.2 != '', arrayConcat(
            [('platform', toString(platform)), ('author', actor_id),
             ('post', if(kind = 'post', id, target_id))],
            arrayMap(h -> ('hashtag', h), hashtags),
            arrayMap(b -> ('brand', b), brands)))) AS dk
    FROM events_local
)
GROUP BY dimension, key, minute;

CREATE VIEW engagement_by_minute AS
SELECT
    dimension,
    key,
    minute,
    uniqExactMerge(posts)    AS posts,
    uniqExactMerge(comments) AS comments,
    uniqExactMerge(replies)  AS replies,
    uniqExactMerge(likes)    AS likes,
    uniqExactMerge(shares)   AS shares,
    uniqExactMerge(views)    AS views,
    uniqExactMerge(mentions) AS mentions,
    uniqExactMerge(votes)    AS votes,
    uniqExactMerge(total)    AS total
FROM engagement_minute_state
GROUP BY dimension, key, minute;

-- migrate:down
DROP VIEW IF EXISTS engagement_by_minute;
DROP VIEW IF EXISTS engagement_minute_mv;
DROP TABLE IF EXISTS engagement_minute_state;
