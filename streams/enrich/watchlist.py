"""The brand/product watchlist: which configured brands an event names.

File format (JSON, UTF-8)::

    {"brands": {
        "acme": {"keywords": ["acme", "acme rocket", "roadrunner trap"],
                 "handles": ["acmecorp"],
                 "hashtags": ["acme", "acmerockets"]},
        ...}}

Each brand needs at least one term; each field is optional and a list of strings. Keys starting with
`_` (at the top level and in a brand) are comments and ignored; any other unknown key is an error
(a misspelt `"keyword"` would otherwise silently match nothing). Bad shapes raise `ValueError`
naming the brand and the field. Brand names are reported as written (keep them lowercase to match
the dashboards); an empty `"brands": {}` is a valid, empty watchlist.

Matching (`Watchlist.match(text_lower, hashtags, mentions)` -> sorted brand names)
---------------------------------------------------------------------------------
keywords
    Found in the lowercased text with one Aho-Corasick automaton holding every keyword of every
    brand (pyahocorasick; cost grows with the text length and the number of hits, not with the
    number of terms). Keywords are lowercased, NFC-normalized and whitespace-collapsed when loaded
    (match texts lowercased with `str.lower`, NFC, as the enricher does; `"acme  rocket"` with two
    spaces or a line break does not match the keyword `"acme rocket"`).
    A hit counts only on word boundaries: the characters just before and after it must not be word
    characters (Unicode letters, digits, `_`, combining marks). So `acme` matches `Acme's`,
    `ACME!`, `#acme`, `@acme`, `acme-rocket` and `acme.com` (a link names the brand), but not
    `acmeville`, `megaacme`, `acme2` or `acme_support`. Where a keyword begins (ends) with a
    character of a script written without spaces (Han, kana, Thai, Hangul syllables...), no boundary
    is required on that side: `ソニー` matches `ソニーの新製品`. A keyword edge that is not a word
    character (`c++`, `.net`) needs no boundary on that side either. No accent folding: `cafe` does
    not match `café`.
handles
    Compared with the extracted @mentions (exact, lowercased, without `@`; Bluesky/Mastodon forms as
    `streams.enrich.text` extracts them: `acme.bsky.social`, `acme@mastodon.social`).
hashtags
    Compared with the extracted hashtags (exact, lowercased, without `#`).

A term listed by several brands reports all of them.
"""

from __future__ import annotations

import os
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import ahocorasick
import orjson

from streams.enrich._chars import NOSPACE_RANGES
from streams.enrich.text import extract_hashtags, extract_mentions

__all__ = ["BrandTerms", "Watchlist"]

_FIELDS: Final = ("keywords", "handles", "hashtags")


def _is_word_char(ch: str) -> bool:
    if ch.isalnum() or ch == "_":
        return True
    return not ch.isascii() and unicodedata.category(ch)[0] == "M"


def _needs_boundary(ch: str) -> bool:
    """Whether a keyword edge character requires a word boundary next to it."""
    if not _is_word_char(ch):
        return False
    cp = ord(ch)
    return not any(lo <= cp <= hi for lo, hi in NOSPACE_RANGES)


@dataclass(frozen=True, slots=True)
class BrandTerms:
    """One brand's normalized terms."""

    keywords: tuple[str, ...] = ()
    handles: tuple[str, ...] = ()
    hashtags: tuple[str, ...] = ()


def _nfc_lower(s: str) -> str:
    return unicodedata.normalize("NFC", s.lower())


def _string_list(brand: str, name: str, value: Any) -> list[str]:
    if not isinstance(value, list):
        raise ValueError(f"watchlist brand {brand!r}: field {name!r} must be a list of strings, "
                         f"got {type(value).__name__}")
    for i, item in enumerate(value):
        if not isinstance(item, str):
            raise ValueError(f"watchlist brand {brand!r}: field {name!r} item {i} must be a string, "
                             f"got {type(item).__name__}: {item!r}")
        if not item.strip():
            raise ValueError(f"watchlist brand {brand!r}: field {name!r} item {i} is empty")
    return value


def _brand_terms(brand: str, spec: Any) -> BrandTerms:
    if not isinstance(spec, dict):
        raise ValueError(f"watchlist brand {brand!r}: must be an object with keywords/handles/hashtags, "
                         f"got {type(spec).__name__}")
    unknown = sorted(k for k in spec if not k.startswith("_") and k not in _FIELDS)
    if unknown:
        raise ValueError(f"watchlist brand {brand!r}: unknown field {unknown[0]!r} "
                         f"(expected keywords, handles, hashtags)")
    keywords: dict[str, None] = {}
    for i, raw in enumerate(_string_list(brand, "keywords", spec.get("keywords", []))):
        keyword = " ".join(_nfc_lower(raw).split())
        if not any(_is_word_char(c) for c in keyword):
            raise ValueError(f"watchlist brand {brand!r}: field 'keywords' item {i} ({raw!r}) has no letter or digit")
        keywords[keyword] = None
    handles: dict[str, None] = {}
    for i, raw in enumerate(_string_list(brand, "handles", spec.get("handles", []))):
        handle = _nfc_lower(raw.strip().lstrip("@＠"))
        if extract_mentions("@" + handle) != [handle]:
            raise ValueError(f"watchlist brand {brand!r}: field 'handles' item {i} ({raw!r}) is not a handle "
                             f"that can appear as an @mention")
        handles[handle] = None
    hashtags: dict[str, None] = {}
    for i, raw in enumerate(_string_list(brand, "hashtags", spec.get("hashtags", []))):
        tag = _nfc_lower(raw.strip().lstrip("#＃"))
        if extract_hashtags("#" + tag) != [tag]:
            raise ValueError(f"watchlist brand {brand!r}: field 'hashtags' item {i} ({raw!r}) is not a hashtag "
                             f"(one word of letters, digits or _, not only digits)")
        hashtags[tag] = None
    if not (keywords or handles or hashtags):
        raise ValueError(f"watchlist brand {brand!r}: no keywords, handles or hashtags, so it could never match")
    return BrandTerms(tuple(keywords), tuple(handles), tuple(hashtags))


