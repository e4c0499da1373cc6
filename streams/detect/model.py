"""The learned expectation of one key's count per interval, and how surprising a count is against it.

Model: count ~ negative binomial with mean `mu = rate * season` and variance `mu + mu^2 * (d + 1/shape)`.

* `rate` is a Gamma-Poisson posterior mean: a weak prior (`prior_rate`, worth `prior_strength`
  intervals, never forgotten) plus the key's own exponentially discounted counts (half-life
  `halflife_intervals`), so a new key starts at the rule's prior and moves to its own data as it accrues.
* `1/shape` is the posterior's own uncertainty: large for a key seen for a few intervals (wide
  predictive, few cold-start alerts), negligible once it has history.
* `d` is the overdispersion of bursty counts, a discounted method-of-moments estimate, floored.
* `season` is a multiplicative hour-of-day x day-of-week profile (UTC), learned Holt-Winters style
  at a slow rate, when the interval is short enough for it to mean something.

Learning is robust: counts are winsorised at mu + 3 sd, or at mu + 1 sd while an alert is open or
the interval looks anomalous (and then dispersion and profile stand still), so a spike does not
become the baseline while it happens, yet a lasting level shift is absorbed within a few half-lives.
"""

from __future__ import annotations

import math
from array import array
from typing import Final

from streams.detect.config import RuleConfig
from streams.detect.state import KeyState

__all__ = ["RateModel", "surprise"]

MINUTE_MS: Final = 60_000
HOUR_MS: Final = 3_600_000
DAY_MS: Final = 86_400_000
_SEASON_MIN: Final = 0.05          # profile factors stay within [min, max]: one odd day cannot zero a slot
_SEASON_MAX: Final = 10.0
_SEASON_MIN_RATE: Final = 0.5      # a key gets a profile once it has history and this many counts per interval
_CLIP_SD: Final = 3.0              # burstiness never learns from counts beyond mu + this many sd
_DISP_PRIOR_WEIGHT: Final = 10.0   # the dispersion prior is worth this much sum of mu^2
_DISP_MAX: Final = 2.0             # sd = 1.4 x mu at most: burstier than that is not "normal" any more
_MONDAY_OFFSET: Final = 3          # 1970-01-01 was a Thursday: (days + 3) % 7 == 0 on Mondays


def surprise(x: float, mu: float, inv_size: float) -> float:
    """How surprising a count of at least `x` is under NB(mean mu, 1/size = inv_size), in nats.

    Half the unit deviance of the negative binomial with a continuity correction: close to
    -ln P(X >= x) in the upper tail (the saddle-point exponent), 0 at or below the mean, monotone
    in x, and two logarithms instead of an incomplete beta function.
    """
    xc = x - 0.5
    if xc <= mu:
        return 0.0
    if inv_size < 1e-9:
        return xc * math.log(xc / mu) - (xc - mu)        # Poisson limit
    size = 1.0 / inv_size
    return xc * math.log(xc / mu) - (xc + size) * math.log((xc + size) / (mu + size))


