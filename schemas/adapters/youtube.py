"""YouTube: Data API v3 `videos`, `commentThreads` and `comments` resources.

Payload: one resource (`kind: youtube#video`, `youtube#commentThread`, `youtube#comment`) or a
list response (`youtube#videoListResponse`, … with `items`). A bad item is reported and the
others are still read.

* video (`part=snippet,statistics`) → `post` (id = the video id, actor = `snippet.channelId`,
  text = title and description, time = `snippet.publishedAt`); `statistics` (when the envelope has
  `fetched_at`): `viewCount` → `view`, `likeCount` → `like` unit events; `commentCount` is not
  converted (comments come from commentThreads);
* commentThread → its `snippet.topLevelComment` as a `comment` on `snippet.videoId`, and the
  `replies.comments` it carries as `reply` events (`parent_id` = `snippet.parentId`);
* comment → `comment`, or `reply` when `snippet.parentId` is set (a reply resource must carry
  `snippet.videoId`, which `comments.list` returns); a comment's `likeCount` → `like` unit events
  (target the video, `parent_id` the comment).

Authors are channels: `snippet.authorChannelId.value`, handle `snippet.authorDisplayName`.
"""

from __future__ import annotations

from schemas.adapters.fields import Node, PayloadError
from schemas.adapters.output import Actor, Output

PLATFORM = "youtube"


def read(payload: Node, out: Output) -> None:
    kind = payload.string("kind")
    if kind.endswith("ListResponse"):
        out.each(payload.objs("items"), lambda item: _resource(item, out))
    else:
        _resource(payload, out)


def _resource(item: Node, out: Output) -> None:
    kind = item.string("kind")
    if kind == "youtube#video":
        _video(item, out)
    elif kind == "youtube#commentThread":
        snippet = item.obj("snippet")
        video_id = snippet.string("videoId")
        top = snippet.obj("topLevelComment")
        top_id = _comment(top, video_id, "", out)
        replies = item.opt_obj("replies")
        if replies is not None:
            out.each(replies.opt_objs("comments"), lambda reply: _comment(reply, video_id, top_id, out))
    elif kind == "youtube#comment":
        _comment(item, "", "", out)
    else:
        raise PayloadError(f"{item.at('kind')}: unsupported {kind[:40]!r}")


def _video(video: Node, out: Output) -> None:
    video_id = video.string("id")
    snippet = video.obj("snippet")
    published = snippet.time_ms("publishedAt")
    text = "\n".join(t for t in (snippet.opt_str("title"), snippet.opt_str("description")) if t)
    out.event("post", video_id, published, Actor(snippet.string("channelId"), snippet.opt_str("channelTitle")),
              text=text, url=f"https://www.youtube.com/watch?v={video_id}",
              lang=snippet.opt_str("defaultAudioLanguage") or snippet.opt_str("defaultLanguage"))
    stats = video.opt_obj("statistics")
    if stats is not None:
        out.counter(video_id, "views", "view", stats.opt_int("viewCount"), created_ms=published)
        out.counter(video_id, "likes", "like", stats.opt_int("likeCount"), created_ms=published)


def _comment(comment: Node, video_id: str, thread_parent: str, out: Output) -> str:
    comment_id = comment.string("id")
    snippet = comment.obj("snippet")
    video_id = snippet.opt_str("videoId") or video_id
    if not video_id:
        raise PayloadError(f"missing {snippet.at('videoId')}")
    parent = snippet.opt_str("parentId") or thread_parent
    published = snippet.time_ms("publishedAt")
    channel = snippet.opt_obj("authorChannelId")
    author = Actor(channel.string("value") if channel is not None else snippet.string("authorDisplayName"),
                   snippet.opt_str("authorDisplayName"))
    text = snippet.opt_str("textOriginal") or snippet.opt_str("textDisplay")
    url = f"https://www.youtube.com/watch?v={video_id}&lc={comment_id}"
    if parent:
        out.event("reply", comment_id, published, author, target=video_id, parent=parent, text=text, url=url)
    else:
        out.event("comment", comment_id, published, author, target=video_id, text=text, url=url)
    out.counter(video_id, "likes", "like", snippet.opt_int("likeCount"), parent=comment_id, created_ms=published)
    return comment_id
