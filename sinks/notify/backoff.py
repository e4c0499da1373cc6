"""Retry schedule: capped exponential backoff with full jitter (each wait uniform in [0, cap_i]),
so many failing deliveries do not retry in lock-step against a recovering receiver."""

from __future__ import annotations

from collections.abc import Callable


def retry_delay(retry: int, base_s: float, max_s: float, uniform: Callable[[float, float], float]) -> float:
    """Seconds to wait before retry number `retry` (1 = the first retry): uniform(0, min(max_s, base_s·2^(retry-1)))."""
    ceiling = min(max_s, base_s * 2.0 ** (retry - 1))
    return uniform(0.0, ceiling)


def retry_after_delay(value: str | None, max_s: float) -> float | None:
    """A receiver's `Retry-After: <seconds>` (HTTP 429/503), capped; None when absent or not seconds."""
    if value is None:
        return None
    try:
        seconds = float(value.strip())
    except ValueError:
        return None
    return min(max(seconds, 0.0), max_s) if seconds == seconds else None


def retryable_status(status: int) -> bool:
    """Worth retrying: server errors, timeouts and rate limits. Other 4xx (and 3xx: redirects are not
    followed, so a moved URL is a configuration error) fail the same way on every try."""
    return status >= 500 or status in (408, 425, 429)
