"""Reddit: things as the JSON API returns them (`/r/<sub>/new.json`, `/comments/<id>.json`,
`/api/info.json`): `{"kind": "t3" | "t1", "data": {...}}`, or a `Listing` of them (`data.children`;
a comments page, a list of two Listings, is sent as two envelopes).

* `t3` (link / self post) → `post`, id = its fullname `t3_<id>` (`data.name`), text = title and
  selftext, time = `created_utc`;
* `t1` (comment) → `comment` when `parent_id` is the post (`t3_…`), else `reply` with `parent_id`
  = the comment replied to; `target_id` = `link_id`. Nested `replies` Listings are read too;
* `score` (net votes, when the envelope has `fetched_at`) → `vote` unit events (of the post, or of
  the comment with `parent_id` = the comment); `num_comments` is not converted (comments arrive
  as t1 things). Deleted items keep their event (the engagement happened); `[deleted]` /
  `[removed]` bodies become no text;
* `t2` (account), `t5` (subreddit), `more` stubs carry no engagement and emit nothing.
"""

from __future__ import annotations

from schemas.adapters.fields import Node, PayloadError
from schemas.adapters.output import Actor, Output

PLATFORM = "reddit"
_GONE = frozenset({"[deleted]", "[removed]"})
_NOT_ENGAGEMENT = frozenset({"t2", "t4", "t5", "more", "LabeledMulti", "UserList"})
MAX_DEPTH = 50


def read(payload: Node, out: Output) -> None:
    _thing(payload, out, 0)


def _thing(thing: Node, out: Output, depth: int) -> None:
    kind = thing.string("kind")
    data = thing.obj("data")
    if kind == "Listing":
        if depth < MAX_DEPTH:
            out.each(data.objs("children"), lambda child: _thing(child, out, depth + 1))
    elif kind == "t3":
        _post(data, out)
    elif kind == "t1":
        _comment(data, out)
        replies = data.raw("replies")
        if isinstance(replies, dict) and depth < MAX_DEPTH:  # "" when there are none
            _thing(data.obj("replies"), out, depth + 1)
    elif kind not in _NOT_ENGAGEMENT:
        raise PayloadError(f"{thing.at('kind')}: unsupported {kind[:40]!r}")


def _author(data: Node) -> Actor:
    name = data.string("author")
    return Actor(data.opt_str("author_fullname") or name, name)


def _text(*parts: str) -> str:
    return "\n".join(p for p in parts if p and p not in _GONE)


def _post(data: Node, out: Output) -> None:
    post_id = data.opt_str("name") or f"t3_{data.string('id')}"
    created = data.time_ms("created_utc")
    permalink = data.opt_str("permalink")
    out.event("post", post_id, created, _author(data), text=_text(data.opt_str("title"), data.opt_str("selftext")),
              url=f"https://www.reddit.com{permalink}" if permalink.startswith("/") else data.opt_str("url"))
    out.counter(post_id, "votes", "vote", data.opt_int("score"), created_ms=created)


def _comment(data: Node, out: Output) -> None:
    comment_id = data.opt_str("name") or f"t1_{data.string('id')}"
    created = data.time_ms("created_utc")
    post_id = data.string("link_id")
    parent = data.string("parent_id")
    permalink = data.opt_str("permalink")
    url = f"https://www.reddit.com{permalink}" if permalink.startswith("/") else ""
    text = _text(data.opt_str("body"))
    if parent == post_id:
        out.event("comment", comment_id, created, _author(data), target=post_id, text=text, url=url)
    else:
        out.event("reply", comment_id, created, _author(data), target=post_id, parent=parent, text=text, url=url)
    out.counter(post_id, "votes", "vote", data.opt_int("score"), parent=comment_id, created_ms=created)
