"""Feed entries (as feedparser parses them) → envelope payloads (schemas/adapters/feed.py's JSON shape),
and which entries of a poll are new. Pure: no network, no Kafka, the clock is an argument."""

from __future__ import annotations

import calendar
import time
from collections.abc import Iterable, Mapping
from typing import Any

import orjson

from schemas.event import format_time_ms

_TEXT_FIELDS = ("id", "link", "title", "summary", "author", "comments")


def entry_key(entry: Mapping[str, Any]) -> str:
    """The entry's identity, as the feed adapter reads it: `id` (RSS guid / Atom id), else `link`."""
    for name in ("id", "guid", "link"):
        value = entry.get(name)
        if isinstance(value, str) and value.strip():
            return value.strip()
    return ""


def _time(entry: Mapping[str, Any], name: str) -> str:
    """RFC 3339 from feedparser's normalized UTC struct (whatever date format the feed used), else as given."""
    parsed = entry.get(f"{name}_parsed")
    if isinstance(parsed, time.struct_time):
        try:
            return format_time_ms(calendar.timegm(parsed) * 1000)
        except (OverflowError, ValueError):
            pass
    value = entry.get(name)
    return value if isinstance(value, str) else ""


def entry_payload(entry: Mapping[str, Any], feed: Mapping[str, Any], comments_of: str, polled_at_ms: int
                  ) -> dict[str, Any]:
    """The payload of one entry's envelope. An undated entry is dated at the poll that first saw it
    (it is produced once), since the adapter needs a time."""
    # A plain copy: feedparser's dict answers some absent keys with fallbacks (updated_parsed → published_parsed).
    entry = dict(entry)
    payload: dict[str, Any] = {}
    for name in _TEXT_FIELDS:
        value = entry.get(name)
        if isinstance(value, str) and value:
            payload[name] = value
    key = entry_key(entry)
    if key:
        payload["id"] = key
    contents = [{"type": str(c.get("type", "")), "value": c["value"]} for c in entry.get("content") or []
                if isinstance(c, Mapping) and isinstance(c.get("value"), str)]
    if contents:
        payload["content"] = contents
    detail = entry.get("author_detail")
    if isinstance(detail, Mapping):
        kept = {k: detail[k] for k in ("name", "href") if isinstance(detail.get(k), str) and detail[k]}
        if kept:
            payload["author_detail"] = kept
    for name in ("published", "updated"):
        value = _time(entry, name)
        if value:
            payload[name] = value
    if "published" not in payload and "updated" not in payload:
        payload["updated"] = format_time_ms(polled_at_ms)
    source = {k: feed[k] for k in ("link", "title") if isinstance(feed.get(k), str) and feed[k]}
    if source:
        payload["feed"] = source
    if comments_of and key != comments_of:
        payload["parent_id"] = comments_of
    return payload


def envelope(platform: str, payload: dict[str, Any], polled_at_ms: int) -> bytes:
    return orjson.dumps({"platform": platform, "payload": payload, "fetched_at": format_time_ms(polled_at_ms)})


def new_entries(entries: Iterable[Mapping[str, Any]], seen: set[str]) -> list[tuple[str, Mapping[str, Any]]]:
    """(key, entry) of the entries not produced before, oldest first (feeds list newest first), each once.
    Entries without any identity cannot be remembered and are skipped."""
    fresh: list[tuple[str, Mapping[str, Any]]] = []
    taken: set[str] = set()
    for entry in entries:
        key = entry_key(entry)
        if key and key not in seen and key not in taken:
            taken.add(key)
            fresh.append((key, entry))
    fresh.reverse()
    return fresh
