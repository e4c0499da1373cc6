"""Twitter / X: Account Activity API webhook bodies (v1.1 objects), as `pulse ingest` receives them.

Body: `{"for_user_id": "<subscribed user>", "tweet_create_events": [tweet, ...], "favorite_events":
[...], "follow_events": [...], ...}` (one or more of the `*_events` lists). Tweets are v1.1 objects:
`id_str`, `created_at` ("Wed Oct 10 20:19:24 +0000 2018"), `user` (`id_str`, `screen_name`,
`followers_count`, `verified`), `text` or `extended_tweet.full_text`, `entities.user_mentions`.
Ids are the tweet ids, as the API v2 reader (twitter.py) gives them, so a tweet delivered both ways
is stored once.

* tweet → `post`; one by another user that mentions the subscribed user → `mention`;
* `in_reply_to_status_id_str` → `comment` on the tweet replied to (v1.1 has no `conversation_id`,
  so the thread's root is unknown);
* `retweeted_status` → `share` of it (no text: it is the original's), `quoted_status_id_str` →
  `share` of the quoted tweet with the quote's text; the nested retweeted and quoted tweets become
  events too (as `includes.tweets` do in v2), each once per body;
* `favorite_events` → `like` of `favorited_status` (id `<tweet>:like:<user>`, dated `timestamp_ms`,
  else `created_at`), plus the liked tweet itself;
* `follow_events` (`type` "follow") → `follow` (id `follow:<source>:<target>:<created_timestamp>`);
* everything else — `tweet_delete_events`, `unfollow_events`, blocks, mutes, direct messages, typing
  indicators, read receipts, `user_event` — carries no engagement and emits nothing.

Counts in the tweet objects (`favorite_count`, `retweet_count`, ...) are not converted: likes and
retweets arrive one by one as events, and unit events would count them twice.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Final

from schemas.adapters.fields import Node, PayloadError, epoch_ms, parse_time
from schemas.adapters.output import Actor, Output

# Shared with the API v2 reader (twitter.py), which imports this module.
NO_LANGUAGE: Final = frozenset({"und", "qme", "qht", "zxx"})  # undetermined, media/hashtag-only, no text
# The lists this reader turns into events; a body with any of them (or for_user_id) is Account Activity.
ENGAGEMENT_EVENTS: Final = ("tweet_create_events", "favorite_events", "follow_events")
_MONTHS: Final = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def tweet_url(handle: str, tweet_id: str) -> str:
    return f"https://x.com/{handle or 'i/web'}/status/{tweet_id}"


def language(lang: str) -> str:
    return "" if lang in NO_LANGUAGE else lang


def is_account_activity(payload: Node) -> bool:
    return payload.has("for_user_id") or any(payload.has(key) for key in ENGAGEMENT_EVENTS)


def read_account_activity(payload: Node, out: Output) -> None:
    subscribed = payload.opt_str("for_user_id")
    seen: set[str] = set()  # a tweet nested in several events of one body is read once
    out.each(payload.opt_objs("tweet_create_events"), lambda tweet: _tweet(tweet, subscribed, seen, out))
    out.each(payload.opt_objs("favorite_events"), lambda event: _favorite(event, subscribed, seen, out))
    out.each(payload.opt_objs("follow_events"), lambda event: _follow(event, out))


def created_ms(node: Node, key: str = "created_at") -> int:
    """v1.1 `created_at` ("Wed Oct 10 20:19:24 +0000 2018"), read without the locale (strptime's %a/%b use it)."""
    text = node.opt_str(key)
    if not text:
        raise PayloadError(f"missing {node.at(key)}")
    parts = text.split()
    try:
        if len(parts) != 6 or parts[1] not in _MONTHS:
            raise ValueError(text)
        hour, minute, second = (int(p) for p in parts[3].split(":"))
        offset = parts[4]  # +HHMM
        if len(offset) != 5 or offset[0] not in "+-":
            raise ValueError(offset)
        zone = timezone((-1 if offset[0] == "-" else 1) * timedelta(hours=int(offset[1:3]), minutes=int(offset[3:])))
        when = datetime(int(parts[5]), _MONTHS.index(parts[1]) + 1, int(parts[2]), hour, minute, second,
                        tzinfo=zone)
    except ValueError:
        raise PayloadError(f"{node.at(key)} is not a v1.1 timestamp: {text[:40]!r}") from None
    try:
        return parse_time(when.isoformat(), node.at(key))  # the same plausibility range as every other time
    except PayloadError:
        raise PayloadError(f"{node.at(key)} is out of range: {text[:40]!r}") from None


def _actor(user: Node) -> Actor:
    return Actor(user.string("id_str"), user.opt_str("screen_name"), user.opt_int("followers_count"),
                 user.opt_bool("verified"))


def _text(tweet: Node) -> str:
    extended = tweet.opt_obj("extended_tweet")
    full = extended.opt_str("full_text") if extended is not None else ""
    return full or tweet.opt_str("full_text") or tweet.opt_str("text")


def _mentions(tweet: Node, user_id: str) -> bool:
    entities = tweet.opt_obj("entities")
    if not user_id or entities is None:
        return False
    return any(m.opt_str("id_str") == user_id for m in entities.opt_objs("user_mentions"))


def _tweet(tweet: Node, subscribed: str, seen: set[str], out: Output, *, nested: bool = False) -> str:
    """Emits the tweet (and the tweets nested in it) unless this body already did; returns its id."""
    tweet_id = tweet.string("id_str")
    if tweet_id in seen:
        return tweet_id
    seen.add(tweet_id)
    created = created_ms(tweet)
    author = _actor(tweet.obj("user"))
    url = tweet_url(author.handle, tweet_id)
    retweeted = tweet.opt_obj("retweeted_status")
    if retweeted is not None:
        out.event("share", tweet_id, created, author, target=_tweet(retweeted, subscribed, seen, out, nested=True),
                  url=url)
        return tweet_id
    text, lang = _text(tweet), language(tweet.opt_str("lang"))
    quoted = tweet.opt_str("quoted_status_id_str")
    parent = tweet.opt_str("in_reply_to_status_id_str")
    if parent:
        out.event("comment", tweet_id, created, author, target=parent, text=text, url=url, lang=lang)
    elif quoted:
        out.event("share", tweet_id, created, author, target=quoted, text=text, url=url, lang=lang)
    elif not nested and author.id != subscribed and _mentions(tweet, subscribed):
        out.event("mention", tweet_id, created, author, text=text, url=url, lang=lang)
    else:
        out.event("post", tweet_id, created, author, text=text, url=url, lang=lang)
    quoted_status = tweet.opt_obj("quoted_status")
    if quoted_status is not None:
        _tweet(quoted_status, subscribed, seen, out, nested=True)
    return tweet_id


def _favorite(event: Node, subscribed: str, seen: set[str], out: Output) -> None:
    liker = _actor(event.obj("user"))
    stamp = event.opt_int("timestamp_ms")
    when = epoch_ms(stamp, event.at("timestamp_ms")) if stamp is not None else created_ms(event)
    tweet_id = _tweet(event.obj("favorited_status"), subscribed, seen, out, nested=True)
    out.event("like", f"{tweet_id}:like:{liker.id}", when, liker, target=tweet_id)


def _follow(event: Node, out: Output) -> None:
    if event.opt_str("type") not in ("", "follow"):
        return  # follow_events carries only follows; anything else is not engagement
    source = _actor(event.obj("source"))
    target = event.obj("target").string("id_str")
    stamp = event.opt_int("created_timestamp")
    when = epoch_ms(stamp, event.at("created_timestamp"))
    out.event("follow", f"follow:{source.id}:{target}:{when}", when, source)
