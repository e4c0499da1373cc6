"""Forums on Discourse: post JSON (`/posts/<id>.json`, `/t/<topic>.json` `post_stream.posts`,
`/posts.json` `latest_posts`) and Discourse webhooks (`post_created` / `post_edited` bodies
`{"post": {...}}`, `post_liked` bodies `{"like": {"post": {...}, "user": {...}}}`).

Discourse numbers posts per site, so the envelope must name the forum: `site` (its base URL,
e.g. `https://forum.example.com`). Ids are the forum's own permalinks: a topic (its first post) is
`<site>/t/<topic_id>`, any other post `<site>/t/<topic_id>/<post_number>`.

* post number 1 → `post` (the topic; text = `topic_title` and the post), any other post →
  `comment` on the topic, or `reply` with `parent_id` = the post `reply_to_post_number` names
  (a reply to post 1 is a comment); text = `raw` when present, else `cooked` as plain text;
  time = `created_at`; deleted (`deleted_at`) or hidden posts still count, whisper/moderator
  action posts (`post_type` 3, 4) emit nothing;
* a like (webhook `like`) → `like` of the topic (`parent_id` = the post when it is not the first),
  id `<post id>:like:<user id>`, time = the envelope's `fetched_at` (when the webhook arrived), else
  the post's `updated_at` (Discourse sends no like time);
* `actions_summary` like count (action id 2), when the envelope has `fetched_at` → `like` unit
  events; `reply_count` / `reads` are not converted.
"""

from __future__ import annotations

from schemas.adapters.fields import Node, PayloadError, html_text
from schemas.adapters.output import Actor, Output

PLATFORM = "forum"
_LIKE_ACTION = 2
_SILENT_POST_TYPES = frozenset({3, 4})  # moderator action, whisper


def read(payload: Node, out: Output) -> None:
    site = out.require_site()
    if payload.has("like"):
        _like(payload.obj("like"), site, out)
    elif payload.has("post"):
        _post(payload.obj("post"), site, out)
    elif payload.has("post_stream"):
        out.each(payload.obj("post_stream").objs("posts"), lambda post: _post(post, site, out))
    elif payload.has("latest_posts"):
        out.each(payload.objs("latest_posts"), lambda post: _post(post, site, out))
    elif payload.has("post_number"):
        _post(payload, site, out)
    else:
        raise PayloadError("missing post_number (not a Discourse post, webhook or post list)")


def _ids(post: Node, site: str) -> tuple[str, str, int]:
    topic = f"{site}/t/{post.string('topic_id')}"
    number = post.opt_int("post_number")
    if number is None or number < 1:
        raise PayloadError(f"missing {post.at('post_number')}")
    return topic, topic if number == 1 else f"{topic}/{number}", number


def _author(post: Node) -> Actor:
    username = post.string("username")
    return Actor(post.opt_str("user_id") or username, username)


def _post(post: Node, site: str, out: Output) -> None:
    if post.opt_int("post_type") in _SILENT_POST_TYPES:
        return
    topic, post_id, number = _ids(post, site)
    created = post.time_ms("created_at")
    text = post.opt_str("raw") or html_text(post.opt_str("cooked"))
    url = f"{site}/t/{post.opt_str('topic_slug') or '-'}/{post.string('topic_id')}/{number}"
    if number == 1:
        title = post.opt_str("topic_title")
        out.event("post", post_id, created, _author(post), text=f"{title}\n{text}" if title else text, url=url)
    else:
        replied = post.opt_int("reply_to_post_number")
        if replied is not None and replied > 1:
            out.event("reply", post_id, created, _author(post), target=topic, parent=f"{topic}/{replied}",
                      text=text, url=url)
        else:
            out.event("comment", post_id, created, _author(post), target=topic, text=text, url=url)
    for action in post.opt_objs("actions_summary"):
        if action.opt_int("id") == _LIKE_ACTION:
            out.counter(topic, "likes", "like", action.opt_int("count"), parent="" if number == 1 else post_id,
                        created_ms=created)


def _like(like: Node, site: str, out: Output) -> None:
    post = like.obj("post")
    topic, post_id, number = _ids(post, site)
    user = like.obj("user")
    actor = Actor(user.string("id"), user.opt_str("username"))
    when = out.fetched_at_ms or post.opt_time_ms("updated_at") or post.time_ms("created_at")
    out.event("like", f"{post_id}:like:{actor.id}", when, actor, target=topic, parent="" if number == 1 else post_id)