class RateModel:
    """Constants of one rule at one interval length; the per-key numbers live in KeyState."""

    __slots__ = ("daily", "decay", "disp_decay", "disp_min", "disp_prior", "interval_ms", "prior_shape",
                 "prior_weight", "rate_daily", "rate_weekly", "season_len", "week0", "weekly")

    def __init__(self, rule: RuleConfig, interval_ms: int) -> None:
        if interval_ms <= 0:
            raise ValueError(f"interval_ms must be positive, got {interval_ms}")
        self.interval_ms = interval_ms
        self.decay = 0.5 ** (1.0 / rule.halflife_intervals)
        self.disp_decay = 0.5 ** (1.0 / rule.dispersion_halflife_intervals)
        # The prior is prior_rate per minute (the stream's interval) and worth prior_strength minutes
        # of data: its shape (pseudo-events, i.e. how sure it is) does not depend on the interval.
        self.prior_shape = rule.prior_rate * rule.prior_strength
        self.prior_weight = self.prior_shape / (rule.prior_rate * interval_ms / MINUTE_MS)
        self.disp_prior = rule.dispersion_prior
        self.disp_min = rule.dispersion_min
        # An hour-of-day profile needs intervals under a day; a day-of-week one, intervals up to a day.
        self.daily = rule.daily and interval_ms < DAY_MS
        self.weekly = rule.weekly and interval_ms <= DAY_MS
        # Layout: 24 hour-of-day factors, then 7 day-of-week factors.
        self.season_len = (24 if self.daily else 0) + (7 if self.weekly else 0)
        self.week0 = 24 if self.daily else 0
        # Learning rate per update of a profile slot, from half-lives in days/weeks: an hour slot is
        # updated once per interval of that hour, a weekday slot once per interval of that day.
        per_hour = max(1.0, HOUR_MS / interval_ms)
        per_day = max(1.0, DAY_MS / interval_ms)
        self.rate_daily = 1.0 - 0.5 ** (1.0 / (rule.daily_halflife_days * per_hour))
        self.rate_weekly = 1.0 - 0.5 ** (1.0 / (rule.weekly_halflife_weeks * per_day))

    def season_factor(self, season: array[float] | None, interval_start_ms: int) -> float:
        if season is None:
            return 1.0
        f = 1.0
        if self.daily:
            f = season[(interval_start_ms // HOUR_MS) % 24]
        if self.weekly:
            f *= season[self.week0 + (interval_start_ms // DAY_MS + _MONDAY_OFFSET) % 7]
        return f

    def predict(self, state: KeyState, interval_start_ms: int) -> tuple[float, float, float, float]:
        """(mu, 1/size, onset and burst CUSUMs before this interval). Pure."""
        skipped = (interval_start_ms - state.last_ms) // self.interval_ms - 1
        level, weight, onset, burst = state.level, state.weight, state.onset, state.burst
        if skipped > 0:     # empty intervals since the last one learned: discount in O(1)
            dk = self.decay ** skipped
            level *= dk
            weight = weight * dk + (1.0 - dk) / (1.0 - self.decay)
            onset = burst = 0.0      # zeros only count against a rise
        shape = self.prior_shape + level
        mu = shape / (self.prior_weight + weight)
        if state.season is not None:
            mu *= self.season_factor(state.season, interval_start_ms)
        # Shrunk to the prior by a fixed weight in units of mu^2: at a few counts per interval the
        # moments say little about burstiness, at hundreds they say everything.
        disp = (state.disp_num + self.disp_prior * _DISP_PRIOR_WEIGHT) / (state.disp_den + _DISP_PRIOR_WEIGHT)
        if disp < self.disp_min:
            disp = self.disp_min
        elif disp > _DISP_MAX:
            disp = _DISP_MAX
        return mu, disp + 1.0 / shape, onset, burst

    def learn(self, state: KeyState, interval_start_ms: int, observed: float, clip_sd: float, shape: bool) -> None:
        """Fold one closed interval's count in (after discounting any skipped, empty intervals).

        The count is winsorised at mu + clip_sd sd for the level; `shape` False leaves burstiness and
        the daily/weekly profile alone (for intervals that look anomalous).
        """
        skipped = (interval_start_ms - state.last_ms) // self.interval_ms - 1
        if skipped < 0:
            return          # already learned (a repeated or out-of-order interval): learning is once only
        mu, inv_size, _onset, _burst = self.predict(state, interval_start_ms)
        decay = self.decay
        if skipped > 0:
            dk = decay ** skipped
            state.level *= dk
            state.weight = state.weight * dk + (1.0 - dk) / (1.0 - decay)
            dk = self.disp_decay ** skipped
            state.disp_num *= dk
            state.disp_den *= dk
        sd = math.sqrt(mu + mu * mu * inv_size)
        cap = mu + clip_sd * sd
        x = observed if observed < cap else cap
        season = state.season
        factor = self.season_factor(season, interval_start_ms) if season is not None else 1.0
        if shape and self.season_len and state.weight > 0.5 / (1.0 - decay):
            if season is None and mu >= _SEASON_MIN_RATE:
                # A profile only for keys busy enough to learn one (most keys are a long, quiet tail).
                season = state.season = array("f", [1.0]) * self.season_len
            if season is not None:
                self._learn_season(state, season, interval_start_ms, x, mu / factor)
        state.level = state.level * decay + x / factor
        state.weight = state.weight * decay + 1.0
        if shape:
            keep = self.disp_decay
            if x > mu + _CLIP_SD * sd:
                x = mu + _CLIP_SD * sd
            state.disp_num = state.disp_num * keep + (x - mu) * (x - mu) - mu
            state.disp_den = state.disp_den * keep + mu * mu
        state.last_ms = interval_start_ms

    def _learn_season(self, state: KeyState, season: array[float], t: int, x: float, rate: float) -> None:
        daily, weekly = self.daily, self.weekly
        hour = (t // HOUR_MS) % 24
        day = self.week0 + (t // DAY_MS + _MONDAY_OFFSET) % 7
        if daily:
            other = season[day] if weekly else 1.0
            ratio = min(x / (rate * other), _SEASON_MAX)
            season[hour] = min(max(season[hour] + self.rate_daily * (ratio - season[hour]), _SEASON_MIN),
                               _SEASON_MAX)
            if (state.last_ms // HOUR_MS) % 24 != hour:
                self._normalise(state, season, 0, 24)     # once an hour, keep the profile's mean at 1
        if weekly:
            other = season[hour] if daily else 1.0
            ratio = min(x / (rate * other), _SEASON_MAX)
            season[day] = min(max(season[day] + self.rate_weekly * (ratio - season[day]), _SEASON_MIN),
                              _SEASON_MAX)
            if (state.last_ms // DAY_MS) != (t // DAY_MS):
                self._normalise(state, season, self.week0, self.week0 + 7)

    @staticmethod
    def _normalise(state: KeyState, season: array[float], lo: int, hi: int) -> None:
        mean = sum(season[lo:hi]) / (hi - lo)
        if mean > 0:
            for i in range(lo, hi):
                season[i] /= mean
            state.level *= mean      # the same expectation, with the scale moved into the level
