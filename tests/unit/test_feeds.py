"""`pulse poll-feeds` pure parts: the feeds file, entry → envelope payload (through the real feed adapter),
new-entry decisions, the backoff schedule, and the SQLite store."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import feedparser
import orjson
import pytest

from schemas.adapters.output import AdapterLimits
from schemas.adapters.registry import adapt
from sources.feeds.config import FEED_PLATFORMS, load_feeds_config, parse_feeds_config
from sources.feeds.entries import entry_key, entry_payload, envelope, new_entries
from sources.feeds.schedule import next_delay
from sources.feeds.store import FeedStore, Validators

ROOT = Path(__file__).resolve().parents[2]
FEEDS = ROOT / "tests" / "fixtures" / "feeds"
POLLED_MS = 1_795_260_000_000


def events_of(name: str, comments_of: str = "") -> list[dict[str, Any]]:
    parsed = feedparser.parse((FEEDS / name).read_bytes())
    assert not parsed.bozo, parsed.bozo_exception
    out = []
    for _, entry in new_entries(parsed.entries, set()):
        value = orjson.loads(envelope("blog", entry_payload(entry, parsed.feed, comments_of, POLLED_MS), POLLED_MS))
        adapted = adapt(value, AdapterLimits())
        assert adapted.error == "", adapted.error
        out += adapted.events
    return out


def test_rss_items_become_posts_oldest_first() -> None:
    events = events_of("blog.rss.xml")
    assert [(e["kind"], e["id"]) for e in events] == [("post", "https://blog.example.com/?p=87"),
                                                      ("post", "https://blog.example.com/?p=88")]
    post = events[1]
    assert post["occurred_at"] == "2026-11-21T10:00:00.000Z"
    assert post["actor"]["id"] == "name:Kim"
    assert post["text"] == "Acme ships to Europe\nShips in December #acme"
    assert post["url"] == "https://blog.example.com/2026/11/europe/"
    assert events[0]["occurred_at"] == "2026-11-20T09:30:00.000Z"


def test_atom_entries_keep_author_uri_and_normalise_times() -> None:
    (event,) = events_of("news.atom.xml")
    assert event["id"] == "tag:forum.example.com,2026:topic-310"
    assert event["occurred_at"] == "2026-11-21T09:05:00.000Z"  # +01:00 → UTC
    assert event["actor"]["id"] == "https://forum.example.com/u/kai"
    assert "Asking for a friend @acme" in event["text"]


def test_wordpress_comment_feed_entries_are_comments_on_their_post() -> None:
    events = events_of("comments.rss.xml")
    assert [(e["kind"], e["target_id"]) for e in events] == [("comment", "https://blog.example.com/?p=88")] * 2


def test_comments_of_names_the_post_of_a_per_post_comment_feed() -> None:
    events = events_of("news.atom.xml", comments_of="https://forum.example.com/t/310")
    assert [(e["kind"], e["target_id"]) for e in events] == [("comment", "https://forum.example.com/t/310")]


def test_undated_entries_are_dated_at_the_poll_and_unidentified_ones_skipped() -> None:
    entry = {"link": "https://x.example/a", "title": "t"}
    payload = entry_payload(entry, {}, "", POLLED_MS)
    assert payload["updated"] == "2026-11-21T11:20:00.000Z" and payload["id"] == "https://x.example/a"
    assert entry_key({"title": "no id"}) == ""
    assert new_entries([{"title": "no id"}], set()) == []


def test_new_entries_skips_seen_and_repeated_ids() -> None:
    entries = [{"id": "c"}, {"id": "b"}, {"id": "c"}, {"id": "a"}]
    assert [k for k, _ in new_entries(entries, {"a"})] == ["b", "c"]
    assert new_entries(entries, {"a", "b", "c"}) == []


def test_backoff_doubles_with_jitter_and_is_capped() -> None:
    lowest = lambda lo, hi: lo  # noqa: E731
    highest = lambda lo, hi: hi  # noqa: E731
    assert next_delay(0, 300, 30, 3600, highest) == 300
    assert [next_delay(n, 300, 30, 3600, highest) for n in (1, 2, 3)] == [30, 60, 120]
    assert [next_delay(n, 300, 30, 3600, lowest) for n in (1, 2, 3)] == [15, 30, 60]
    assert next_delay(50, 300, 30, 3600, highest) == 3600
    assert next_delay(10_000, 300, 30, 3600, lowest) == 1800


def test_store_remembers_ids_and_validators_bounded(tmp_path: Path) -> None:
    path = tmp_path / "feeds.sqlite"
    store = FeedStore(path)
    store.record("blog", "https://b/feed", ["a", "b", "c"], Validators('"v1"', "Sat, 21 Nov 2026 10:00:00 GMT"),
                 1.0, remember=10)
    store.record("blog", "https://b/feed", ["d"], Validators('"v2"', None), 2.0, remember=3)
    store.close()
    store = FeedStore(path)  # a restart
    assert store.seen("blog") == {"b", "c", "d"}
    assert store.seen("other") == set()
    assert store.validators("blog", "https://b/feed") == Validators('"v2"', None)
    assert store.validators("blog", "https://b/moved") == Validators()
    store.close()


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "feeds.toml"
    path.write_text(text)
    return path


def test_feeds_file_defaults_and_overrides(tmp_path: Path) -> None:
    config = load_feeds_config(write(tmp_path, """
[defaults]
interval_s = 60
[feeds.blog]
url = "https://blog.example.com/feed/"
[feeds.comments]
url = "https://blog.example.com/comments/feed/"
platform = "rss"
interval_s = 5
"""))
    blog, comments = config.feeds
    assert (blog.name, blog.platform, blog.interval_s) == ("blog", "blog", 60)
    assert (comments.platform, comments.interval_s) == ("rss", 5)


def test_example_feeds_file_is_valid() -> None:
    assert load_feeds_config(ROOT / "deploy" / "feeds.example.toml").feeds


@pytest.mark.parametrize(("doc", "message"), [
    ({}, "feeds: none configured"),
    ({"feeds": {"a": {"url": "ftp://x"}}}, "feeds.a.url: must be an http"),
    ({"feeds": {"a": {"url": "https://x/f", "platform": "forum"}}}, "feeds.a.platform: must be one of"),
    ({"feeds": {"a": {"url": "https://x/f", "interval_s": 0}}}, "feeds.a.interval_s: must be a number >= 1"),
    ({"feeds": {"a": {"url": "https://x/f", "colour": 1}}}, "feeds.a.colour: unknown setting"),
    ({"feeds": {"a": {"url": "https://x/f"}, "b": {"url": "https://x/f"}}}, "the same URL is configured twice"),
    ({"feed": {}}, "feed: unknown section"),
])
def test_bad_feeds_files_name_the_field(doc: dict[str, Any], message: str) -> None:
    with pytest.raises(Exception, match=message):
        parse_feeds_config(doc)


def test_feed_platforms_are_the_feed_adapters_names() -> None:
    assert FEED_PLATFORMS == ("atom", "blog", "feed", "rss")


