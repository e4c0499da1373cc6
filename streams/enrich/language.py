"""Offline language identification of short social-media text (py3langid, no network, no download).

`LanguageDetector().detect(text)` returns an ISO 639-1 code (`"en"`, `"es"`, ...) or `"und"`.

What it does
------------
1. Strips what carries no language: URLs, @mentions and #hashtags (same grammar as
   `streams.enrich.text`), then keeps only the letter words (`it's` stays one word); digits,
   punctuation and emoji go. py3langid sees the words joined by single spaces.
2. Too little text -> `"und"`: fewer than `min_words` (default 3) words, where each two characters of
   a script written without spaces (Han, kana, Thai, Lao, Khmer, Myanmar, Hangul syllables) count as
   one more word, so `とても疲れました` (8 chars) counts 1 + 4.
3. Classifies among `languages` (default `SOCIAL_LANGUAGES`, 34 languages common on social media)
   and returns `"und"` when the normalized probability of the winner is below `min_confidence`
   (default 0.4) or the model says `zxx` (no linguistic content).
4. Caches answers (LRU, `cache_size` entries) per raw text and per cleaned word string: reposts
   and templated posts repeat, and classification is the costly part (~50-150 us per short text:
   py3langid walks the UTF-8 bytes in Python).

Why restrict the languages (measured)
-------------------------------------
py3langid knows 140 labels, including close relatives and rare languages that steal short texts.
On 297 short social-media texts (the simulator's plus hand-written ones in en, es, fr, de, pt, it,
nl, id, tr, pl, sv, ru, ja, ar; 24 of them under 3 words, so `"und"`)::

    all 140 labels, no confidence floor    265 right, 5 wrong, 27 und (3 were pcm/kab answers)
    SOCIAL_LANGUAGES, no floor             268 right, 5 wrong, 24 und
    SOCIAL_LANGUAGES, min_confidence 0.4   265 right, 2 wrong, 30 und   <- the defaults

Wrong answers matter more than `"und"`: sentiment scores only the emoji of non-English text (see
`streams.enrich.sentiment`), so English read as Dutch (`"love u guys"`) loses its words. Pass
`languages=None` for all labels; codes outside ISO 639-1 (the model's `pcm`, `yue`, `zxx`...) are
reported as `"und"`.

The model (4.5 MB, compressed in the py3langid wheel) is loaded once per detector, in `__init__`
(~1.3 s). Each detector owns its model copy, so restricting one never affects py3langid's global
identifier or another detector. `detect` is thread-safe (the model is read-only once built).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable
from typing import Final

from py3langid.langid import MODEL_FILE, LanguageIdentifier

from streams.enrich._chars import MARKS_BMP, NOSPACE_SCRIPTS
from streams.enrich.text import strip_entities

__all__ = ["SOCIAL_LANGUAGES", "UNDETERMINED", "LanguageDetector"]

UNDETERMINED: Final = "und"

SOCIAL_LANGUAGES: Final = (
    "en", "es", "pt", "fr", "de", "it", "nl", "ru", "uk", "pl", "tr", "ar", "fa", "he", "hi", "ur", "bn",
    "id", "ms", "tl", "th", "vi", "ja", "ko", "zh", "sv", "no", "da", "fi", "cs", "el", "ro", "hu", "ca",
)
"""The default candidate set: the languages most used on the big platforms."""

# A word: letters (and marks), with inner apostrophes (it's, l'équipe, don’t). Digits and `_` are not letters.
_LETTER: Final = f"(?:[^\\W\\d_]|[{MARKS_BMP}\\u200c\\u200d])"
_WORDS_RE: Final = re.compile(f"{_LETTER}+(?:['’]{_LETTER}+)*")
_NOSPACE_RE: Final = re.compile(f"[{NOSPACE_SCRIPTS}]")


class LanguageDetector:
    """ISO 639-1 language of a short text, or "und". See the module docstring."""

    __slots__ = ("_classify", "_detect", "_identifier", "languages", "min_confidence", "min_words")

    def __init__(self, languages: Iterable[str] | None = SOCIAL_LANGUAGES, *, min_words: int = 3,
                 min_confidence: float = 0.4, cache_size: int = 16_384) -> None:
        if min_words < 1:
            raise ValueError(f"min_words: must be >= 1, got {min_words}")
        if not 0.0 <= min_confidence < 1.0:
            raise ValueError(f"min_confidence: must be in [0, 1), got {min_confidence}")
        identifier = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
        self.languages: tuple[str, ...] | None = None
        if languages is not None:
            self.languages = tuple(dict.fromkeys(languages))
            if not self.languages:
                raise ValueError("languages: need at least one language code (or None for all)")
            identifier.set_languages(list(self.languages))   # ValueError naming unknown codes
        self._identifier = identifier
        self.min_words = min_words
        self.min_confidence = min_confidence
        # Two levels: whole texts (reposts: a hit costs a dict lookup) and cleaned word strings
        # (texts differing only in URLs, mentions, hashtags, emoji or punctuation).
        self._detect = functools.lru_cache(maxsize=cache_size)(self._detect_uncached)
        self._classify = functools.lru_cache(maxsize=cache_size)(self._classify_uncached)

    def _classify_uncached(self, words: str) -> str:
        lang, confidence = self._identifier.classify(words)
        if confidence < self.min_confidence or len(lang) != 2:
            return UNDETERMINED
        return str(lang)

    def detect(self, text: str) -> str:
        """The ISO 639-1 code of `text`'s language, or "und" when there is too little text or doubt."""
        if not text:
            return UNDETERMINED
        return self._detect(text)

    def _detect_uncached(self, text: str) -> str:
        text = strip_entities(text)
        words = _WORDS_RE.findall(text)
        if not words:
            return UNDETERMINED
        units = len(words)
        if units < self.min_words and not text.isascii():
            units += len(_NOSPACE_RE.findall(text)) // 2
        if units < self.min_words:
            return UNDETERMINED
        return self._classify(" ".join(words))

    def cache_clear(self) -> None:
        self._detect.cache_clear()
        self._classify.cache_clear()
