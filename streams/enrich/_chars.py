"""Character classes shared by the enrichment modules (built once, at import, in ~10 ms).

Python's `\\w` matches letters, digits and `_` but not combining marks (Unicode category M), so
`re.match(r"\\w+", "हिन्दी")` stops after the first letter and decomposed accents (`e` + U+0301)
split a word. Social-media words need marks: Devanagari, Thai, Arabic and Hebrew vowel signs, NFD
text from some clients. `WORD` is `\\w` plus every mark plus ZWNJ/ZWJ (used inside Persian and
Indic words).
"""

from __future__ import annotations

import unicodedata
from typing import Final

# Every block of Unicode 14 holding combining marks (a superset: each code point is checked).
_MARK_BLOCKS: Final = ((0x0300, 0x1DFF), (0x20D0, 0x20FF), (0x2CEF, 0x2DFF), (0x302A, 0x309A), (0xA66F, 0xABFF),
                       (0xFB1E, 0xFB1E), (0xFE00, 0xFE2F), (0x101FD, 0x11FFF), (0x16AF0, 0x16FFF),
                       (0x1BC9D, 0x1E95F), (0xE0100, 0xE01EF))


def _ranges(code_points: list[int]) -> str:
    """A regex character-class body (no brackets) for the sorted code points."""
    out: list[str] = []
    i = 0
    while i < len(code_points):
        j = i
        while j + 1 < len(code_points) and code_points[j + 1] == code_points[j] + 1:
            j += 1
        lo, hi = code_points[i], code_points[j]
        out.append(f"\\U{lo:08x}" if lo == hi else f"\\U{lo:08x}-\\U{hi:08x}")
        i = j + 1
    return "".join(out)


_MARK_CPS: Final = [cp for lo, hi in _MARK_BLOCKS for cp in range(lo, hi + 1)
                    if unicodedata.category(chr(cp))[0] == "M"]

MARKS: Final = _ranges(_MARK_CPS)
"""Character-class body: every combining mark (Mn, Mc, Me)."""

MARKS_BMP: Final = _ranges([cp for cp in _MARK_CPS if cp <= 0xFFFF])
"""Character-class body: the combining marks of the BMP. `re` compiles BMP sets to a bitmap but
checks the ranges above U+FFFF one by one for every character tested, so hot loops over whole
texts use this (the astral marks belong to historic and rare scripts)."""

WORD: Final = f"[\\w{MARKS}\\u200c\\u200d]"
"""One character of a word: `\\w`, a combining mark, ZWNJ or ZWJ."""

NOSPACE_RANGES: Final = (
    (0x0E00, 0x0EFF),       # Thai, Lao
    (0x1000, 0x109F),       # Myanmar
    (0x1780, 0x17FF),       # Khmer
    (0x3040, 0x30FF),       # Hiragana, Katakana
    (0x3400, 0x4DBF), (0x4E00, 0x9FFF), (0xF900, 0xFAFF), (0x20000, 0x3134F),   # Han
    (0xAC00, 0xD7AF),       # Hangul syllables (spaced, but particles glue onto nouns)
)
"""Code-point ranges of scripts written without spaces between words (or with particles glued on)."""

NOSPACE_SCRIPTS: Final = "".join(f"\\U{lo:08x}-\\U{hi:08x}" for lo, hi in NOSPACE_RANGES)
"""Character-class body of `NOSPACE_RANGES`."""

EMOJI: Final = (
    "\\u2190-\\u21ff\\u2300-\\u23ff\\u2600-\\u27bf\\u2b00-\\u2bff"   # arrows, technical, misc symbols, dingbats
    "\\ufe0e\\ufe0f\\u200d\\u20e3"                                  # variation selectors, ZWJ, keycap
    "\\U0001f000-\\U0001faff"                                      # emoji, flags, skin tones
)
"""Character-class body: emoji and pictographic symbols (with their joiners and selectors)."""
