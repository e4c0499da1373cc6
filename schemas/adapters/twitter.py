"""Twitter / X: API v2 tweet payloads (`GET /2/tweets`, search, timelines, filtered stream).

Payload: `{"data": tweet | [tweet, ...], "includes": {"users": [...], "tweets": [...]}}` with
`tweet.fields=created_at,author_id,conversation_id,referenced_tweets,public_metrics,lang` and
`expansions=author_id,referenced_tweets.id`. Every tweet in `data` and in `includes.tweets` (the
quoted, retweeted and replied-to tweets) becomes an event; authors come from `includes.users`.

* plain tweet → `post`;
* `referenced_tweets[type=replied_to]` → `comment` when it replies to the conversation's root
  (`conversation_id`), else `reply` with `parent_id` = the tweet replied to; `target_id` = the root;
* `retweeted` → `share` of the retweeted tweet (no text: it is the original's);
* `quoted` → `share` of the quoted tweet, with the quote's own text;
* `public_metrics` (when the envelope has `fetched_at`): like_count → `like`, retweet_count and
  quote_count → `share`, impression_count → `view` unit events (schemas/adapters/output.py);
  reply_count is not converted (replies arrive as tweets). Retweets carry the original's metrics,
  so theirs are ignored.

Account Activity webhook bodies (`for_user_id`, `tweet_create_events`, `favorite_events`, ...; v1.1
objects) are read by schemas/adapters/twitter_v1.py, with the same ids.
"""

from __future__ import annotations

from schemas.adapters.fields import Node
from schemas.adapters.output import Actor, Output
from schemas.adapters.twitter_v1 import is_account_activity, language, read_account_activity, tweet_url

PLATFORM = "twitter"
_METRICS = (("like_count", "likes", "like"), ("retweet_count", "retweets", "share"),
            ("quote_count", "quotes", "share"), ("impression_count", "views", "view"))


def read(payload: Node, out: Output) -> None:
    if is_account_activity(payload):
        read_account_activity(payload, out)
        return
    tweets = payload.objs("data") if isinstance(payload.raw("data"), list) else [payload.obj("data")]
    includes = payload.opt_obj("includes")
    users: dict[str, Node] = {}
    if includes is not None:
        for user in includes.opt_objs("users"):
            users[user.string("id")] = user
        tweets += includes.opt_objs("tweets")
    out.each(tweets, lambda tweet: _tweet(tweet, users, out))


def _author(author_id: str, user: Node | None) -> Actor:
    if user is None:
        return Actor(author_id)
    metrics = user.opt_obj("public_metrics")
    return Actor(author_id, user.opt_str("username"), metrics.opt_int("followers_count") if metrics else None,
                 user.opt_bool("verified"))


def _tweet(tweet: Node, users: dict[str, Node], out: Output) -> None:
    tweet_id = tweet.string("id")
    created = tweet.time_ms("created_at")
    author = _author(tweet.string("author_id"), users.get(tweet.string("author_id")))
    refs = {ref.string("type"): ref.string("id") for ref in tweet.opt_objs("referenced_tweets")}
    text = tweet.opt_str("text")
    url = tweet_url(author.handle, tweet_id)
    lang = language(tweet.opt_str("lang"))
    if "retweeted" in refs:
        out.event("share", tweet_id, created, author, target=refs["retweeted"], url=url)
        return
    if "replied_to" in refs:
        parent = refs["replied_to"]
        root = tweet.opt_str("conversation_id") or parent
        kind = "comment" if parent == root else "reply"
        out.event(kind, tweet_id, created, author, target=root, parent="" if kind == "comment" else parent,
                  text=text, url=url, lang=lang)
    elif "quoted" in refs:
        out.event("share", tweet_id, created, author, target=refs["quoted"], text=text, url=url, lang=lang)
    else:
        out.event("post", tweet_id, created, author, text=text, url=url, lang=lang)
    metrics = tweet.opt_obj("public_metrics")
    if metrics is not None:
        for field, slug, kind in _METRICS:
            out.counter(tweet_id, slug, kind, metrics.opt_int(field), created_ms=created)
