"""Author reach tiers, from follower counts (the usual influencer-marketing bands).

==========  ======================
tier        followers
==========  ======================
``nano``    < 1,000 (and unknown: 0)
``micro``   1,000 - 9,999
``mid``     10,000 - 99,999
``macro``   100,000 - 999,999
``mega``    >= 1,000,000
==========  ======================

Verification does not change the tier: the tier measures reach, and `actor_verified` is stored
next to it, so queries can combine the two. The `verified` argument is kept so the signature does
not change if a platform's verification ever should count (e.g. as a floor); today it is unused.
Negative counts (bad input) count as 0.
"""

from __future__ import annotations

from typing import Final

__all__ = ["TIERS", "author_tier"]

TIERS: Final = ("nano", "micro", "mid", "macro", "mega")
"""All tiers, smallest reach first."""


def author_tier(followers: int, verified: bool = False) -> str:
    """The reach tier of an author with `followers` followers; `verified` does not change it."""
    if followers < 10_000:
        return "nano" if followers < 1_000 else "micro"
    if followers < 1_000_000:
        return "mid" if followers < 100_000 else "macro"
    return "mega"
