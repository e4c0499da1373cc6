"""LinkedIn: UGC posts, Posts API posts, shares, and social actions (comments, likes, reactions,
the social-actions summary), as the REST APIs return them.

* ugcPost (`/v2/ugcPosts`): `id`, `author`, `created.time` / `firstPublishedAt` (epoch ms),
  `specificContent["com.linkedin.ugc.ShareContent"].shareCommentary.text` → `post`; a reshare
  (`responseContext.parent`) → `share` of the parent;
* post (`/rest/posts`): `id`, `author`, `commentary`, `publishedAt` / `createdAt` → `post`;
  `reshareContext.parent` → `share` of it;
* share (`/v2/shares`): `id` (bare number → `urn:li:share:<id>`), `owner`, `text.text`,
  `created.time` → `post`; `resharedShare` → `share`;
* comment (`/socialActions/{urn}/comments`): `actor`, `object` (the post), `message.text`,
  `created.time`, `parentComment` → `comment`, or `reply` with `parent_id`; id = `$URN`, else
  `urn:li:comment:(<object>,<id>)`;
* like (`/socialActions/{urn}/likes`): `actor`, `object`, `created.time` → `like`, id =
  `urn:li:like:(<actor>,<object>)`; reaction (`/rest/reactions`): `id`, `root`, `reactionType`,
  `created.actor`/`created.time` → `like`;
* social-actions summary (`/socialActions/{urn}`): `target`, `likesSummary.totalLikes` → `like`
  unit events when the envelope has `fetched_at` (it has no creation time: no age limit);
  `commentsSummary` is not converted.

Deleted content (`lifecycleState: DELETED`, or a `deleted` AuditStamp) emits nothing. LinkedIn
names one post with several URNs (`urn:li:activity:…` vs `urn:li:share:…`/`urn:li:ugcPost:…`);
engagement counts under the URN the API gave for its `object`.
"""

from __future__ import annotations

from schemas.adapters.fields import Node, PayloadError, epoch_ms
from schemas.adapters.output import Actor, Output

PLATFORM = "linkedin"
_SHARE_CONTENT = "com.linkedin.ugc.ShareContent"


def read(payload: Node, out: Output) -> None:
    if payload.has("deleted") or payload.opt_str("lifecycleState") == "DELETED":
        return
    if payload.has("likesSummary"):
        target = payload.opt_str("target") or payload.string("$URN")
        out.counter(target, "likes", "like", payload.obj("likesSummary").opt_int("totalLikes"))
    elif payload.has("reactionType"):
        _reaction(payload, out)
    elif payload.has("object") and payload.has("message"):
        _comment(payload, out)
    elif payload.has("object") and payload.has("actor"):
        actor, target = payload.string("actor"), payload.string("object")
        out.event("like", f"urn:li:like:({actor},{target})", _stamp(payload, "created"), Actor(actor),
                  target=target)
    elif payload.has("specificContent"):
        _ugc_post(payload, out)
    elif payload.has("commentary") or payload.has("reshareContext"):
        _post(payload, out)
    elif payload.has("owner"):
        _share(payload, out)
    else:
        raise PayloadError("missing specificContent, commentary, owner, object or likesSummary "
                           "(not a LinkedIn post, share, comment, like or summary)")


def _stamp(node: Node, key: str) -> int:
    return epoch_ms(node.obj(key).opt_int("time"), node.at(f"{key}.time"))


def _urn(value: str, kind: str) -> str:
    return value if value.startswith("urn:") else f"urn:li:{kind}:{value}"


def _emit_post(out: Output, post_id: str, when: int, author: str, text: str, parent: str) -> None:
    url = f"https://www.linkedin.com/feed/update/{post_id}/"
    if parent:
        out.event("share", post_id, when, Actor(author), target=parent, text=text, url=url)
    else:
        out.event("post", post_id, when, Actor(author), text=text, url=url)


def _ugc_post(post: Node, out: Output) -> None:
    content = post.obj("specificContent").opt_obj(_SHARE_CONTENT)
    commentary = content.opt_obj("shareCommentary") if content is not None else None
    published = post.opt_int("firstPublishedAt")
    when = epoch_ms(published, post.at("firstPublishedAt")) if published else _stamp(post, "created")
    context = post.opt_obj("responseContext")
    _emit_post(out, _urn(post.string("id"), "ugcPost"), when, post.string("author"),
               commentary.opt_str("text") if commentary is not None else "",
               context.opt_str("parent") if context is not None else "")


def _post(post: Node, out: Output) -> None:
    published = post.opt_int("publishedAt") or post.opt_int("createdAt")
    when = epoch_ms(published, post.at("publishedAt"))
    context = post.opt_obj("reshareContext")
    _emit_post(out, _urn(post.string("id"), "share"), when, post.string("author"), post.opt_str("commentary"),
               context.string("parent") if context is not None else "")


def _share(share: Node, out: Output) -> None:
    text = share.opt_obj("text")
    _emit_post(out, _urn(share.string("id"), "share"), _stamp(share, "created"), share.string("owner"),
               text.opt_str("text") if text is not None else "", share.opt_str("resharedShare"))


def _comment(comment: Node, out: Output) -> None:
    target = comment.string("object")
    comment_id = comment.opt_str("$URN") or f"urn:li:comment:({target},{comment.string('id')})"
    when = _stamp(comment, "created")
    text = comment.obj("message").opt_str("text")
    parent = comment.opt_str("parentComment")
    actor = Actor(comment.string("actor"))
    if parent:
        out.event("reply", comment_id, when, actor, target=target, parent=parent, text=text)
    else:
        out.event("comment", comment_id, when, actor, target=target, text=text)


def _reaction(reaction: Node, out: Output) -> None:
    created = reaction.obj("created")
    actor = created.opt_str("actor") or reaction.string("actor")
    target = reaction.string("root")
    reaction_id = reaction.opt_str("id") or f"urn:li:reaction:({actor},{target})"
    out.event("like", reaction_id, _stamp(reaction, "created"), Actor(actor), target=target)
