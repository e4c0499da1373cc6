"""Google+ (retired 2019): posts from a Google Takeout archive (`Google+ Stream/Posts/*.json`),
one file's object per envelope.

Takeout post: `resourceName` (`users/<id>/posts/<id>`), `url`, `creationTime` / `updateTime`
(`2018-03-01 12:34:56+0000`), `author` (`displayName`, `resourceName` `users/<id>`,
`profilePageUrl`), `content` (HTML), `link`, `resharedPost` (`author`, `content`, `url`,
`resourceName`), `comments` (`resourceName`, `author`, `content`, `creationTime`, `postUrl`),
`plusOnes` (`plusOner`), `reshares` (`resharer`).

* the post → `post`, or `share` of `resharedPost` (its `resourceName`, else its `url`);
* each comment → `comment` on the post;
* each +1 → `like`, id `<post>:plusone:<person>`; each reshare → `share`, id
  `<post>:reshare:<person>`. The export does not date +1s and reshares: they are dated at the
  post's `updateTime` (its last activity), else its `creationTime`.
"""

from __future__ import annotations

from schemas.adapters.fields import Node, html_text
from schemas.adapters.output import Actor, Output

PLATFORM = "googleplus"


def _person(person: Node) -> Actor:
    return Actor(person.opt_str("resourceName") or person.string("profilePageUrl"), person.opt_str("displayName"))


def read(post: Node, out: Output) -> None:
    post_id = post.opt_str("resourceName") or post.string("url")
    created = post.time_ms("creationTime")
    author = _person(post.obj("author"))
    text = _text(post)
    reshared = post.opt_obj("resharedPost")
    if reshared is not None:
        original = reshared.opt_str("resourceName") or reshared.string("url")
        out.event("share", post_id, created, author, target=original, text=text, url=post.opt_str("url"))
    else:
        out.event("post", post_id, created, author, text=text, url=post.opt_str("url"))
    activity = post.opt_time_ms("updateTime") or created
    out.each(post.opt_objs("comments"), lambda comment: _comment(comment, post_id, out))
    out.each(post.opt_objs("plusOnes"), lambda plus: _engagement(plus, "plusOner", "like", "plusone", post_id,
                                                                  activity, out))
    out.each(post.opt_objs("reshares"), lambda share: _engagement(share, "resharer", "share", "reshare", post_id,
                                                                   activity, out))


def _text(node: Node) -> str:
    text = html_text(node.opt_str("content"))
    link = node.opt_obj("link")
    title = link.opt_str("title") if link is not None else ""
    return "\n".join(t for t in (text, title) if t)


def _comment(comment: Node, post_id: str, out: Output) -> None:
    out.event("comment", comment.opt_str("resourceName") or f"{post_id}/comments/{comment.string('creationTime')}",
              comment.time_ms("creationTime"), _person(comment.obj("author")), target=post_id,
              text=_text(comment), url=comment.opt_str("postUrl"))


def _engagement(item: Node, who: str, kind: str, slug: str, post_id: str, when: int, out: Output) -> None:
    person = _person(item.obj(who))
    out.event(kind, f"{post_id}:{slug}:{person.id}", when, person, target=post_id)
