"""StumbleUpon (retired 2018): records of an archived account export. StumbleUpon never published
an export schema, so this is the documented shape the archive converter writes, one record per
envelope, from what the export held (the user's likes, dislikes, reviews, shares, stumbles and
submitted pages):

```json
{"type": "like", "url": "http://example.com/page", "title": "A page",
 "user": {"id": "12345", "username": "alice"}, "date": "2014-06-01T12:00:00Z",
 "review": "text of a review", "to": "bob", "id": "optional record id"}
```

`type` → kind: `submit` (the user discovered the page) → `post` (id = the URL); `like` (thumbs
up) → `like`; `dislike` (thumbs down) → `vote`; `review` → `comment` (text = `review`); `share`
→ `share`; `stumble` (the page was shown to the user) → `view`. Every engagement targets the page's
URL. `date` is RFC 3339 or epoch seconds. Ids are `id` when present, else `<url>:<type>:<user>`
(plus the time for reviews, shares and stumbles, which a user can repeat).
"""

from __future__ import annotations

from schemas.adapters.fields import Node, PayloadError
from schemas.adapters.output import Actor, Output

PLATFORM = "stumbleupon"
_KINDS = {"submit": "post", "like": "like", "dislike": "vote", "review": "comment", "share": "share",
          "stumble": "view"}
_REPEATABLE = frozenset({"review", "share", "stumble"})


def read(record: Node, out: Output) -> None:
    kind = record.string("type")
    if kind not in _KINDS:
        raise PayloadError(f"type: unsupported {kind[:40]!r} (expected one of {', '.join(_KINDS)})")
    url = record.string("url")
    user = record.obj("user")
    actor = Actor(user.string("id"), user.opt_str("username"))
    when = record.time_ms("date")
    if kind == "submit":
        out.event("post", record.opt_str("id") or url, when, actor, text=record.opt_str("title"), url=url)
        return
    event_id = record.opt_str("id") or f"{url}:{kind}:{actor.id}" + (f":{when}" if kind in _REPEATABLE else "")
    text = record.opt_str("review") if kind == "review" else ""
    out.event(_KINDS[kind], event_id, when, actor, target=url, text=text)
