"""Hashtags, @mentions and URLs out of social-media text. Pure functions; precompiled regexes.

URLs are found first, and a `#` or `@` inside a URL (`http://x.com/#anchor`,
`https://medium.com/@user`) is never read as a hashtag or a mention. Each scan runs only when the
text holds its trigger (`#`, `@`, `://` or `www.`), and each regex starts with its trigger character,
so `re` skips to candidates at C speed. `extract_entities` returns all three kinds (what the
enricher uses); `extract_hashtags`, `extract_mentions` and `extract_urls` each return one.

Rules
-----
Hashtags
    `#` or fullwidth `＃` then word characters: Unicode letters, digits, `_` and combining marks
    (`#café`, `#日本`, `#हिन्दी`, `#100DaysOfCode`). Not a hashtag when the `#` directly follows a word
    character, `&`, `/` or another `#` (`C#`, `&#39;`, `a/#b`, `##x`). Tags of only digits and `_` are
    ignored (`#1`, `#2024`). Normalized to NFC and lowercased (`str.lower`, so `#Fußball` stays
    `fußball`), without the `#`.
Mentions
    `@` or `＠` then word characters, optionally continued by `.`/`-` joined labels (Bluesky domain
    handles: `@alice.bsky.social`) and by `@host.tld` (Mastodon: `@bob@mastodon.social` ->
    `bob@mastodon.social`). A trailing `.` or `-` is never part of it (`thanks @bob.` -> `bob`). Not a
    mention when the `@` directly follows a word character, `@` or `/` (e-mail addresses
    `a@b.com`, `@@x`, URL paths). The Twitter "dot mention" `.@acme` counts. Pure-digit handles are
    ignored (`meet @5`). Lowercased, NFC, without the `@`.
URLs
    `http://`, `https://` (any case) or `www.` up to whitespace, quotes, angle brackets or emoji.
    Trailing punctuation is stripped (`.,;:!?…'"*` and closing brackets that have no opening
    partner inside the URL: `(see https://en.wikipedia.org/wiki/Foo_(bar))` keeps its own `)`).
    Normalized by `normalize_url`: `www.` forms get `http://`, scheme and host lowercased, default
    ports dropped, empty path -> `/`, `utm_*` query parameters and the fragment dropped; other query
    parameters keep their order and raw encoding. URLs that cannot be parsed or have no host are
    dropped.

All three lists are de-duplicated after normalization, keeping the first occurrence's position.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Final
from urllib.parse import urlsplit

from streams.enrich._chars import EMOJI, WORD

__all__ = ["extract_entities", "extract_hashtags", "extract_mentions", "extract_urls", "normalize_url",
           "strip_entities"]

# Each pattern starts with its trigger character, so `re` skips to candidates at C speed; the
# lookbehinds (checked only there) reject `C#`, `&#39;`, e-mail addresses and the like.
_URL_RE: Final = re.compile(
    r"(?:https?://|www\.(?<![\w.@/:-]www\.))"
    rf"[^\s<>\"'`{{}}|\\^«»“”‘’\u3000-\u303f\uff08\uff09\uff0c\uff1a\uff1b{EMOJI}]+", re.IGNORECASE)
_HASHTAG_RE: Final = re.compile(rf"[#＃](?<!{WORD}[#＃])(?<![&/#＃][#＃])({WORD}+)")
_MENTION_RE: Final = re.compile(
    rf"[@＠](?<!{WORD}[@＠])(?<![@＠/][@＠])({WORD}+(?:[.\-]{WORD}+)*(?:@{WORD}+(?:[.\-]{WORD}+)*\.{WORD}+)?)")

_URL_TRAILING: Final = frozenset(".,;:!?…'\"*)]}>")
_CLOSERS: Final = {")": "(", "]": "[", "}": "{"}
_DEFAULT_PORTS: Final = {"http": ":80", "https": ":443"}
_IGNORED_CHARS: Final = "_0123456789"


def _norm_word(word: str) -> str:
    """Lowercased, NFC (non-ASCII only: ASCII is always NFC)."""
    word = word.lower()
    if not word.isascii():
        word = unicodedata.normalize("NFC", word)
    return word


def _trim_url(raw: str) -> str:
    """Strips trailing punctuation, keeping closing brackets that close something inside the URL."""
    end = len(raw)
    while end:
        ch = raw[end - 1]
        if ch not in _URL_TRAILING:
            break
        opener = _CLOSERS.get(ch)
        if opener is not None and raw.count(opener, 0, end) >= raw.count(ch, 0, end):
            break
        end -= 1
    return raw[:end]


def normalize_url(url: str) -> str | None:
    """The canonical form of an http(s) or `www.` URL, or None when it has no usable host.

    Lowercase scheme and host, no default port, `/` for an empty path, no `utm_*` query parameters,
    no fragment. Userinfo, path and the other query parameters are kept byte for byte.
    """
    url = url.strip()
    if url[:4].lower() == "www.":
        url = "http://" + url
    try:
        parts = urlsplit(url)
    except ValueError:          # e.g. an unbalanced IPv6 bracket
        return None
    scheme = parts.scheme.lower()
    if scheme not in _DEFAULT_PORTS:
        return None
    userinfo, at, hostport = parts.netloc.rpartition("@")
    hostport = hostport.lower()
    if hostport.endswith(_DEFAULT_PORTS[scheme]):
        hostport = hostport[: -len(_DEFAULT_PORTS[scheme])]
    host = hostport.rstrip(".") if not hostport.startswith("[") else hostport
    if not host or host.startswith(":") or (host.startswith("www.") and "." not in host[4:].strip(".")):
        return None
    query = parts.query
    if query:
        query = "&".join(p for p in query.split("&") if p and p[:4].lower() != "utm_")
    return f"{scheme}://{userinfo}{at}{host}{parts.path or '/'}{'?' + query if query else ''}"


def _may_have_url(text: str) -> bool:
    # "www." in any case ends with one of these (the regex then checks the whole "www." case-insensitively).
    return "://" in text or "ww." in text or "WW." in text or "wW." in text or "Ww." in text


def _url_spans(text: str, urls: dict[str, None]) -> list[tuple[int, int]]:
    """Adds the normalized URLs of `text` to `urls`; returns the spans of all URL candidates."""
    spans: list[tuple[int, int]] = []
    for m in _URL_RE.finditer(text):
        spans.append(m.span())
        url = normalize_url(_trim_url(m.group()))
        if url is not None:
            urls[url] = None
    return spans


def _in_spans(pos: int, spans: list[tuple[int, int]]) -> bool:
    return any(start <= pos < end for start, end in spans)


def _hashtags(text: str, spans: list[tuple[int, int]]) -> list[str]:
    tags: dict[str, None] = {}
    for m in _HASHTAG_RE.finditer(text):
        tag = m.group(1)
        if tag.strip(_IGNORED_CHARS) and not tag.isdigit() and not (spans and _in_spans(m.start(), spans)):
            tags[_norm_word(tag)] = None
    return list(tags)


def _mentions(text: str, spans: list[tuple[int, int]]) -> list[str]:
    mentions: dict[str, None] = {}
    for m in _MENTION_RE.finditer(text):
        handle = m.group(1)
        if not handle.isdigit() and not (spans and _in_spans(m.start(), spans)):
            mentions[_norm_word(handle)] = None
    return list(mentions)


def extract_entities(text: str) -> tuple[list[str], list[str], list[str]]:
    """(hashtags, mentions, urls) of `text`; see the module docstring for the rules."""
    urls: dict[str, None] = {}
    spans = _url_spans(text, urls) if _may_have_url(text) else []
    tags = _hashtags(text, spans) if "#" in text or "＃" in text else []
    mentions = _mentions(text, spans) if "@" in text or "＠" in text else []
    return tags, mentions, list(urls)


def strip_entities(text: str, replacement: str = " ") -> str:
    """`text` with every URL, hashtag and mention (as the extractors find them) replaced."""
    if _may_have_url(text):
        text = _URL_RE.sub(replacement, text)
    if "#" in text or "＃" in text:
        text = _HASHTAG_RE.sub(replacement, text)
    if "@" in text or "＠" in text:
        text = _MENTION_RE.sub(replacement, text)
    return text


def extract_hashtags(text: str) -> list[str]:
    """Hashtags of `text`: lowercased, without `#`, de-duplicated in order of first occurrence."""
    if "#" not in text and "＃" not in text:
        return []
    return _hashtags(text, _url_spans(text, {}) if _may_have_url(text) else [])


def extract_mentions(text: str) -> list[str]:
    """Mentioned handles of `text`: lowercased, without `@`, de-duplicated in order of first occurrence."""
    if "@" not in text and "＠" not in text:
        return []
    return _mentions(text, _url_spans(text, {}) if _may_have_url(text) else [])


def extract_urls(text: str) -> list[str]:
    """Normalized URLs of `text` (see `normalize_url`), de-duplicated in order of first occurrence."""
    if not _may_have_url(text):
        return []
    urls: dict[str, None] = {}
    _url_spans(text, urls)
    return list(urls)
