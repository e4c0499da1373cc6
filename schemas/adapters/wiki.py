"""Wikis on MediaWiki: recent changes, from the Action API (`action=query&list=recentchanges&
rcprop=title|ids|user|userid|timestamp|comment|flags`, one entry or the whole response
`{"query": {"recentchanges": [...]}}`) or from Wikimedia EventStreams `recentchange` events.

Ids are page and revision URLs, so the envelope must name the wiki with `site` (its base URL,
e.g. `https://wiki.example.com`) unless the entry carries `server_url` (EventStreams):

* `type: new` (a page created) → `post`, id `<site>/wiki/<Title_with_underscores>`, text = title
  and edit summary;
* `type: edit` → `comment` on the page (the edit summary is its text), id
  `<site>/w/index.php?oldid=<revid>` (EventStreams: `revision.new`);
* `log`, `categorize` and `external` entries (moves, protections, category links, Wikidata)
  are not conversation and emit nothing;
* the actor is `userid` (0 or absent for anonymous editors, who are identified by `user`, their IP).
"""

from __future__ import annotations

from schemas.adapters.fields import Node, PayloadError
from schemas.adapters.output import Actor, Output

PLATFORM = "wiki"
_SILENT = frozenset({"log", "categorize", "external", "142"})


def read(payload: Node, out: Output) -> None:
    query = payload.opt_obj("query")
    if query is not None:
        out.each(query.objs("recentchanges"), lambda change: _change(change, out))
    else:
        _change(payload, out)


def _change(change: Node, out: Output) -> None:
    kind = change.string("type")
    if kind in _SILENT:
        return
    if kind not in ("new", "edit"):
        raise PayloadError(f"{change.at('type')}: unsupported {kind[:40]!r}")
    site = change.opt_str("server_url").rstrip("/") or out.require_site()
    title = change.string("title")
    page = f"{site}/wiki/{title.replace(' ', '_')}"
    when = change.time_ms("timestamp")
    user = change.opt_str("user")
    user_id = change.opt_str("userid")
    actor = Actor(user_id if user_id not in ("", "0") else f"name:{user or 'anonymous'}", user)
    summary = change.opt_str("comment")
    if kind == "new":
        out.event("post", page, when, actor, text=f"{title}\n{summary}" if summary else title, url=page)
        return
    revision = change.opt_obj("revision")
    revid = revision.string("new") if revision is not None else change.string("revid")
    url = f"{site}/w/index.php?oldid={revid}"
    out.event("comment", url, when, actor, target=page, text=summary, url=url)
