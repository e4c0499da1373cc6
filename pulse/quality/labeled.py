"""Labeled count series for the detector-quality evaluation: where the spikes are is known.

Three sources:

* `simulator_series`: the project's own traffic simulator (`pulse.simulate`) with its ground truth.
  Per-minute series, weighted per rule exactly as the stream feeds the detector, for the keys of the
  injected spikes and for the busiest other keys (the hard negatives: popular posts, busy hashtags).
  Keys that mostly exist because of an injected surge (its texts carry hashtags like #boycott and
  #refund) spike with it and are labeled with its window. The first 10 simulated minutes are not
  judged: the simulator's very first posts take all the engagement.
  Series of a rule with a population floor (viral_post) carry, per minute, the rule's population
  statistic as the stream would keep it over every key of the run (one windows partition).
* `synthetic_series`: per-minute counts shaped like real social traffic, several days per key: a base
  rate from 0.1 to 100 per minute (log-uniform), a daily profile (peak hour and depth per key),
  quieter weekends, slow drift, slowly wandering noise (AR(1) on the log-rate, ~50 min memory),
  bursty negative-binomial counts (overdispersion 0.02-0.3), and sometimes a level shift.
* `hourly_series`: the synthetic series summed per hour, as a backtest of an hourly export sees them.

What is a spike (labeled): an onset that ramps up over 2-15 minutes, a plateau of 3-60 minutes and a
decay of 5-60 minutes, peaking at 3-20x the key's current rate and at least 20-60 events/minute
above it (8-25 for the sparser negative-sentiment series). The label is the whole episode, onset
to end of decay.

What is NOT a spike (unlabeled, on purpose): a level shift by x0.5-x1.6 (a brand's baseline settling
lower or up to 60% higher is news for a dashboard, not a page for the on-call), the daily and
weekly rhythm, drift, and the wandering noise. An alert there counts as false.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Final

import numpy as np
import numpy.typing as npt

from pulse.simulate import GroundTruth, SimulationConfig, simulate
from streams.detect.config import DEFAULT_CONFIG, RuleConfig
from streams.detect.population import PopulationQuantile

__all__ = ["LabeledSeries", "hourly_series", "simulator_series", "synthetic_series"]

MINUTE_MS: Final = 60_000
DAY_MINUTES: Final = 1440
MONDAY_MS: Final = 1_795_478_400_000       # 2026-11-23T00:00:00Z, a Monday: synthetic series start here
SIM_START_MS: Final = 1_795_248_000_000    # 2026-11-21T08:00:00Z: simulated hours include the morning ramp
SIM_WARMUP_MINUTES: Final = 10             # the simulator's first posts take all engagement: not judged


@dataclass(frozen=True)
class LabeledSeries:
    name: str                              # "<source>/<dimension>/<key>"
    rule: str                              # the detector rule that watches this series
    interval_ms: int
    starts_ms: npt.NDArray[np.int64]
    values: npt.NDArray[np.float64]
    spikes: tuple[tuple[int, int], ...]    # labeled episodes as [onset row, end row)
    ignore_before: int = 0                 # rows before this are not judged (warm-up of the source)
    # Per row: the rule's population statistic the stream would have judged the row with (see
    # streams/detect/population.py), NaN where it had none; None: not known (one series on its own).
    population: npt.NDArray[np.float64] | None = None

    def population_rows(self) -> list[float | None] | None:
        """`population` as run_series takes it."""
        if self.population is None:
            return None
        return [None if math.isnan(v) else v for v in self.population.tolist()]

    @property
    def days(self) -> float:
        return (len(self.values) - self.ignore_before) * self.interval_ms / 86_400_000


# ------------------------------------------------------------------------------------------ synthetic
def synthetic_series(seed: int, keys: int, days: int, rule: str = "volume_spike",
                     base: tuple[float, float] = (0.1, 100.0),
                     extra: tuple[float, float] = (20.0, 60.0)) -> list[LabeledSeries]:
    return [_synthetic_key(np.random.default_rng([seed, i]), f"synthetic/{rule}/k{i}", rule, days, base, extra)
            for i in range(keys)]


def hourly_series(seed: int, keys: int, days: int) -> list[LabeledSeries]:
    """The synthetic minute series summed per hour, as one would backtest an hourly export.

    A spike is labeled on every hour it touches; short spikes mostly drown in an hour's total.
    """
    out = []
    for s in synthetic_series(seed, keys, days):
        values = s.values.reshape(-1, 60).sum(axis=1)
        spikes = tuple((onset // 60, -(-end // 60)) for onset, end in s.spikes)
        out.append(LabeledSeries(s.name.replace("synthetic/", "hourly/"), s.rule, 60 * MINUTE_MS, s.starts_ms[::60],
                                 values, spikes))
    return out


def _synthetic_key(rng: np.random.Generator, name: str, rule: str, days: int, base_range: tuple[float, float],
                   extra_range: tuple[float, float]) -> LabeledSeries:
    n = days * DAY_MINUTES
    minute = np.arange(n)
    hour = (minute / 60.0) % 24.0
    weekday = (minute // DAY_MINUTES) % 7                  # 0 = Monday
    base = math.exp(rng.uniform(math.log(base_range[0]), math.log(base_range[1])))
    depth, peak = rng.uniform(0.2, 0.9), rng.uniform(9.0, 21.0)
    daily = np.exp(depth * np.cos(2 * np.pi * (hour - peak) / 24.0))
    daily /= daily[:DAY_MINUTES].mean()
    weekly = np.where(weekday >= 5, rng.uniform(0.5, 1.0), 1.0)
    drift = np.exp(rng.uniform(-0.3, 0.3) * minute / n)
    rate = base * daily * weekly * drift * np.exp(_ar1(rng, n, phi=0.98, sd=rng.uniform(0.05, 0.2)))
    if rng.random() < 0.4:        # unlabeled level shift
        at = int(rng.integers(DAY_MINUTES // 2, n))
        rate[at:] *= math.exp(rng.uniform(math.log(0.5), math.log(1.6)))
    extra = np.zeros(n)
    spikes: list[tuple[int, int]] = []
    for _ in range(int(rng.poisson(0.4 * days))):
        ramp, plateau, decay = int(rng.integers(2, 16)), int(rng.integers(3, 61)), int(rng.integers(5, 61))
        length = ramp + plateau + decay
        onset = int(rng.integers(DAY_MINUTES // 2, n - length))
        if any(onset < end + 360 and s < onset + length + 360 for s, end in spikes):
            continue                                         # keep episodes >= 6 h apart
        lift = math.exp(rng.uniform(math.log(3.0), math.log(20.0)))
        height = max(rate[onset] * (lift - 1.0), rng.uniform(*extra_range))
        shape = np.concatenate([((np.arange(ramp) + 1) / ramp) ** 2, np.ones(plateau),
                                np.exp(-3.0 * (np.arange(decay) + 1) / decay)])
        extra[onset:onset + length] += height * shape
        spikes.append((onset, onset + length))
    dispersion = math.exp(rng.uniform(math.log(0.02), math.log(0.3)))
    mean = (rate + extra) * rng.gamma(1.0 / dispersion, dispersion, n)
    values = rng.poisson(mean).astype(np.float64)
    starts = MONDAY_MS + minute.astype(np.int64) * MINUTE_MS
    return LabeledSeries(name, rule, MINUTE_MS, starts, values, tuple(sorted(spikes)))


def _ar1(rng: np.random.Generator, n: int, phi: float, sd: float) -> npt.NDArray[np.float64]:
    noise = rng.normal(0.0, sd * math.sqrt(1 - phi * phi), n)
    out = np.empty(n)
    level = rng.normal(0.0, sd)
    for i in range(n):        # n is a few thousand per key: a plain loop is fast enough
        level = phi * level + noise[i]
        out[i] = level
    return out


# ------------------------------------------------------------------------------------------ simulator
# Which rule watches which simulator dimension, as the stream wires them.
_RULE_OF: Final = {"post": "viral_post", "hashtag": "volume_spike", "brand": "volume_spike"}


def simulator_series(seed: int, hours: float, rate: float, cascades: int, negatives: int) -> list[LabeledSeries]:
    """Run the simulator; series of the injected spike keys plus the `negatives` busiest other keys."""
    truth = GroundTruth()
    config = SimulationConfig(start_ms=SIM_START_MS, seed=seed, rate=rate, duration_s=hours * 3600,
                              viral_cascades=cascades, duplicate_ratio=0.0, late_ratio=0.0, malformed_ratio=0.0)
    for _ in simulate(config, truth):
        pass
    first = SIM_START_MS // MINUTE_MS
    n = math.ceil(hours * 60)
    weights = {rule: dict(DEFAULT_CONFIG.rule(rule).kind_weights) for rule in set(_RULE_OF.values())}
    series: dict[tuple[str, str], npt.NDArray[np.float64]] = {}
    born: dict[tuple[str, str], int] = {}
    for (dimension, key, minute_s, kind), count in truth.counts.items():
        rule = _RULE_OF.get(dimension)
        if rule is None:
            continue
        w = weights[rule].get(kind, 0.0)
        row = minute_s // 60 - first
        if not 0 <= row < n:
            continue
        values = series.get((dimension, key))
        if values is None:
            values = series[(dimension, key)] = np.zeros(n)
            born[(dimension, key)] = row
        values[row] += w * count
        born[(dimension, key)] = min(born[(dimension, key)], row)
    windows: dict[tuple[str, str], list[tuple[int, int]]] = {}
    for spike in truth.spikes:     # a key may be injected twice in one run
        onset = spike.start_ms // MINUTE_MS - first
        windows.setdefault((spike.dimension, spike.key), []).append((onset, -(-spike.end_ms // MINUTE_MS) - first))
    every_window = sorted(w for ws in windows.values() for w in ws)
    # Collateral: a surge's texts carry hashtags such as #boycott or #refund that hardly occur
    # otherwise; a key with most of its events inside injected windows spikes with them: labeled so.
    for key_id, values in series.items():
        if key_id in windows or key_id[0] == "post":
            continue
        floor = DEFAULT_CONFIG.rule(_RULE_OF[key_id[0]]).min_volume
        inside = [(a, b) for a, b in every_window if values[a:b].max(initial=0.0) >= floor]
        if inside and sum(float(values[a:b].sum()) for a, b in inside) >= 0.5 * float(values.sum()):
            windows[key_id] = inside
    populations = {rule: _population(DEFAULT_CONFIG.rule(rule), series, n) for rule in set(_RULE_OF.values())
                   if DEFAULT_CONFIG.rule(rule).population_floor > 0}
    others = sorted((k for k in series if k not in windows), key=lambda k: -float(series[k].sum()))
    chosen = [k for k in windows if k in series] + others[:negatives]
    out = []
    for dimension, key in chosen:
        values = series[(dimension, key)]
        # Posts exist from their first event; hashtags and brands are watched from the start.
        begin = born[(dimension, key)] if dimension == "post" else 0
        spikes = tuple((a - begin, b - begin) for a, b in sorted(windows.get((dimension, key), ())))
        starts = (first + begin + np.arange(n - begin, dtype=np.int64)) * MINUTE_MS
        population = populations.get(_RULE_OF[dimension])
        out.append(LabeledSeries(f"simulator{seed}/{dimension}/{key}", _RULE_OF[dimension], MINUTE_MS, starts,
                                 values[begin:].copy(), spikes, ignore_before=max(0, SIM_WARMUP_MINUTES - begin),
                                 population=None if population is None else population[begin:].copy()))
    return out


def _population(rule: RuleConfig, series: dict[tuple[str, str], npt.NDArray[np.float64]],
                n: int) -> npt.NDArray[np.float64]:
    """Per minute, the rule's population statistic as the stream keeps it (one partition: every key
    of the rule's dimensions) before that minute: the counts of all minutes before it, NaN if too few."""
    rows: list[npt.NDArray[np.int64]] = []
    counts: list[npt.NDArray[np.float64]] = []
    for (dimension, _key), values in series.items():
        if dimension in rule.dimensions:
            nonzero = np.flatnonzero(values)
            rows.append(nonzero)
            counts.append(values[nonzero])
    all_rows = np.concatenate(rows) if rows else np.zeros(0, dtype=np.int64)
    all_counts = np.concatenate(counts) if counts else np.zeros(0)
    order = np.argsort(all_rows, kind="stable")
    bounds = np.searchsorted(all_rows[order], np.arange(n + 1))
    ordered = all_counts[order].tolist()
    quantile = PopulationQuantile(rule.population_quantile, rule.population_halflife_intervals,
                                  rule.population_min_count)
    out = np.full(n, np.nan)
    for row in range(n):
        value = quantile.value()
        if value is not None:
            out[row] = value
        for count in ordered[bounds[row]:bounds[row + 1]]:
            quantile.add(count)
        quantile.close_interval()
    return out
