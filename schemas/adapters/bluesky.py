"""Bluesky (AT Protocol): `app.bsky.feed.post`, `app.bsky.feed.like` and `app.bsky.feed.repost`
records, in the three shapes connectors get them:

* a post view (`app.bsky.feed.getPosts`, `getAuthorFeed` items' `post`, `searchPosts`):
  `{"uri", "cid", "author": {"did", "handle"}, "record": {...}, "likeCount", "repostCount",
  "quoteCount", "replyCount", "indexedAt"}`;
* a repository record (`com.atproto.repo.listRecords` / `getRecord`): `{"uri", "cid", "value": {...}}`;
* a Jetstream commit event: `{"did", "time_us", "kind": "commit", "commit": {"operation",
  "collection", "rkey", "cid", "record": {...}}}` (the uri is `at://<did>/<collection>/<rkey>`).

Ids are the record's `at://` uri (global and stable); the actor is the DID in it; time is the
record's `createdAt`.

* post → `post`; with `reply` → `comment` on `reply.root.uri`, or `reply` with `parent_id` =
  `reply.parent.uri` when the parent is not the root; with an embedded record
  (`app.bsky.embed.record`, or `recordWithMedia`) and no reply → `share` (a quote) of that record;
* like → `like` of `subject.uri`; repost → `share` of `subject.uri`;
* post view counters (when the envelope has `fetched_at`): `likeCount` → `like`, `repostCount`
  and `quoteCount` → `share` unit events; `replyCount` is not converted;
* Jetstream `delete`/`update` operations, `identity` and `account` events and other collections
  (follows, blocks, profiles) emit nothing.
"""

from __future__ import annotations

from schemas.adapters.fields import Node, PayloadError
from schemas.adapters.output import Actor, Output

PLATFORM = "bluesky"
_POST = "app.bsky.feed.post"
_LIKE = "app.bsky.feed.like"
_REPOST = "app.bsky.feed.repost"


def read(payload: Node, out: Output) -> None:
    if payload.has("commit") or payload.has("time_us"):
        _jetstream(payload, out)
        return
    uri = payload.string("uri")
    if payload.has("record"):
        record = payload.obj("record")
        author = payload.opt_obj("author")
        handle = author.opt_str("handle") if author is not None else ""
        created = _record(uri, record, handle, out)
        out.counter(uri, "likes", "like", payload.opt_int("likeCount"), created_ms=created)
        out.counter(uri, "reposts", "share", payload.opt_int("repostCount"), created_ms=created)
        out.counter(uri, "quotes", "share", payload.opt_int("quoteCount"), created_ms=created)
    else:
        _record(uri, payload.obj("value"), "", out)


def _jetstream(event: Node, out: Output) -> None:
    if event.string("kind") != "commit":
        return
    commit = event.obj("commit")
    if commit.string("operation") != "create":
        return
    collection = commit.string("collection")
    if collection not in (_POST, _LIKE, _REPOST):
        return
    _record(f"at://{event.string('did')}/{collection}/{commit.string('rkey')}", commit.obj("record"), "", out)


def _did(uri: str, path: str) -> str:
    if not uri.startswith("at://"):
        raise PayloadError(f"{path} must be an at:// uri, got {uri[:60]!r}")
    return uri[5:].split("/", 1)[0]


def _subject(node: Node, key: str) -> str:
    return node.obj(key).string("uri")


def _record(uri: str, record: Node, handle: str, out: Output) -> int | None:
    kind = record.string("$type")
    actor = Actor(_did(uri, "uri"), handle)
    created = record.time_ms("createdAt")
    if kind == _LIKE:
        out.event("like", uri, created, actor, target=_subject(record, "subject"))
        return created
    if kind == _REPOST:
        out.event("share", uri, created, actor, target=_subject(record, "subject"))
        return created
    if kind != _POST:
        raise PayloadError(f"{record.at('$type')}: unsupported {kind[:60]!r}")
    text = record.opt_str("text")
    langs = record.raw("langs")
    lang = langs[0] if isinstance(langs, list) and len(langs) == 1 and isinstance(langs[0], str) else ""
    rkey = uri.rsplit("/", 1)[-1]
    url = f"https://bsky.app/profile/{handle or actor.id}/post/{rkey}"
    reply = record.opt_obj("reply")
    quoted = _quoted(record.opt_obj("embed"))
    if reply is not None:
        root, parent = _subject(reply, "root"), _subject(reply, "parent")
        if parent == root:
            out.event("comment", uri, created, actor, target=root, text=text, url=url, lang=lang)
        else:
            out.event("reply", uri, created, actor, target=root, parent=parent, text=text, url=url, lang=lang)
    elif quoted:
        out.event("share", uri, created, actor, target=quoted, text=text, url=url, lang=lang)
    else:
        out.event("post", uri, created, actor, text=text, url=url, lang=lang)
    return created


def _quoted(embed: Node | None) -> str:
    if embed is None:
        return ""
    kind = embed.opt_str("$type")
    if kind == "app.bsky.embed.record":
        return _subject(embed, "record")
    if kind == "app.bsky.embed.recordWithMedia":
        return _subject(embed.obj("record"), "record")
    return ""
