"""Typed access to untyped platform JSON: every failure names the field's path in the payload.

`Node` wraps one JSON object and the path it was found at, so an adapter reads
`item.obj("snippet").string("publishedAt")` and a bad payload becomes
`PayloadError("missing snippet.publishedAt")` instead of a KeyError or a silent default.
Unknown extra fields are never looked at, so they are tolerated.
"""

from __future__ import annotations

import html
import re
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any


class PayloadError(ValueError):
    """A payload that does not have the shape its platform publishes; the message names the field."""


def _type_name(value: Any) -> str:
    return "null" if value is None else type(value).__name__


class Node:
    """One JSON object of a payload, at `path` (e.g. `entry[0].changes[1].value`)."""

    __slots__ = ("data", "path")

    def __init__(self, data: Any, path: str = "") -> None:
        if not isinstance(data, dict):
            raise PayloadError(f"{path or 'payload'} must be an object, got {_type_name(data)}")
        self.data: dict[str, Any] = data
        self.path = path

    def at(self, key: str) -> str:
        return f"{self.path}.{key}" if self.path else key

    def has(self, key: str) -> bool:
        return self.data.get(key) is not None

    def raw(self, key: str) -> Any:
        return self.data.get(key)

    # Objects and lists

    def obj(self, key: str) -> Node:
        value = self.data.get(key)
        if value is None:
            raise PayloadError(f"missing {self.at(key)}")
        return Node(value, self.at(key))

    def opt_obj(self, key: str) -> Node | None:
        value = self.data.get(key)
        return None if value is None else Node(value, self.at(key))

    def objs(self, key: str) -> list[Node]:
        """A required list of objects."""
        value = self.data.get(key)
        if value is None:
            raise PayloadError(f"missing {self.at(key)}")
        return self._objects(key, value)

    def opt_objs(self, key: str) -> list[Node]:
        value = self.data.get(key)
        return [] if value is None else self._objects(key, value)

    def _objects(self, key: str, value: Any) -> list[Node]:
        if not isinstance(value, list):
            raise PayloadError(f"{self.at(key)} must be a list, got {_type_name(value)}")
        return [Node(item, f"{self.at(key)}[{i}]") for i, item in enumerate(value)]

    # Scalars

    def string(self, key: str) -> str:
        """A required non-empty string (numeric ids are read as their decimal string)."""
        value = self.opt_str(key)
        if not value:
            raise PayloadError(f"missing {self.at(key)}")
        return value

    def opt_str(self, key: str) -> str:
        """A string, or '' when absent or null."""
        value = self.data.get(key)
        if value is None:
            return ""
        if isinstance(value, str):
            return value
        if isinstance(value, int) and not isinstance(value, bool):
            return str(value)
        raise PayloadError(f"{self.at(key)} must be a string, got {_type_name(value)}")

    def opt_int(self, key: str) -> int | None:
        """A count: an integer, or a decimal string (YouTube sends counts as strings); None when absent."""
        value = self.data.get(key)
        if value is None:
            return None
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        if isinstance(value, str) and value.isascii() and value.lstrip("-").isdigit() and len(value) < 20:
            return int(value)
        raise PayloadError(f"{self.at(key)} must be an integer, got {_type_name(value)}")

    def opt_bool(self, key: str) -> bool | None:
        value = self.data.get(key)
        if value is None or isinstance(value, bool):
            return value
        raise PayloadError(f"{self.at(key)} must be true or false, got {_type_name(value)}")

    def time_ms(self, key: str) -> int:
        value = self.data.get(key)
        if value is None:
            raise PayloadError(f"missing {self.at(key)}")
        return parse_time(value, self.at(key))

    def opt_time_ms(self, key: str) -> int | None:
        value = self.data.get(key)
        return None if value is None else parse_time(value, self.at(key))


# Plausible event times: 1990 .. 2200. Outside is a unit mistake (ms vs s) or garbage.
_MIN_S = 631_152_000
_MAX_S = 7_258_118_400


def parse_time(value: Any, path: str) -> int:
    """Epoch milliseconds from what platforms send: RFC 3339 / ISO 8601 with an offset (`Z`,
    `+00:00`, `+0000`), RFC 822 (RSS), epoch seconds (int, float or digits), or epoch
    milliseconds (`…/ms` fields are converted by the adapter, not guessed here)."""
    if isinstance(value, bool):
        raise PayloadError(f"{path} must be a time, got bool")
    if isinstance(value, int | float):
        seconds = float(value)
    elif isinstance(value, str):
        text = value.strip()
        if text.replace(".", "", 1).isdigit():
            seconds = float(text)
        else:
            return _parse_time_text(text, path)
    else:
        raise PayloadError(f"{path} must be a time, got {_type_name(value)}")
    if not _MIN_S <= seconds <= _MAX_S:
        raise PayloadError(f"{path} is not a plausible epoch time in seconds: {value!r}"[:200])
    return round(seconds * 1000)


def _parse_time_text(text: str, path: str) -> int:
    dt: datetime | None
    try:
        dt = datetime.fromisoformat(text)
    except ValueError:
        try:
            dt = parsedate_to_datetime(text)  # RFC 822 / 2822, as RSS feeds carry
        except (TypeError, ValueError, IndexError):
            dt = None
    if dt is None:
        raise PayloadError(f"{path} is not a timestamp: {text[:40]!r}")
    if dt.tzinfo is None:
        raise PayloadError(f"{path} has no time zone: {text[:40]!r}")
    seconds = dt.astimezone(UTC).timestamp()
    if not _MIN_S <= seconds <= _MAX_S:
        raise PayloadError(f"{path} is out of range: {text[:40]!r}")
    return round(seconds * 1000)


def epoch_ms(value: int | None, path: str) -> int:
    """A field in epoch milliseconds (LinkedIn's AuditStamp.time, Jetstream's time_us / 1000)."""
    if value is None:
        raise PayloadError(f"missing {path}")
    if not _MIN_S * 1000 <= value <= _MAX_S * 1000:
        raise PayloadError(f"{path} is not a plausible epoch time in milliseconds: {value}")
    return value


_BLOCK_TAG = re.compile(r"<(?:br|/?p|/?div|/?li|/?h\d|/?blockquote|/?tr|/?pre)\b[^>]*>", re.IGNORECASE)
_ANY_TAG = re.compile(r"<[^>]*>")
_SPACE = re.compile(r"\s+")


def html_text(markup: str) -> str:
    """Plain text of the HTML platforms render (WordPress, Mastodon, Discourse, Google+):
    block tags become spaces, inline tags vanish (so `@<span>bob</span>` stays `@bob`)."""
    if "<" not in markup and "&" not in markup:
        return markup.strip()
    text = _ANY_TAG.sub("", _BLOCK_TAG.sub(" ", markup))
    return _SPACE.sub(" ", html.unescape(text)).strip()
