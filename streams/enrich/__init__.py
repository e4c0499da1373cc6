"""Enrichment of canonical events: pure logic, no Kafka, no database, no clock, no network.

`Enricher(watchlist).enrich(event)` fills, in place, the enrichment fields of a `CanonicalEvent`:

=============  ===========================================================================
field          value
=============  ===========================================================================
hashtags       hashtags of `text` (`streams.enrich.text`), then inherited ones
mentions       @mentions of `text`
urls           URLs of `text`, then the event's own `url` (normalized when http(s), else as is)
lang           kept when the event has one; else detected from `text` (`"und"` when unsure);
               left `""` when there is no text
sentiment      VADER compound of `text` in [-1, 1] (`streams.enrich.sentiment`; emoji only
               for non-English text); 0.0 without text
brands         watchlist brands named by the text, its hashtags or mentions, then inherited
               ones; sorted
author_tier    `nano | micro | mid | macro | mega` from `actor_followers` (`streams.enrich.tier`)
=============  ===========================================================================

Events without text (likes, shares, views, votes, follows: most of the traffic) take a short path:
no extraction, no language detection, no sentiment, no watchlist scan.

Inheritance: engagement events carry no text but count under their post's hashtags and brands
(`schemas.event.ENGAGEMENT_KINDS`). Pass `inherited=(post_hashtags, post_brands)` (the target post's
enriched attributes) and they are unioned in: the event's own first, then the inherited ones not
already present; brands re-sorted. Inherited values are used as given (they come from an enriched
post, so they are normalized already); the lists passed in are never modified or aliased.

`enrich` is idempotent: enriching an event again gives the same result.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable, Iterable
from typing import Protocol

from schemas.event import CanonicalEvent
from streams.enrich.language import LanguageDetector
from streams.enrich.sentiment import SentimentScorer
from streams.enrich.text import extract_entities, normalize_url
from streams.enrich.tier import author_tier
from streams.enrich.watchlist import Watchlist

__all__ = ["Enricher", "InheritedLookup", "LanguageDetector", "SentimentScorer", "Watchlist"]

Inherited = tuple[list[str], list[str]]
InheritedLookup = Callable[[CanonicalEvent], Inherited | None]


class LanguageDetecting(Protocol):
    def detect(self, text: str) -> str: ...


class SentimentScoring(Protocol):
    def score(self, text: str, lang: str = "") -> float: ...


class Enricher:
    """Fills the enrichment fields of canonical events; see the module docstring.

    `language` and `sentiment` default to `LanguageDetector()` and `SentimentScorer()` (built here:
    loading the language model takes ~1.3 s, so build one Enricher per worker and reuse it).
    Thread-safe: the parts are read-only once built, and their caches are `functools.lru_cache`.
    """

    __slots__ = ("language", "sentiment", "watchlist")

    def __init__(self, watchlist: Watchlist, language: LanguageDetecting | None = None,
                 sentiment: SentimentScoring | None = None) -> None:
        self.watchlist = watchlist
        self.language: LanguageDetecting = language if language is not None else LanguageDetector()
        self.sentiment: SentimentScoring = sentiment if sentiment is not None else SentimentScorer()

    def enrich(self, event: CanonicalEvent, inherited: Inherited | None = None) -> None:
        """Fills `event`'s enrichment fields in place; `inherited` = (post hashtags, post brands)."""
        event.author_tier = author_tier(event.actor_followers, event.actor_verified)
        text = event.text
        if text:
            hashtags, mentions, urls = extract_entities(text)
            if not event.lang:
                event.lang = self.language.detect(text)
            event.sentiment = self.sentiment.score(text, event.lang)
            lowered = text.lower()
            if not lowered.isascii() and not unicodedata.is_normalized("NFC", lowered):
                lowered = unicodedata.normalize("NFC", lowered)
            brands = self.watchlist.match(lowered, hashtags, mentions)
        else:
            hashtags, mentions, urls, brands = [], [], [], []
            event.sentiment = 0.0
        if event.url:
            url = normalize_url(event.url) or event.url.strip()
            if url and url not in urls:
                urls.append(url)
        if inherited is not None:
            post_tags, post_brands = inherited
            if post_tags:
                hashtags = list(dict.fromkeys(hashtags + post_tags)) if hashtags else list(dict.fromkeys(post_tags))
            if post_brands:
                brands = sorted(set(brands).union(post_brands))
        event.hashtags = hashtags
        event.mentions = mentions
        event.urls = urls
        event.brands = brands

    def enrich_batch(self, events: Iterable[CanonicalEvent], inherited_lookup: InheritedLookup) -> None:
        """Enriches `events` in order; `inherited_lookup(event)` gives its `inherited` (or None).

        The lookup is called for every event, just before that event is enriched and after all the
        earlier events of the batch were: a lookup may read the hashtags and brands of a post that
        came earlier in the same batch. It decides which events inherit (usually those whose kind
        is in `schemas.event.ENGAGEMENT_KINDS` and whose post is known).
        """
        enrich = self.enrich
        for event in events:
            enrich(event, inherited_lookup(event))
