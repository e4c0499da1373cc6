"""Platform envelopes → canonical-shape event objects: which adapter reads which platform.

An envelope is `{"platform": "<name>", "payload": {...}}` (CONTRACT.md section 2, shape 2), with
two optional fields of ours next to the payload, which stays exactly what the platform delivered:

* `fetched_at` (RFC 3339): when the payload was fetched or received. Counter snapshots (views,
  likes, scores) are dated with it and need it (schemas/adapters/output.py);
* `site` (base URL): the site a per-site platform's payload came from (Discourse forums,
  MediaWiki wikis; optional for WordPress).

`adapt` never raises on bad input: what it cannot read is returned as error messages naming the
field (`payload.youtube: missing snippet.publishedAt`), alongside the events it could read.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Final

from schemas.adapters import (
    bluesky,
    digg,
    facebook,
    feed,
    forum,
    googleplus,
    linkedin,
    mastodon,
    reddit,
    stumbleupon,
    twitter,
    wiki,
    wordpress,
    youtube,
)
from schemas.adapters.fields import Node, PayloadError, parse_time
from schemas.adapters.output import MAX_ERRORS_KEPT, AdapterLimits, Output

Reader = Callable[[Node, Output], None]


@dataclass(frozen=True, slots=True)
class Adapter:
    platform: str  # the canonical platform its events carry (the dedupe key's first half)
    read: Reader


def _adapter(module: Any) -> Adapter:
    return Adapter(module.PLATFORM, module.read)


# Envelope platform name → adapter. Aliases share an adapter, so the same item sent under either
# name has the same (platform, id).
ADAPTERS: Final[dict[str, Adapter]] = {
    "twitter": _adapter(twitter), "x": _adapter(twitter),
    "facebook": _adapter(facebook),
    "linkedin": _adapter(linkedin),
    "youtube": _adapter(youtube),
    "reddit": _adapter(reddit),
    "mastodon": _adapter(mastodon),
    "bluesky": _adapter(bluesky),
    "wordpress": _adapter(wordpress),
    "feed": _adapter(feed), "rss": _adapter(feed), "atom": _adapter(feed), "blog": _adapter(feed),
    "forum": _adapter(forum), "discourse": _adapter(forum),
    "wiki": _adapter(wiki), "mediawiki": _adapter(wiki),
    "googleplus": _adapter(googleplus), "google+": _adapter(googleplus), "gplus": _adapter(googleplus),
    "stumbleupon": _adapter(stumbleupon),
    "digg": _adapter(digg),
}


@dataclass(slots=True)
class Adapted:
    """One envelope's events (canonical-shape objects, not validated yet) and why parts were not read."""

    events: list[dict[str, Any]] = field(default_factory=list)
    error: str = ""  # "" when everything was read; else one reason naming the platform and field(s)


def adapt(envelope: dict[str, Any], limits: AdapterLimits) -> Adapted:
    name = envelope.get("platform")
    if not isinstance(name, str) or not name:
        return Adapted(error="platform: missing" if name is None else "platform: must be a non-empty string")
    name = name.lower()
    adapter = ADAPTERS.get(name)
    if adapter is None:
        known = ", ".join(sorted(ADAPTERS))
        return Adapted(error=f"platform: no adapter for {name[:40]!r} envelopes (known: {known})")
    prefix = f"payload.{name}: "
    try:
        fetched = envelope.get("fetched_at")
        fetched_ms = None if fetched is None else parse_time(fetched, "envelope fetched_at")
        site = envelope.get("site")
        if site is not None and not isinstance(site, str):
            raise PayloadError("envelope site must be a string (the site's base URL)")
        out = Output(adapter.platform, limits, fetched_ms, site or "")
        adapter.read(Node(envelope.get("payload")), out)
    except PayloadError as exc:
        return Adapted(error=prefix + str(exc))
    except (RecursionError, ValueError, TypeError, KeyError, IndexError, AttributeError, OverflowError) as exc:
        # A bug, not bad input: still one dead letter (the pipeline never stops), never a crash.
        return Adapted(error=f"{prefix}adapter failed on this payload ({type(exc).__name__})")
    if not out.errors:
        return Adapted(out.events)
    shown = out.errors[:MAX_ERRORS_KEPT]
    more = len(out.errors) - len(shown)
    return Adapted(out.events, prefix + "; ".join(shown) + (f"; and {more} more" if more else ""))