class Watchlist:
    """Brands to spot in events; immutable once built. See the module docstring."""

    __slots__ = ("_automaton", "_by_handle", "_by_hashtag", "_terms")

    def __init__(self, terms: Mapping[str, BrandTerms]) -> None:
        """From already-normalized terms; prefer `from_mapping`/`from_file`, which validate and normalize."""
        self._terms: dict[str, BrandTerms] = dict(sorted(terms.items()))
        by_keyword: dict[str, set[str]] = {}
        by_handle: dict[str, set[str]] = {}
        by_hashtag: dict[str, set[str]] = {}
        for brand, t in self._terms.items():
            for keyword in t.keywords:
                by_keyword.setdefault(keyword, set()).add(brand)
            for handle in t.handles:
                by_handle.setdefault(handle, set()).add(brand)
            for tag in t.hashtags:
                by_hashtag.setdefault(tag, set()).add(brand)
        self._by_handle = {k: frozenset(v) for k, v in by_handle.items()}
        self._by_hashtag = {k: frozenset(v) for k, v in by_hashtag.items()}
        self._automaton: Any = None
        if by_keyword:
            automaton = ahocorasick.Automaton(ahocorasick.STORE_ANY)
            for keyword, brands in by_keyword.items():
                automaton.add_word(keyword, (len(keyword), _needs_boundary(keyword[0]),
                                             _needs_boundary(keyword[-1]), frozenset(brands)))
            automaton.make_automaton()
            self._automaton = automaton

    # ------------------------------------------------------------------------------- building
    @classmethod
    def empty(cls) -> Watchlist:
        return cls({})

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any]) -> Watchlist:
        """From the parsed JSON document `{"brands": {name: {keywords, handles, hashtags}}}`."""
        if not isinstance(data, Mapping):
            raise ValueError(f"watchlist: top level must be an object with a 'brands' object, "
                             f"got {type(data).__name__}")
        unknown = sorted(k for k in data if not str(k).startswith("_") and k != "brands")
        if unknown:
            raise ValueError(f"watchlist: unknown top-level field {unknown[0]!r} (expected 'brands')")
        if "brands" not in data:
            raise ValueError("watchlist: missing the 'brands' object")
        brands = data["brands"]
        if not isinstance(brands, Mapping):
            raise ValueError(f"watchlist: 'brands' must be an object mapping brand names to terms, "
                             f"got {type(brands).__name__}")
        terms: dict[str, BrandTerms] = {}
        for name, spec in brands.items():
            if not isinstance(name, str) or not name.strip() or name != name.strip():
                raise ValueError(f"watchlist: brand name {name!r} must be a non-empty string without "
                                 "leading or trailing spaces")
            if name.startswith("_"):
                continue
            terms[name] = _brand_terms(name, spec)
        return cls(terms)

    @classmethod
    def from_file(cls, path: str | os.PathLike[str]) -> Watchlist:
        """From a JSON file. OSError when unreadable; ValueError (naming the file) when invalid."""
        raw = Path(path).read_bytes()
        try:
            data = orjson.loads(raw)
        except orjson.JSONDecodeError as e:
            raise ValueError(f"{os.fspath(path)}: invalid JSON: {e}") from None
        try:
            return cls.from_mapping(data)
        except ValueError as e:
            raise ValueError(f"{os.fspath(path)}: {e}") from None

    # ------------------------------------------------------------------------------ inspecting
    @property
    def brands(self) -> tuple[str, ...]:
        """The brand names, sorted."""
        return tuple(self._terms)

    def terms(self, brand: str) -> BrandTerms:
        return self._terms[brand]

    def __len__(self) -> int:
        return len(self._terms)

    def __bool__(self) -> bool:
        return bool(self._terms)

    def __repr__(self) -> str:
        return f"Watchlist({len(self._terms)} brands)"

    # -------------------------------------------------------------------------------- matching
    def match(self, text_lower: str, hashtags: list[str], mentions: list[str]) -> list[str]:
        """Sorted names of the brands named by the text (keywords), the hashtags or the mentions.

        `text_lower` must be lowercased (`str.lower`) and should be NFC; `hashtags` and `mentions`
        as `streams.enrich.text` extracts them.
        """
        found: set[str] = set()
        if self._automaton is not None and text_lower:
            last = len(text_lower) - 1
            for end, (length, check_start, check_end, brands) in self._automaton.iter(text_lower):
                if brands <= found:
                    continue
                if check_start:
                    start = end - length
                    if start >= 0 and _is_word_char(text_lower[start]):
                        continue
                if check_end and end < last and _is_word_char(text_lower[end + 1]):
                    continue
                found.update(brands)
        if hashtags and self._by_hashtag:
            for tag in hashtags:
                hit = self._by_hashtag.get(tag)
                if hit is not None:
                    found.update(hit)
        if mentions and self._by_handle:
            for handle in mentions:
                hit = self._by_handle.get(handle)
                if hit is not None:
                    found.update(hit)
        return sorted(found)
