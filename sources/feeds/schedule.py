"""When to poll a feed next: its interval while it works; capped exponential backoff with jitter,
per feed, while it fails (so a broken feed is asked less and less often, and many feeds failing
together do not retry in lock-step)."""

from __future__ import annotations

from collections.abc import Callable


def next_delay(failures: int, interval_s: float, base_s: float, max_s: float,
               uniform: Callable[[float, float], float]) -> float:
    """Seconds until the next poll after `failures` consecutive failures (0: the last poll worked).

    The n-th failure waits uniform(c/2, c), c = min(max_s, base_s·2^(n-1)) ("equal jitter": never
    close to zero, unlike full jitter, so a failing feed is not hammered)."""
    if failures <= 0:
        return interval_s
    ceiling = min(max_s, base_s * 2.0 ** min(failures - 1, 60))
    return uniform(ceiling / 2.0, ceiling)
