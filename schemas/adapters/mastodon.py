"""Mastodon: `Status` entities (timelines, `/api/v1/statuses/:id`, streaming `update`) and
`Notification` entities (`/api/v1/notifications`, streaming `notification`).

Ids are the ids of the instance the connector reads (a status has a different id on every
instance; `in_reply_to_id` and `reblog.id` use the same instance's ids), so connect each account
through one instance.

* status → `post`; with `in_reply_to_id` → `comment` on the status replied to (Mastodon does not
  say which status started the thread, so `target_id` is the status replied to);
* status with `reblog` → `share` of `reblog.id`, id `<reblog.id>:reblog:<account.id>` (the same id
  as the reblog notification), plus the reblogged status itself;
* notification `favourite` → `like` (id `<status.id>:favourite:<account.id>`), `reblog` → `share`
  (id as above), `mention` → `mention` (id = the status id; a mention that replies is a
  `comment`), `follow` → `follow` (id `follow:<account.id>:<notification id>`); `status`, `poll`,
  `update` and admin notifications carry no new engagement and emit nothing (`status` and
  `update` statuses arrive as statuses);
* `favourites_count` → `like` and `reblogs_count` → `share` unit events when the envelope has
  `fetched_at`; `replies_count` is not converted.

Content is HTML; its text is kept. `account.acct` is the handle, `followers_count` the followers.
"""

from __future__ import annotations

from schemas.adapters.fields import Node, PayloadError, html_text
from schemas.adapters.output import Actor, Output

PLATFORM = "mastodon"
_SILENT_NOTIFICATIONS = frozenset({"status", "update", "poll", "follow_request", "admin.sign_up", "admin.report",
                                   "severed_relationships", "moderation_warning", "annual_report"})


def read(payload: Node, out: Output) -> None:
    if payload.has("type") and not payload.has("content"):
        _notification(payload, out)
    else:
        _status(payload, out, nested=False)


def _account(account: Node) -> Actor:
    return Actor(account.string("id"), account.opt_str("acct") or account.opt_str("username"),
                 account.opt_int("followers_count"), None)


def _status(status: Node, out: Output, *, nested: bool) -> str:
    status_id = status.string("id")
    created = status.time_ms("created_at")
    author = _account(status.obj("account"))
    reblog = status.opt_obj("reblog")
    if reblog is not None and not nested:
        original = _status(reblog, out, nested=True)
        out.event("share", f"{original}:reblog:{author.id}", created, author, target=original,
                  url=status.opt_str("url"))
        return status_id
    text = html_text(status.opt_str("content"))
    spoiler = status.opt_str("spoiler_text")
    text = f"{spoiler}\n{text}" if spoiler else text
    url = status.opt_str("url") or status.opt_str("uri")
    lang = status.opt_str("language")
    parent = status.opt_str("in_reply_to_id")
    if parent:
        out.event("comment", status_id, created, author, target=parent, text=text, url=url, lang=lang)
    else:
        out.event("post", status_id, created, author, text=text, url=url, lang=lang)
    out.counter(status_id, "favourites", "like", status.opt_int("favourites_count"), created_ms=created)
    out.counter(status_id, "reblogs", "share", status.opt_int("reblogs_count"), created_ms=created)
    return status_id


def _notification(note: Node, out: Output) -> None:
    kind = note.string("type")
    if kind in _SILENT_NOTIFICATIONS:
        return
    created = note.time_ms("created_at")
    actor = _account(note.obj("account"))
    if kind == "follow":
        out.event("follow", f"follow:{actor.id}:{note.string('id')}", created, actor)
        return
    status = note.obj("status")
    if kind == "mention":
        if status.has("in_reply_to_id"):
            _status(status, out, nested=True)
        else:
            out.event("mention", status.string("id"), created, actor, text=html_text(status.opt_str("content")),
                      url=status.opt_str("url"), lang=status.opt_str("language"))
        return
    status_id = status.string("id")
    if kind == "favourite":
        out.event("like", f"{status_id}:favourite:{actor.id}", created, actor, target=status_id)
    elif kind == "reblog":
        out.event("share", f"{status_id}:reblog:{actor.id}", created, actor, target=status_id)
    else:
        raise PayloadError(f"{note.at('type')}: unsupported {kind[:40]!r}")
