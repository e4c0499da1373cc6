"""Classic Digg (2004–2012): stories, diggs and comments from an archive of the classic Digg API
(`/stories`, `/story/{id}/diggs`, `/story/{id}/comments` responses), one object or one response
(`{"stories": [...]}`, `{"diggs": [...]}`, `{"comments": [...]}`) per envelope:

* story: `{"id", "link", "href", "submit_date" (epoch s), "title", "description",
  "user": {"name"}, "diggs", "comments", "status"}` → `post` (id `story:<id>`, url = the
  Digg page `href`, else `link`); `diggs` → `vote` unit events when the envelope has
  `fetched_at` (an archive's export time); `comments` is not converted;
* digg: `{"date" (epoch s), "story", "user"}` → `vote` of the story (id `story:<story>:digg:<user>`:
  a user digs a story once);
* comment: `{"id", "date", "story", "user", "content", "replyto", "up", "down"}` → `comment`, or
  `reply` with `parent_id` = `comment:<replyto>`; `up` → `vote` unit events of the comment.

Users are identified by their name (Digg's API had no user ids).
"""

from __future__ import annotations

from schemas.adapters.fields import Node, PayloadError
from schemas.adapters.output import Actor, Output

PLATFORM = "digg"


def read(payload: Node, out: Output) -> None:
    if payload.has("stories"):
        out.each(payload.objs("stories"), lambda story: _story(story, out))
    elif payload.has("diggs") and isinstance(payload.raw("diggs"), list):
        out.each(payload.objs("diggs"), lambda digg: _digg(digg, out))
    elif payload.has("comments") and isinstance(payload.raw("comments"), list):
        out.each(payload.objs("comments"), lambda comment: _comment(comment, out))
    elif payload.has("submit_date"):
        _story(payload, out)
    elif payload.has("content"):
        _comment(payload, out)
    elif payload.has("story"):
        _digg(payload, out)
    else:
        raise PayloadError("missing submit_date, story or content (not a Digg story, digg or comment)")


def _user(node: Node) -> Actor:
    user = node.raw("user")
    name = node.obj("user").string("name") if isinstance(user, dict) else node.string("user")
    return Actor(name, name)


def _story(story: Node, out: Output) -> None:
    story_id = f"story:{story.string('id')}"
    created = story.time_ms("submit_date")
    text = "\n".join(t for t in (story.opt_str("title"), story.opt_str("description")) if t)
    out.event("post", story_id, created, _user(story), text=text, url=story.opt_str("href") or story.opt_str("link"))
    out.counter(story_id, "diggs", "vote", story.opt_int("diggs"), created_ms=created)


def _digg(digg: Node, out: Output) -> None:
    story_id = f"story:{digg.string('story')}"
    actor = _user(digg)
    out.event("vote", f"{story_id}:digg:{actor.id}", digg.time_ms("date"), actor, target=story_id)


def _comment(comment: Node, out: Output) -> None:
    story_id = f"story:{comment.string('story')}"
    comment_id = f"comment:{comment.string('id')}"
    created = comment.time_ms("date")
    parent = comment.opt_str("replyto")
    text = comment.opt_str("content")
    if parent:
        out.event("reply", comment_id, created, _user(comment), target=story_id, parent=f"comment:{parent}", text=text)
    else:
        out.event("comment", comment_id, created, _user(comment), target=story_id, text=text)
    out.counter(story_id, "ups", "vote", comment.opt_int("up"), parent=comment_id, created_ms=created)
