"""Textbook detectors to compare the spike detector against, all online (row i uses rows <= i).

Each computes a z-like statistic per row; `episode_alerts` turns it into alerts with the same
floor, hysteresis, resolve and cooldown the spike detector's lifecycle uses, so the comparison is
about the statistic, not the alert plumbing. Every spread is floored at the Poisson sd of the
expectation (sqrt(max(expected, 1))) so sparse series do not divide by ~0: a sensible tweak, not a
handicap.

* rolling z-score: mean and sd of the previous `window` rows;
* EWMA control chart: an EWMA of the counts (lambda 0.2) against control limits around a slow
  EWMA mean and variance of the previous rows;
* seasonal median + ESD: expectation = median of the same minute (+-2) on up to 7 previous days
  (or of the previous `window` rows while there is no full day of history), then a robust
  (median/MAD) z of the residual against the previous `window` residuals, the test statistic of
  Twitter's S-H-ESD applied online.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

__all__ = ["BASELINES", "Baseline", "episode_alerts", "ewma_chart", "rolling_zscore", "seasonal_esd"]

Array = npt.NDArray[np.float64]
MIN_HISTORY = 5           # rows before a baseline may alert (cold start: as early as is sane)


def _spread_floor(expected: Array, spread: Array) -> Array:
    return np.maximum(spread, np.sqrt(np.maximum(expected, 1.0)))


def rolling_zscore(values: Array, interval_ms: int, window: int = 60) -> Array:
    n = len(values)
    cs = np.concatenate([[0.0], np.cumsum(values)])
    cs2 = np.concatenate([[0.0], np.cumsum(values * values)])
    idx = np.arange(n)
    lo = np.maximum(idx - window, 0)
    count = (idx - lo).astype(np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = (cs[idx] - cs[lo]) / count
        var = (cs2[idx] - cs2[lo]) / count - mean * mean
    sd = _spread_floor(mean, np.sqrt(np.maximum(var, 0.0)))
    z: Array = np.nan_to_num((values - mean) / sd)
    z[count < MIN_HISTORY] = 0.0
    return z


def _ewma(values: Array, alpha: float, start: float) -> Array:
    """out[i] = EWMA of values[:i] (the previous rows only)."""
    out = np.empty(len(values))
    level = start
    keep = 1.0 - alpha
    for i, x in enumerate(values.tolist()):
        out[i] = level
        level = keep * level + alpha * x
    return out


def ewma_chart(values: Array, interval_ms: int, lam: float = 0.2, halflife: float = 60.0) -> Array:
    if len(values) == 0:
        return np.zeros(0)
    slow = 1.0 - 0.5 ** (1.0 / halflife)
    first = float(values[0])
    mean = _ewma(values, slow, first)
    second = _ewma(values * values, slow, first * first)
    sd = _spread_floor(mean, np.sqrt(np.maximum(second - mean * mean, 0.0)))
    # The chart statistic includes the current row: z_t = lam * x_t + (1 - lam) * z_{t-1}.
    chart = _ewma(values, lam, first)
    chart = (1.0 - lam) * chart + lam * values
    z: Array = (chart - mean) / (sd * np.sqrt(lam / (2.0 - lam)))
    z[:MIN_HISTORY] = 0.0
    return z


def seasonal_esd(values: Array, interval_ms: int, window: int = 60, days: int = 7, spread: int = 2) -> Array:
    n = len(values)
    per_day = max(1, 86_400_000 // interval_ms)
    same_slot = np.full((n, days * (2 * spread + 1)), np.nan)
    col = 0
    for d in range(1, days + 1):
        for o in range(-spread, spread + 1):
            shift = d * per_day - o
            if 0 < shift < n:
                same_slot[shift:, col] = values[:n - shift]
            col += 1
    have_day = np.arange(n) >= per_day + spread
    recent = _trailing_median(values, window)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)     # all-NaN rows: no history yet, handled below
        seasonal = np.nanmedian(np.where(have_day[:, None], same_slot, np.nan), axis=1) if n else np.zeros(0)
    expected = np.where(have_day, np.nan_to_num(seasonal, nan=0.0), recent)
    residual = values - expected
    center = _trailing_median(residual, window)
    mad = _trailing_median(np.abs(residual - center), window)   # MAD around the trailing median
    sd = _spread_floor(expected, 1.4826 * mad)
    z = (residual - center) / sd
    z[:MIN_HISTORY] = 0.0
    return np.nan_to_num(z)


def _trailing_median(values: Array, window: int) -> Array:
    """out[i] = median of values[max(0, i - window):i] (0 for i = 0)."""
    n = len(values)
    out = np.zeros(n)
    if n == 0:
        return out
    padded = np.concatenate([np.full(window, np.nan), values])
    view = np.lib.stride_tricks.sliding_window_view(padded, window)[:n]   # row i: the window before i
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)     # the first row has an empty window
        med = np.nanmedian(view, axis=1)
    out[:] = np.nan_to_num(med, nan=0.0)
    return out


def episode_alerts(values: Array, z: Array, threshold: float, min_volume: float | Array, cooldown: int,
                   resolve_intervals: int = 3) -> npt.NDArray[np.int8]:
    """1 where an alert opens: z >= threshold and volume >= floor, not open, not cooling down.

    `min_volume` is the floor, one for all rows or one per row (the detector's population floor).

    Same hysteresis as the spike detector: an open alert resolves after `resolve_intervals` rows
    in a row with z below half the threshold; then `cooldown` rows without a new alert.
    """
    alerts = np.zeros(len(values), dtype=np.int8)
    hot = ((z >= threshold) & (values >= min_volume)).tolist()
    calm_rows = (z < threshold / 2.0).tolist()
    is_open = False
    calm = 0
    quiet_until = 0
    for i, (h, c) in enumerate(zip(hot, calm_rows, strict=True)):
        if is_open:
            calm = calm + 1 if c else 0
            if calm >= resolve_intervals:
                is_open = False
                quiet_until = i + cooldown + 1
        elif h and i >= quiet_until:
            alerts[i] = 1
            is_open = True
            calm = 0
    return alerts


@dataclass(frozen=True)
class Baseline:
    name: str
    statistic: Callable[[Array, int], Array]
    thresholds: tuple[float, ...]      # candidates; the evaluation picks one on a separate tuning set


BASELINES = (
    Baseline("rolling z-score (60)", rolling_zscore, (3.0, 4.0, 5.0, 6.0, 8.0)),
    Baseline("EWMA control chart", ewma_chart, (3.0, 4.0, 5.0, 6.0, 8.0)),
    Baseline("seasonal median + ESD", seasonal_esd, (3.0, 4.0, 5.0, 6.0, 8.0)),
)
