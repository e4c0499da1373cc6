"""Blogs on WordPress: REST API `wp/v2/posts` and `wp/v2/comments` objects. Canonical platform `blog`
(shared with RSS/Atom feeds: schemas/adapters/feed.py).

Ids follow WordPress's own GUIDs, which its RSS feeds carry too: a post is `<site>/?p=<id>` and a
comment `<site>/?p=<post>#comment-<id>`, where `<site>` is the scheme and host of the object's
`link` (override with the envelope's `site` for blogs installed under a path).

* post (`type: post` or `page`, `status: publish`) → `post`, text = title, excerpt (or content)
  as plain text, time = `date_gmt` (UTC without offset, as WordPress sends it), actor = the
  embedded author's `slug` (`?_embed`) or the numeric `author`;
* comment (`post`, `parent`, `author_name`, `date_gmt`, `content.rendered`) → `comment` on the
  post, or `reply` with `parent_id` = the comment `parent`; anonymous commenters (`author: 0`) are
  identified by `author_name`. Comments not `approved` (spam, trash, hold) emit nothing, nor do
  posts that are not published.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from schemas.adapters.fields import Node, PayloadError, html_text, parse_time
from schemas.adapters.output import Actor, Output

PLATFORM = "blog"


def read(payload: Node, out: Output) -> None:
    if (payload.has("post") and payload.has("author_name")) or payload.opt_str("type") == "comment":
        _comment(payload, out)
    elif payload.has("guid") or payload.has("title"):
        _post(payload, out)
    else:
        raise PayloadError("missing title or post (not a WordPress post or comment)")


def _site(node: Node, out: Output) -> str:
    if out.site:
        return out.site
    parts = urlsplit(node.string("link"))
    if not parts.scheme or not parts.netloc:
        raise PayloadError(f"{node.at('link')} is not an absolute URL")
    return f"{parts.scheme}://{parts.netloc}"


def _gmt(node: Node) -> int:
    value = node.opt_str("date_gmt")
    if not value:
        raise PayloadError(f"missing {node.at('date_gmt')}")
    return parse_time(value if value.endswith("Z") or "+" in value[10:] else f"{value}Z", node.at("date_gmt"))


def _rendered(node: Node, key: str) -> str:
    part = node.opt_obj(key)
    return html_text(part.opt_str("rendered")) if part is not None else ""


def _post(post: Node, out: Output) -> None:
    if post.opt_str("status") not in ("", "publish"):
        return
    post_id = f"{_site(post, out)}/?p={post.string('id')}"
    author = Actor(post.string("author"))
    embedded = post.opt_obj("_embedded")
    if embedded is not None:
        for person in embedded.opt_objs("author")[:1]:
            author = Actor(person.opt_str("slug") or author.id, person.opt_str("name"))
    text = "\n".join(t for t in (_rendered(post, "title"), _rendered(post, "excerpt") or _rendered(post, "content"))
                     if t)
    out.event("post", post_id, _gmt(post), author, text=text, url=post.opt_str("link"))


def _comment(comment: Node, out: Output) -> None:
    if comment.opt_str("status") not in ("", "approved", "approve"):
        return
    post_id = f"{_site(comment, out)}/?p={comment.string('post')}"
    comment_id = f"{post_id}#comment-{comment.string('id')}"
    user = comment.opt_str("author")
    name = comment.opt_str("author_name")
    actor = Actor(user if user not in ("", "0") else f"name:{name or 'anonymous'}", name)
    parent = comment.opt_str("parent")
    text = _rendered(comment, "content")
    url = comment.opt_str("link")
    if parent not in ("", "0"):
        out.event("reply", comment_id, _gmt(comment), actor, target=post_id, parent=f"{post_id}#comment-{parent}",
                  text=text, url=url)
    else:
        out.event("comment", comment_id, _gmt(comment), actor, target=post_id, text=text, url=url)
