"""X Account Activity webhook bodies (schemas/adapters/twitter_v1.py): the semantics the golden files
under tests/fixtures/platforms/twitter/account_activity_* encode, and the ids shared with API v2."""

from __future__ import annotations

from typing import Any

import orjson
import pytest

from schemas.adapters.fields import Node, PayloadError
from schemas.adapters.twitter_v1 import created_ms
from tests.unit.test_adapters import FIXTURES, run, run_payload

ACME = "2244994945"


def fixture(name: str) -> tuple[list[Any], list[str]]:
    return run((FIXTURES / "twitter" / f"account_activity_{name}.json").read_bytes())


def test_replies_are_comments_and_mentions_of_the_subscribed_user_are_mentions() -> None:
    events, reasons = fixture("reply")
    assert reasons == []
    assert [(e.kind, e.id, e.target_id) for e in events] == [
        ("comment", "1862000000000000101", "1862000000000000100"),
        ("mention", "1862000000000000102", ""),
        ("comment", "1862000000000000103", "1862000000000000101")]
    assert events[1].text.endswith("in a day #happy")  # extended_tweet.full_text, not the truncated text
    assert events[1].actor_followers == 45210 and events[1].actor_verified is True
    assert events[2].occurred_at_ms == events[0].occurred_at_ms + 45_000  # +0100 offset honoured


def test_favorites_are_likes_of_the_favorited_tweet() -> None:
    events, reasons = fixture("favorite")
    assert reasons == []
    likes = [(e.id, e.target_id, e.actor_id) for e in events if e.kind == "like"]
    assert likes == [("1862000000000000110:like:99111", "1862000000000000110", "99111"),
                     ("1862000000000000110:like:99112", "1862000000000000110", "99112")]
    assert [e.kind for e in events if e.id == "1862000000000000110"] == ["post"]  # once, though liked twice
    assert not any(e.actor_id == "anonymous" for e in events)  # tweet counts are not turned into units


def test_retweets_and_quotes_are_shares_each_tweet_once() -> None:
    events, reasons = fixture("retweet_quote")
    assert reasons == []
    by_id = {e.id: e for e in events}
    assert len(by_id) == len(events) == 4
    assert (by_id["1862000000000000121"].kind, by_id["1862000000000000121"].target_id,
            by_id["1862000000000000121"].text) == ("share", "1862000000000000120", "")
    assert (by_id["1862000000000000122"].kind, by_id["1862000000000000122"].target_id) == \
        ("share", "1862000000000000120")
    assert by_id["1862000000000000122"].text.startswith("Finally")
    assert by_id["1862000000000000123"].target_id == "1862000000000000122"  # a retweet of the quote
    assert by_id["1862000000000000120"].kind == "post"


def test_follows_and_events_without_engagement() -> None:
    events, reasons = fixture("follow")
    assert reasons == []
    assert [(e.kind, e.id, e.actor_id) for e in events] == [("follow", "follow:99131:2244994945:1795258200000",
                                                              "99131")]
    for body in ({"for_user_id": ACME, "direct_message_events": [{"type": "message_create", "id": "1"}],
                  "users": {"1": {"id": "1"}}},
                 {"for_user_id": ACME, "direct_message_indicate_typing_events": [{"sender_id": "1"}]},
                 {"for_user_id": ACME, "tweet_delete_events": [{"status": {"id": "9", "user_id": "1"}}]},
                 {"for_user_id": ACME, "unfollow_events": [{"type": "unfollow"}]},
                 {"for_user_id": ACME, "user_event": {"revoke": {}}}):
        assert run_payload("twitter", body) == ([], []), body


def test_a_tweet_has_the_same_id_through_account_activity_and_api_v2() -> None:
    v2 = {"data": {"id": "1862000000000000150", "text": "hi #acme", "author_id": "7",
                   "created_at": "2026-11-21T10:00:05.000Z"}}
    v1 = {"for_user_id": ACME, "tweet_create_events": [
        {"id_str": "1862000000000000150", "text": "hi #acme", "created_at": "Sat Nov 21 10:00:05 +0000 2026",
         "user": {"id_str": "7"}}]}
    (a,), _ = run_payload("twitter", v2)
    (b,), _ = run_payload("x", v1)
    assert (a.platform, a.id, a.kind, a.occurred_at_ms, a.actor_id) == \
        (b.platform, b.id, b.kind, b.occurred_at_ms, b.actor_id)


def test_malformed_account_activity_items_name_the_field_and_spare_the_others() -> None:
    good = orjson.loads((FIXTURES / "twitter" / "account_activity_reply.json").read_bytes())["payload"]
    body = {**good, "tweet_create_events": [{"id_str": "1", "user": {"id_str": "2"},
                                             "created_at": "2026-11-21T10:00:00Z"},
                                            *good["tweet_create_events"]]}
    events, reasons = run_payload("twitter", body)
    assert len(events) == 3
    assert reasons == ["payload.twitter: tweet_create_events[0].created_at is not a v1.1 timestamp: "
                       "'2026-11-21T10:00:00Z'"]
    _, reasons = run_payload("twitter", {"for_user_id": ACME, "favorite_events": [
        {"user": {"id_str": "3"}, "timestamp_ms": 1795257067412}]})
    assert reasons == ["payload.twitter: missing favorite_events[0].favorited_status"]


@pytest.mark.parametrize(("text", "iso"), [
    ("Wed Oct 10 20:19:24 +0000 2018", "2018-10-10T20:19:24+00:00"),
    ("Wed Oct 10 15:49:24 -0430 2018", "2018-10-10T20:19:24+00:00"),
    ("Thu Feb 29 23:59:59 +0000 2024", "2024-02-29T23:59:59+00:00"),
])
def test_v1_timestamps_are_read_without_the_locale(text: str, iso: str) -> None:
    from datetime import datetime

    assert created_ms(Node({"created_at": text})) == round(datetime.fromisoformat(iso).timestamp() * 1000)


@pytest.mark.parametrize("text", ["Wed Okt 10 20:19:24 +0000 2018", "Wed Oct 10 20:19:24 2018",
                                  "Fri Feb 30 10:00:00 +0000 2024", "Wed Oct 10 20:19 +0000 2018",
                                  "Wed Oct 10 20:19:24 0000 2018"])
def test_bad_v1_timestamps_are_payload_errors(text: str) -> None:
    with pytest.raises(PayloadError, match="created_at"):
        created_ms(Node({"created_at": text}))
