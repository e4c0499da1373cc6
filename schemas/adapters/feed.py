"""Blogs and sites with an RSS or Atom feed, including comment feeds. Canonical platform `blog`.

`pulse poll-feeds` (a later change) fetches feeds and sends one envelope per entry; the payload
is the entry as feedparser gives it, in JSON (times as strings):

```json
{"id": "https://blog.example.com/?p=123",            // RSS <guid> / Atom <id>; "guid" is accepted too
 "link": "https://blog.example.com/2026/11/hello/",   // the entry's permalink
 "title": "Hello", "summary": "<p>HTML or text</p>",
 "content": [{"type": "text/html", "value": "<p>full text</p>"}],     // optional
 "author": "Jane Doe", "author_detail": {"name": "Jane Doe", "href": "https://jane.example"},
 "published": "Sat, 21 Nov 2026 10:00:05 +0000",      // RFC 822 (RSS) or RFC 3339 (Atom); else "updated"
 "comments": "https://blog.example.com/2026/11/hello/#comments",      // optional
 "feed": {"link": "https://blog.example.com/", "title": "Example blog"},  // the feed it came from
 "parent_id": "https://blog.example.com/?p=123",      // comment entries: the id of the entry commented on
 "parent_link": "https://blog.example.com/2026/11/hello/"}  // ... or its link, when the id is unknown
```

* an entry → `post`, id = `id` (else `guid`, else `link`), text = title and summary (or content)
  as plain text, time = `published`, else `updated`;
* a comment entry (it has `parent_id` or `parent_link`, or its id is `<post id>#comment-<n>` as in
  WordPress comment feeds) → `comment` with `target_id` = `parent_id`, else the id before
  `#comment-`, else `parent_link`; when the parent is itself a comment (`…#comment-<n>`) → `reply`
  with `parent_id` = it and `target_id` = its post. Posts and their comments meet when the parent
  is named by its id; `parent_link` only matches entries whose id is their link;
* the actor is `author_detail.href`, else the author's name, else the feed's (or entry's) site.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from schemas.adapters.fields import Node, PayloadError, html_text
from schemas.adapters.output import Actor, Output

PLATFORM = "blog"
_COMMENT_MARK = "#comment-"


def read(payload: Node, out: Output) -> None:
    entry_id = payload.opt_str("id") or payload.opt_str("guid") or payload.opt_str("link")
    if not entry_id:
        raise PayloadError("missing id (or guid, or link)")
    when = payload.opt_time_ms("published")
    if when is None:
        when = payload.opt_time_ms("updated")
    if when is None:
        raise PayloadError("missing published (or updated)")
    text = "\n".join(t for t in (html_text(payload.opt_str("title")), _body(payload)) if t)
    url = payload.opt_str("link")
    actor = _actor(payload)
    parent = payload.opt_str("parent_id") or _post_of(entry_id) or payload.opt_str("parent_link")
    if not parent:
        out.event("post", entry_id, when, actor, text=text, url=url)
    elif _COMMENT_MARK in parent:
        out.event("reply", entry_id, when, actor, target=_post_of(parent), parent=parent, text=text, url=url)
    else:
        out.event("comment", entry_id, when, actor, target=parent, text=text, url=url)


def _post_of(entry_id: str) -> str:
    post, mark, number = entry_id.rpartition(_COMMENT_MARK)
    return post if mark and post and number.isdigit() else ""


def _body(entry: Node) -> str:
    summary = html_text(entry.opt_str("summary"))
    if summary:
        return summary
    for part in entry.opt_objs("content")[:1]:
        return html_text(part.opt_str("value"))
    return ""


def _actor(entry: Node) -> Actor:
    detail = entry.opt_obj("author_detail")
    name = entry.opt_str("author") or (detail.opt_str("name") if detail is not None else "")
    href = detail.opt_str("href") if detail is not None else ""
    if href or name:
        return Actor(href or f"name:{name}", name)
    feed = entry.opt_obj("feed")
    site = (feed.opt_str("link") if feed is not None else "") or entry.opt_str("link")
    host = urlsplit(site).netloc
    if not host:
        raise PayloadError("missing author (or author_detail.href, or feed.link)")
    return Actor(host)
