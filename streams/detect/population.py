"""PopulationQuantile: a running high quantile of one rule's per-key interval counts across many keys.

What is "a lot" for one post depends on how much engagement posts get at all (traffic, time of
day, platform): the detector's population floor (`RuleConfig.population_floor`) is a multiple of
this statistic, e.g. of the 99.9th percentile of weighted engagement per post-minute. The stream
keeps one per rule and windows partition; `run_series` and the quality evaluation take its values
per interval as an input, so stream and backtest judge the same way.

A log-scale histogram (`_BINS_PER_DOUBLING` bins per doubling, ~9% wide), exponentially decayed per
closed interval: O(1) per value, O(bins) once per interval, a fixed ~250 floats of state whatever
the number of keys. Only positive counts are added (a key with no counted events in an interval is
not part of that interval's population).

Order of use, once per closed interval: `add` every key's closed count, then `close_interval`;
`value()` read after that is the statistic every key's next interval is judged against.
"""

from __future__ import annotations

import math
from typing import Any, Final

__all__ = ["POPULATION_FORMAT", "PopulationQuantile"]

POPULATION_FORMAT: Final = 1       # first element of `to_list()`
_BINS_PER_DOUBLING: Final = 8
_LOW_EXP: Final = -4               # bin 0 holds counts below 2**-4 (weights like a view's 0.1 add up to this)
_HIGH_EXP: Final = 27              # the last bin holds counts from 2**27 (134 million) up
_NBINS: Final = (_HIGH_EXP - _LOW_EXP) * _BINS_PER_DOUBLING + 1


def _bin(value: float) -> int:
    i = math.floor((math.log2(value) - _LOW_EXP) * _BINS_PER_DOUBLING) + 1
    return 0 if i < 0 else _NBINS - 1 if i >= _NBINS else i


def _lower_edge(i: int) -> float:
    return 0.0 if i == 0 else 2.0 ** (_LOW_EXP + (i - 1) / _BINS_PER_DOUBLING)


class PopulationQuantile:
    """The `quantile` of the positive counts added, with a memory of `halflife_intervals` closed intervals."""

    __slots__ = ("bins", "decay", "min_count", "quantile", "total")

    def __init__(self, quantile: float, halflife_intervals: float, min_count: float) -> None:
        if not 0.0 < quantile < 1.0:
            raise ValueError(f"quantile must be in (0, 1), got {quantile}")
        if not halflife_intervals > 0:
            raise ValueError(f"halflife_intervals must be positive, got {halflife_intervals}")
        self.quantile = quantile
        self.decay = 0.5 ** (1.0 / halflife_intervals)
        self.min_count = min_count          # value() is None until this much (discounted) count is in
        self.bins = [0.0] * _NBINS
        self.total = 0.0

    def add(self, value: float) -> None:
        """One key's closed interval count (zero and negative counts are not part of the population)."""
        if value > 0.0:
            self.bins[_bin(value)] += 1.0
            self.total += 1.0

    def close_interval(self, intervals: int = 1) -> None:
        """`intervals` closed intervals have passed: older counts weigh less."""
        if intervals <= 0:
            return
        keep = self.decay ** intervals
        self.bins = [b * keep for b in self.bins]
        self.total *= keep

    def value(self) -> float | None:
        """The quantile (the lower edge of its bin: on the low side by at most 9%), or None with too little data."""
        if self.total < self.min_count or self.total <= 0.0:
            return None
        above = (1.0 - self.quantile) * self.total
        seen = 0.0
        bins = self.bins
        for i in range(_NBINS - 1, -1, -1):
            seen += bins[i]
            if seen > above:
                return _lower_edge(i)
        return 0.0

    def to_list(self) -> list[Any]:
        """Compact JSON-able form (for a changelog): the non-empty bins only."""
        return [POPULATION_FORMAT, self.total, [[i, b] for i, b in enumerate(self.bins) if b > 1e-9]]

    def load(self, data: list[Any]) -> None:
        """Restore what `to_list` wrote (the settings stay this object's own)."""
        if not isinstance(data, list) or len(data) != 3 or data[0] != POPULATION_FORMAT:
            raise ValueError(f"not a population quantile (format {POPULATION_FORMAT}): {str(data)[:80]}")
        bins = [0.0] * _NBINS
        for i, b in data[2]:
            bins[int(i)] = float(b)
        self.bins = bins
        self.total = float(data[1])
