"""Facebook pages and fan pages: Graph API page webhooks, and page post objects (polling).

Webhook payload (the POST body Facebook sends, `object: page`):
`{"object": "page", "entry": [{"id": page_id, "time": epoch_s, "changes": [{"field": "feed",
"value": {...}}]}]}`. Every change becomes at most one event; a bad change is reported and the
others are still read.

`field: feed` — `value.item` and `value.verb`:

* `status`, `post`, `photo`, `video`, `share` → `post` (`value.post_id`, `value.message`);
* `comment` → `comment` on `value.post_id`; when `value.parent_id` is another comment (not the
  post) → `reply` with `parent_id` = that comment;
* `reaction`, `like` → `like` of `post_id` (of the comment `comment_id` when present: `parent_id`).
  One person has one reaction per object, so the id is `<object>:reaction:<person>` and changing
  a reaction's type (`verb: edit`) is the same event;
* `verb` `add`, `edit`, `edited` produce the event (an edit of something never seen still proves
  it exists; one already seen is dropped by the dedupe); `remove`, `hide`, `unhide` produce none
  (counts never go down).

`field: mention` (the page was mentioned in a post or comment) → `mention` (`value.post_id` or
`value.comment_id`). The actor is `value.from.id`, else `value.sender_id`. `created_time` is epoch
seconds (webhooks) or ISO 8601 (Graph API).

Page post object (`GET /{page-id}/posts?fields=id,message,created_time,from,permalink_url,
shares,reactions.summary(total_count)`), recognised by `id` + `created_time` without `entry`: a
`post`, plus `shares.count` → `share` and `reactions.summary.total_count` → `like` unit events
when the envelope has `fetched_at`.
"""

from __future__ import annotations

from schemas.adapters.fields import Node, PayloadError
from schemas.adapters.output import Actor, Output

PLATFORM = "facebook"
_POST_ITEMS = frozenset({"status", "post", "photo", "video", "share"})
_EMITTING_VERBS = frozenset({"add", "edit", "edited"})
_SILENT_VERBS = frozenset({"remove", "hide", "unhide", "delete"})


def read(payload: Node, out: Output) -> None:
    if not payload.has("entry") and payload.has("id") and payload.has("created_time"):
        _page_post(payload, out)
        return
    for entry in payload.objs("entry"):
        out.each(entry.objs("changes"), lambda change: _change(change, out))


def _actor(value: Node) -> Actor:
    sender = value.opt_obj("from")
    if sender is not None:
        return Actor(sender.string("id"), sender.opt_str("name"))
    if value.has("sender_id"):
        return Actor(value.string("sender_id"), value.opt_str("sender_name"))
    raise PayloadError(f"missing {value.at('from.id')}")


def _change(change: Node, out: Output) -> None:
    field = change.string("field")
    value = change.obj("value")
    if field not in ("feed", "mention"):
        raise PayloadError(f"{change.at('field')}: unsupported {field[:40]!r} (feed and mention are read)")
    verb = value.opt_str("verb") or "add"
    if verb in _SILENT_VERBS:
        return
    if verb not in _EMITTING_VERBS:
        raise PayloadError(f"{value.at('verb')}: unknown {verb[:40]!r}")
    when = value.time_ms("created_time")
    if field == "mention":
        mention_id = value.opt_str("comment_id") or value.string("post_id")
        out.event("mention", mention_id, when, _actor(value), text=value.opt_str("message"))
        return
    item = value.string("item")
    post_id = value.string("post_id")
    if item in _POST_ITEMS:
        out.event("post", post_id, when, _actor(value), text=value.opt_str("message"),
                  url=value.opt_str("permalink_url") or value.opt_str("link"))
    elif item == "comment":
        comment_id = value.string("comment_id")
        parent = value.opt_str("parent_id")
        if parent and parent != post_id:
            out.event("reply", comment_id, when, _actor(value), target=post_id, parent=parent,
                      text=value.opt_str("message"))
        else:
            out.event("comment", comment_id, when, _actor(value), target=post_id, text=value.opt_str("message"))
    elif item in ("reaction", "like"):
        actor = _actor(value)
        comment_id = value.opt_str("comment_id")
        out.event("like", f"{comment_id or post_id}:reaction:{actor.id}", when, actor, target=post_id,
                  parent=comment_id)
    else:
        raise PayloadError(f"{value.at('item')}: unsupported {item[:40]!r}")


def _page_post(post: Node, out: Output) -> None:
    post_id = post.string("id")
    created = post.time_ms("created_time")
    author = _actor(post) if post.has("from") else Actor(post_id.split("_", 1)[0])  # page posts: <page>_<post>
    out.event("post", post_id, created, author, text=post.opt_str("message"), url=post.opt_str("permalink_url"))
    shares = post.opt_obj("shares")
    if shares is not None:
        out.counter(post_id, "shares", "share", shares.opt_int("count"), created_ms=created)
    reactions = post.opt_obj("reactions")
    summary = reactions.opt_obj("summary") if reactions is not None else None
    if summary is not None:
        out.counter(post_id, "reactions", "like", summary.opt_int("total_count"), created_ms=created)
