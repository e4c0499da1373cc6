"""Platform adapters: every fixture under tests/fixtures/platforms → its expected canonical events.

Each fixture `<platform>/<case>.json` is an envelope as it arrives on `social.raw`; next to it,
`<case>.expected.json` lists the canonical events (counter units summarised as ranges) and the
dead-letter reason, if any. After a deliberate change, rewrite them with
`PULSE_REGEN_PLATFORM_FIXTURES=1 pytest tests/unit/test_adapters.py` and review the diff.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import orjson
import pytest

from schemas.adapters.output import COUNTER_ACTOR, AdapterLimits
from schemas.adapters.registry import ADAPTERS
from schemas.event import CanonicalEvent, format_time_ms
from streams.normalize import DEFAULT_ADAPTER_LIMITS, Rejection, normalize

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "platforms"
EXPECTED_SUFFIX = ".expected.json"
LIMIT = 1 << 20


def fixture_paths() -> list[Path]:
    return sorted(p for p in FIXTURES.glob("*/*.json") if not p.name.endswith(EXPECTED_SUFFIX))


def expected_path(fixture: Path) -> Path:
    return fixture.with_name(fixture.stem + EXPECTED_SUFFIX)


def run(raw: bytes, limits: AdapterLimits = DEFAULT_ADAPTER_LIMITS) -> tuple[list[CanonicalEvent], list[str]]:
    """An envelope through the real `normalize`: (events, dead-letter reasons)."""
    result = normalize(raw, LIMIT, limits)
    items = result if isinstance(result, list) else [result]
    events = [i for i in items if isinstance(i, CanonicalEvent)]
    return events, [i.reason for i in items if isinstance(i, Rejection)]


def run_payload(platform: str, payload: Any, **envelope: Any) -> tuple[list[CanonicalEvent], list[str]]:
    return run(orjson.dumps({"platform": platform, "payload": payload, **envelope}))


def unit_prefix(event: CanonicalEvent) -> str | None:
    """`V:likes` for the counter unit `V:likes:17`, None for any other event."""
    prefix, _, number = event.id.rpartition(":")
    return prefix if event.actor_id == COUNTER_ACTOR and number.isdigit() else None


def event_row(e: CanonicalEvent) -> dict[str, Any]:
    return {"platform": e.platform, "id": e.id, "kind": e.kind, "occurred_at": format_time_ms(e.occurred_at_ms),
            "actor": {"id": e.actor_id, "handle": e.actor_handle, "followers": e.actor_followers,
                      "verified": e.actor_verified},
            "target_id": e.target_id, "parent_id": e.parent_id, "text": e.text, "url": e.url, "lang": e.lang}


def summarize(events: list[CanonicalEvent], reasons: list[str]) -> dict[str, Any]:
    rows: list[dict[str, Any]] = []
    counters: dict[str, dict[str, Any]] = {}
    for e in events:
        prefix = unit_prefix(e)
        if prefix is None:
            rows.append(event_row(e))
            continue
        n = int(e.id.rpartition(":")[2])
        c = counters.setdefault(prefix, {"platform": e.platform, "kind": e.kind, "first": n, "last": n, "count": 0,
                                         "target_id": e.target_id, "parent_id": e.parent_id,
                                         "occurred_at": format_time_ms(e.occurred_at_ms)})
        c["first"], c["last"], c["count"] = min(c["first"], n), max(c["last"], n), c["count"] + 1
    return {"events": rows, "counters": counters, "rejections": reasons}


@pytest.mark.parametrize("fixture", fixture_paths(), ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_fixture_gives_expected_canonical_events(fixture: Path) -> None:
    actual = summarize(*run(fixture.read_bytes()))
    target = expected_path(fixture)
    if os.environ.get("PULSE_REGEN_PLATFORM_FIXTURES"):
        target.write_bytes(orjson.dumps(actual, option=orjson.OPT_INDENT_2) + b"\n")
    assert target.exists(), f"{target.name} is missing (see this module's docstring)"
    assert actual == orjson.loads(target.read_bytes())


@pytest.mark.parametrize("fixture", fixture_paths(), ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_the_same_payload_twice_gives_the_same_events(fixture: Path) -> None:
    first, second = run(fixture.read_bytes()), run(fixture.read_bytes())
    assert first == second
    keys = [e.key for e in first[0]]
    assert len(keys) == len(set(keys)) or fixture.stem == "comments_and_reactions"  # a reaction's add + edit


def test_every_platform_has_a_post_an_engagement_and_an_edge_case() -> None:
    by_dir: dict[str, list[Path]] = {}
    for p in fixture_paths():
        by_dir.setdefault(p.parent.name, []).append(p)
    modules = {a.read.__module__.rsplit(".", 1)[1] for a in ADAPTERS.values()}
    assert set(by_dir) == modules  # one fixture folder per adapter module, named after it
    for platform, paths in by_dir.items():
        assert len(paths) >= 3, platform
        kinds = {row["kind"] for p in paths for row in orjson.loads(expected_path(p).read_bytes())["events"]}
        kinds |= {c["kind"] for p in paths for c in orjson.loads(expected_path(p).read_bytes())["counters"].values()}
        assert "post" in kinds or "mention" in kinds, platform
        assert kinds & {"like", "share", "vote", "view", "comment", "reply"}, platform


def readme_examples() -> list[bytes]:
    readme = (FIXTURES.parents[2] / "README.md").read_text()
    section = readme[readme.index("## Supported platforms"):]
    block = section[section.index("```json\n", section.index("One example envelope per platform")) + 8:]
    return [line.encode() for line in block[:block.index("```")].splitlines() if line.strip()]


def test_every_platform_has_a_working_example_in_the_readme() -> None:
    examples = readme_examples()
    covered = set()
    for raw in examples:
        events, reasons = run(raw)
        assert events and reasons == [], raw
        covered.add(ADAPTERS[orjson.loads(raw)["platform"]].read.__module__)
    assert covered == {a.read.__module__ for a in ADAPTERS.values()}


# Semantics the golden files encode, spelled out so a regenerated file cannot hide a regression.


def test_twitter_reply_chain_quote_and_retweet() -> None:
    events, reasons = run((FIXTURES / "twitter" / "reply_chain.json").read_bytes())
    assert reasons == []
    assert [(e.kind, e.target_id, e.parent_id) for e in events] == [
        ("comment", "1861000000000000001", ""), ("reply", "1861000000000000001", "1861000000000000020")]
    events, _ = run((FIXTURES / "twitter" / "quote_and_retweet.json").read_bytes())
    by_id = {e.id: e for e in events}
    assert by_id["1861000000000000010"].kind == "share" and by_id["1861000000000000010"].text.startswith("This")
    assert by_id["1861000000000000011"].kind == "share" and by_id["1861000000000000011"].text == ""
    assert by_id["1861000000000000001"].kind == "post"  # the quoted tweet, from includes
    assert {e.platform for e in events} == {"twitter"}  # "x" is an alias: same dedupe key


def test_facebook_reaction_edit_is_the_same_event_and_remove_emits_nothing() -> None:
    events, _ = run((FIXTURES / "facebook" / "comments_and_reactions.json").read_bytes())
    likes = [e for e in events if e.kind == "like"]
    assert len(likes) == 2 and len({e.key for e in likes}) == 1
    events, reasons = run((FIXTURES / "facebook" / "removed_and_mention.json").read_bytes())
    assert [e.kind for e in events] == ["mention"] and reasons == []


def test_blog_posts_and_comments_from_wordpress_and_feeds_share_one_platform() -> None:
    wp, _ = run((FIXTURES / "wordpress" / "reply.json").read_bytes())
    feed, _ = run((FIXTURES / "feed" / "wordpress_comment_feed_item.json").read_bytes())
    assert {e.platform for e in wp + feed} == {"blog"}
    assert wp[0].target_id == "https://blog.example.com/?p=123"
    assert wp[0].parent_id == "https://blog.example.com/?p=123#comment-45"
    assert feed[0].target_id == "https://news.example.org/?p=88"  # the post's guid, from the comment's guid


@pytest.mark.parametrize(("platform", "payload", "envelope", "reason"), [
    ("youtube", {"kind": "youtube#video", "id": "v1", "snippet": {"channelId": "c"}}, {},
     "payload.youtube: missing snippet.publishedAt"),
    ("twitter", {"includes": {}}, {}, "payload.twitter: missing data"),
    ("twitter", {"data": {"id": "1", "text": "x", "created_at": "2026-11-21T10:00:00Z"}}, {},
     "payload.twitter: missing data.author_id"),
    ("facebook", {"entry": [{"changes": [{"field": "feed", "value": {"item": "comment", "verb": "add"}}]}]}, {},
     "payload.facebook: missing entry[0].changes[0].value.created_time"),
    ("reddit", {"kind": "t3", "data": {"id": "a", "author": "u"}}, {}, "payload.reddit: missing data.created_utc"),
    ("mastodon", {"id": "1", "created_at": "yesterday", "account": {"id": "2"}}, {},
     "payload.mastodon: created_at is not a timestamp"),
    ("bluesky", {"uri": "at://did:plc:x/app.bsky.feed.like/1", "value": {"$type": "app.bsky.feed.like",
                                                                          "createdAt": "2026-11-21T10:00:00Z"}}, {},
     "payload.bluesky: missing value.subject"),
    ("linkedin", {"foo": 1}, {}, "payload.linkedin: missing specificContent"),
    ("wordpress", {"id": 1, "title": {"rendered": "t"}, "link": "https://b.example/x", "author": 1}, {},
     "payload.wordpress: missing date_gmt"),
    ("rss", {"id": "x", "title": "t"}, {}, "payload.rss: missing published"),
    ("discourse", {"post": {"id": 1}}, {}, "payload.discourse: missing envelope site"),
    ("discourse", {"post": {"id": 1, "post_number": 2}}, {"site": "https://f.example"},
     "payload.discourse: missing post.topic_id"),
    ("wiki", {"type": "edit", "title": "T", "timestamp": "2026-11-21T10:00:00Z"}, {"site": "https://w.example"},
     "payload.wiki: missing revid"),
    ("googleplus", {"url": "u", "author": {"displayName": "a"}}, {}, "payload.googleplus: missing creationTime"),
    ("stumbleupon", {"type": "poke"}, {}, "payload.stumbleupon: type: unsupported 'poke'"),
    ("digg", {"submit_date": 1282730000, "user": {"name": "n"}}, {}, "payload.digg: missing id"),
    ("youtube", "not an object", {}, "payload.youtube: payload must be an object, got str"),
    ("twitter", {"data": {}}, {"fetched_at": "noon"}, "payload.twitter: envelope fetched_at is not a timestamp"),
])
def test_malformed_payloads_name_the_platform_and_the_field(platform: str, payload: Any, envelope: dict[str, Any],
                                                            reason: str) -> None:
    events, reasons = run_payload(platform, payload, **envelope)
    assert events == []
    assert len(reasons) == 1 and reasons[0].startswith(reason), reasons


def test_unknown_platform_and_bad_envelopes() -> None:
    assert run_payload("myspace", {"a": 1})[1][0].startswith("platform: no adapter for 'myspace' envelopes")
    assert run(orjson.dumps({"payload": {"a": 1}}))[1] == ["platform: missing"]
    assert run(orjson.dumps({"platform": 5, "payload": {}}))[1] == ["platform: must be a non-empty string"]


def test_unknown_extra_fields_are_tolerated() -> None:
    envelope = orjson.loads((FIXTURES / "reddit" / "link_post.json").read_bytes())
    plain = run(orjson.dumps(envelope))
    envelope["connector"] = {"name": "x"}
    envelope["payload"]["data"]["brand_new_field"] = [1, {"a": None}]
    assert run(orjson.dumps(envelope)) == plain


def test_a_bad_item_does_not_stop_the_others() -> None:
    events, reasons = run((FIXTURES / "youtube" / "comment_deleted_author.json").read_bytes())
    assert [e.id for e in events] == ["UgzThread1.reply3"]
    assert reasons == ["payload.youtube: missing items[0].snippet.authorDisplayName"]


def test_adapter_output_is_validated_like_canonical_input() -> None:
    long_text = "x" * 100_001
    events, reasons = run_payload("stumbleupon", {"type": "review", "url": "http://a.example", "user": {"id": "1"},
                                                  "date": 1401631200, "review": long_text})
    assert events == [] and reasons[0].startswith("payload.stumbleupon: event ") and "text: longer than" in reasons[0]


def test_canonical_input_is_not_wrapped_in_a_list() -> None:
    raw = orjson.dumps({"platform": "generic", "id": "e", "kind": "post", "occurred_at": "2026-11-21T10:00:00Z",
                        "actor": {"id": "u"}})
    assert isinstance(normalize(raw, LIMIT), CanonicalEvent)
    # An object with both "payload" and "kind" is canonical input that happens to carry a field named payload.
    raw = orjson.dumps({"platform": "twitter", "id": "e", "kind": "post", "occurred_at": "2026-11-21T10:00:00Z",
                        "actor": {"id": "u"}, "payload": {}})
    assert isinstance(normalize(raw, LIMIT), CanonicalEvent)


def test_deletions_and_non_engagement_items_emit_nothing_and_no_dead_letter() -> None:
    assert run_payload("bluesky", {"did": "did:plc:x", "time_us": 1, "kind": "commit",
                                   "commit": {"operation": "delete", "collection": "app.bsky.feed.post",
                                              "rkey": "1"}}) == ([], [])
    assert run_payload("wordpress", orjson.loads((FIXTURES / "wordpress" / "spam_comment.json").read_bytes())
                       ["payload"]) == ([], [])
    assert run_payload("mastodon", {"id": "1", "type": "poll", "created_at": "2026-11-21T10:00:00Z",
                                    "account": {"id": "2"}}) == ([], [])
    assert run_payload("linkedin", {"id": "urn:li:share:1", "lifecycleState": "DELETED", "author": "a"}) == ([], [])
