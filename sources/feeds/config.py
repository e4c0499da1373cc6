"""The feeds file (`PULSE_FEEDS_CONFIG_FILE`, TOML; documented in deploy/feeds.example.toml).

A bad file raises ValueError with one line naming the file and the field.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final
from urllib.parse import urlsplit

from schemas.adapters import feed as feed_adapter
from schemas.adapters.registry import ADAPTERS
from streams.toml_file import read_toml

NAME: Final = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")
# Envelope names the feed adapter reads (`forum` and `wiki` belong to the Discourse and MediaWiki
# adapters, whose payloads are not feed entries).
FEED_PLATFORMS: Final = tuple(sorted(n for n, a in ADAPTERS.items() if a.platform == feed_adapter.PLATFORM
                                     and a.read is feed_adapter.read))

DEFAULTS: Final[dict[str, float]] = {
    "interval_s": 300.0,        # between two polls of a healthy feed
    "timeout_s": 20.0,          # one fetch, connect to last byte
    "backoff_base_s": 30.0,     # first wait after a failure; doubles per consecutive failure ...
    "backoff_max_s": 3600.0,    # ... up to this (each wait jittered in [half, full])
    "remember": 5000,           # entry ids kept per feed (newest first); more than a feed ever lists
    "max_bytes": 10 * 1024 * 1024,  # larger documents are a failure, not a memory spike
}
_MINIMUM: Final[dict[str, float]] = {"interval_s": 1.0, "timeout_s": 1.0, "backoff_base_s": 0.1,
                                     "backoff_max_s": 0.1, "remember": 10, "max_bytes": 1024}
_FEED_KEYS: Final = {"url", "platform", "comments_of", *DEFAULTS}


@dataclass(frozen=True)
class FeedConfig:
    name: str
    url: str
    platform: str = "blog"
    comments_of: str = ""       # a per-post comment feed: the id of the post its entries comment on
    interval_s: float = DEFAULTS["interval_s"]
    timeout_s: float = DEFAULTS["timeout_s"]
    backoff_base_s: float = DEFAULTS["backoff_base_s"]
    backoff_max_s: float = DEFAULTS["backoff_max_s"]
    remember: int = int(DEFAULTS["remember"])
    max_bytes: int = int(DEFAULTS["max_bytes"])


@dataclass(frozen=True)
class FeedsConfig:
    feeds: tuple[FeedConfig, ...]


class _FieldError(Exception):
    pass


def load_feeds_config(path: Path) -> FeedsConfig:
    doc = read_toml(path, "feeds configuration")
    try:
        return parse_feeds_config(doc)
    except _FieldError as exc:
        raise ValueError(f"{path}: {exc}") from None


def parse_feeds_config(doc: dict[str, Any]) -> FeedsConfig:
    unknown = set(doc) - {"defaults", "feeds"}
    if unknown:
        raise _FieldError(f"{sorted(unknown)[0]}: unknown section (expected [defaults] or [feeds.NAME])")
    defaults = _table(doc.get("defaults", {}), "defaults")
    for key in defaults:
        if key not in {*DEFAULTS, "platform"}:
            raise _FieldError(f"defaults.{key}: unknown setting (one of: {', '.join(sorted({*DEFAULTS, 'platform'}))})")
    feeds_doc = _table(doc.get("feeds", {}), "feeds")
    if not feeds_doc:
        raise _FieldError("feeds: none configured (add a [feeds.NAME] table with a url)")
    feeds = []
    for name, given in feeds_doc.items():
        where = f"feeds.{name}"
        if not NAME.match(name):
            raise _FieldError(f"{where}: names are 1-64 letters, digits, '_', '.' or '-'")
        feeds.append(_feed(name, {**defaults, **_table(given, where)}, where))
    urls = [f.url for f in feeds]
    for feed in feeds:
        if urls.count(feed.url) > 1:
            raise _FieldError(f"feeds.{feed.name}.url: the same URL is configured twice")
    return FeedsConfig(tuple(feeds))


def _feed(name: str, t: dict[str, Any], where: str) -> FeedConfig:
    for key in t:
        if key not in _FEED_KEYS:
            raise _FieldError(f"{where}.{key}: unknown setting (one of: {', '.join(sorted(_FEED_KEYS))})")
    url = t.get("url")
    if not isinstance(url, str) or urlsplit(url).scheme not in ("http", "https") or not urlsplit(url).hostname:
        raise _FieldError(f"{where}.url: must be an http:// or https:// URL (got {url!r})")
    platform = t.get("platform", "blog")
    if platform not in FEED_PLATFORMS:
        raise _FieldError(f"{where}.platform: must be one of {', '.join(FEED_PLATFORMS)} (the names the feed "
                          f"adapter reads; got {platform!r})")
    comments_of = t.get("comments_of", "")
    if not isinstance(comments_of, str):
        raise _FieldError(f"{where}.comments_of: must be a string (the id of the post commented on)")
    numbers = {}
    for key, default in DEFAULTS.items():
        value = t.get(key, default)
        if isinstance(value, bool) or not isinstance(value, int | float) or value < _MINIMUM[key]:
            raise _FieldError(f"{where}.{key}: must be a number >= {_MINIMUM[key]:g} (got {value!r})")
        numbers[key] = float(value)
    if numbers["backoff_max_s"] < numbers["backoff_base_s"]:
        raise _FieldError(f"{where}.backoff_max_s: must be >= backoff_base_s")
    return FeedConfig(name=name, url=url, platform=platform, comments_of=comments_of,
                      interval_s=numbers["interval_s"], timeout_s=numbers["timeout_s"],
                      backoff_base_s=numbers["backoff_base_s"], backoff_max_s=numbers["backoff_max_s"],
                      remember=int(numbers["remember"]), max_bytes=int(numbers["max_bytes"]))


def _table(value: Any, where: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise _FieldError(f"{where}: must be a table")
    return value
