"""Adapters never raise: arbitrary JSON, and fixtures with parts removed or replaced, give events
or a rejection naming the platform — never an exception, never the "adapter failed" catch-all."""

from __future__ import annotations

from typing import Any

import orjson
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from schemas.adapters.registry import ADAPTERS
from schemas.event import CanonicalEvent
from streams.normalize import Rejection, normalize
from tests.unit.test_adapters import fixture_paths

LIMIT = 1 << 20
NAMES = sorted(ADAPTERS)
FIXTURES = [orjson.loads(p.read_bytes()) for p in fixture_paths()]
# Keys the adapters read, so random objects reach past the first lookup.
KEYS = sorted({"data", "includes", "users", "tweets", "id", "text", "author_id", "created_at", "referenced_tweets",
               "type", "public_metrics", "entry", "changes", "field", "value", "item", "verb", "post_id",
               "created_time", "from", "kind", "items", "snippet", "publishedAt", "statistics", "viewCount",
               "uri", "record", "$type", "createdAt", "reply", "root", "parent", "commit", "did", "account",
               "status", "reblog", "content", "post", "post_number", "topic_id", "query", "recentchanges",
               "title", "timestamp", "url", "user", "date", "story", "creationTime", "author", "object",
               "actor", "message", "link", "published", "parent_id", "children", "replies", "comments"})

scalars = (st.none() | st.booleans() | st.integers(-(2**70), 2**70) | st.floats(allow_nan=True)
           | st.text(max_size=12) | st.sampled_from(["2026-11-21T10:00:00Z", "t3", "t1", "Listing", "add",
                                                      "comment", "youtube#video", "app.bsky.feed.post", "at://d/c/r"]))
json_values = st.recursive(
    scalars,
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.sampled_from(KEYS) | st.text(max_size=6),
                                                                      children, max_size=5),
    max_leaves=25,
)


def check(envelope: Any) -> None:
    try:
        raw = orjson.dumps(envelope)
    except (TypeError, orjson.JSONEncodeError):
        return  # not JSON (integers past 64 bits): never reaches an adapter
    result = normalize(raw, LIMIT)
    items = result if isinstance(result, list) else [result]
    for item in items:
        assert isinstance(item, CanonicalEvent | Rejection)
        if isinstance(item, Rejection):
            assert "adapter failed" not in item.reason, item.reason


@settings(suppress_health_check=[HealthCheck.too_slow], max_examples=400, deadline=None)
@given(st.sampled_from(NAMES), json_values, st.none() | st.sampled_from(["2026-11-21T11:00:00Z", "x", 5]),
       st.none() | st.sampled_from(["https://s.example", 3]))
def test_arbitrary_payloads_never_raise(platform: str, payload: Any, fetched_at: Any, site: Any) -> None:
    envelope: dict[str, Any] = {"platform": platform, "payload": payload}
    if fetched_at is not None:
        envelope["fetched_at"] = fetched_at
    if site is not None:
        envelope["site"] = site
    check(envelope)


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [prefix]
    if isinstance(value, dict):
        for k, v in value.items():
            found += _paths(v, (*prefix, k))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            found += _paths(v, (*prefix, i))
    return found


@settings(suppress_health_check=[HealthCheck.too_slow], max_examples=400, deadline=None)
@given(st.data())
def test_fixtures_with_a_part_removed_or_replaced_never_raise(data: st.DataObject) -> None:
    envelope = orjson.loads(orjson.dumps(data.draw(st.sampled_from(FIXTURES))))
    paths = [p for p in _paths(envelope["payload"]) if p]
    for _ in range(data.draw(st.integers(1, 3))):
        if not paths:
            break
        path = data.draw(st.sampled_from(paths))
        node = envelope["payload"]
        try:
            for step in path[:-1]:
                node = node[step]
            if isinstance(node, dict) and data.draw(st.booleans()):
                node.pop(path[-1], None)
            else:
                node[path[-1]] = data.draw(json_values)
        except (KeyError, IndexError, TypeError):
            continue
    check(envelope)
