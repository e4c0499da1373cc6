"""SpikeDetector: pure assess, learn once per interval, alerts on spikes and not on ordinary traffic."""

from __future__ import annotations

import dataclasses
import json
import math

import numpy as np
import pytest

from streams.detect.config import DEFAULT_CONFIG, RuleConfig
from streams.detect.detector import KeyState, SpikeDetector
from streams.detect.series import run_series

MINUTE = 60_000
T0 = 1_795_478_400_000          # a Monday, 00:00 UTC
VOLUME = DEFAULT_CONFIG.rule("volume_spike")
VIRAL = DEFAULT_CONFIG.rule("viral_post")


def starts(n: int, interval: int = MINUTE) -> list[int]:
    return [T0 + i * interval for i in range(n)]


def traffic(rate: float, n: int, seed: int, dispersion: float = 0.05, daily: float = 0.5) -> list[float]:
    """Bursty (negative binomial) per-minute counts with a daily rhythm."""
    rng = np.random.default_rng(seed)
    hour = (np.arange(n) / 60.0) % 24
    mean = rate * (1 + daily * np.sin(2 * np.pi * (hour - 9) / 24))
    return [float(x) for x in rng.poisson(mean * rng.gamma(1 / dispersion, dispersion, n))]


def opened_rows(rule: RuleConfig, values: list[float]) -> list[int]:
    result = run_series(rule, MINUTE, starts(len(values)), values)
    return [row for row, t in result.transitions if t.status == "opened"]


def warmed(rule: RuleConfig, values: list[float]) -> tuple[SpikeDetector, KeyState]:
    detector = SpikeDetector(rule, MINUTE)
    state = detector.new_state(T0)
    for t, v in zip(starts(len(values)), values, strict=True):
        detector.learn(state, t, v)
    return detector, state


def test_assess_is_pure_and_the_score_is_a_monotone_probability() -> None:
    detector, state = warmed(VOLUME, traffic(20, 600, seed=1))
    before = state.to_list()
    now = T0 + 600 * MINUTE
    scores = [detector.assess(state, now, float(x)).score for x in range(0, 400, 5)]
    detector.assess(state, now + 50 * MINUTE, 1000.0)              # after a gap, too
    assert state.to_list() == before
    assert all(0.0 <= s <= 1.0 for s in scores)
    assert scores == sorted(scores)                                # partial counts only grow: so does the score
    assert scores[0] == 0.0 and scores[-1] > 0.99


@pytest.mark.parametrize("rate", [0.2, 3.0, 30.0, 300.0])
def test_ordinary_bursty_traffic_with_a_daily_rhythm_does_not_alert(rate: float) -> None:
    values = traffic(rate, 2 * 1440, seed=int(rate * 10))
    assert opened_rows(VOLUME, values) == []


def test_a_sharp_spike_alerts_at_its_first_interval() -> None:
    values = traffic(20, 600, seed=2, daily=0.0)
    values[500:520] = [v + 120 for v in values[500:520]]
    assert opened_rows(VOLUME, values) == [500]


def test_a_sustained_moderate_rise_adds_up_over_intervals() -> None:
    values = [10.0] * 300 + [26.0] * 20
    detector, state = warmed(VOLUME, values[:300])
    first = detector.assess(state, T0 + 300 * MINUTE, 26.0)
    assert first.score < VOLUME.open_score                       # one such interval is not enough ...
    rows = opened_rows(VOLUME, values)
    assert len(rows) == 1 and 300 < rows[0] <= 306                 # ... a few in a row are


def test_small_counts_never_alert_however_unusual() -> None:
    values = [0.0] * 300 + [9.0] * 30                              # from nothing to 9 a minute, below min_volume 10
    assert opened_rows(VOLUME, values) == []
    detector, state = warmed(VOLUME, [0.0] * 300)
    damped = detector.assess(state, T0 + 300 * MINUTE, 5.0).score
    full = detector.assess(state, T0 + 300 * MINUTE, 10.0).score
    assert damped <= VOLUME.open_score * 0.5 < full


def test_a_new_post_taking_off_alerts_within_minutes_and_ordinary_posts_never_do() -> None:
    # Accelerating from birth: judged from its fourth minute (min_history_intervals = 3).
    assert opened_rows(VIRAL, [5.0, 20.0, 60.0, 200.0, 700.0, 2000.0]) in ([3], [4])
    # Born with a big burst that fades (every post's first minutes): never an alert.
    assert opened_rows(VIRAL, [2744.0, 757.0, 288.0, 90.0, 4.0, 8.0, 3.0, 0.0, 0.0, 1.0]) == []
    # A birth burst, a plateau, then a cascade: the alert is the cascade's, not the birth's (which
    # would have spent the cooldown).
    assert opened_rows(VIRAL, [1.0, 177.0, 232.0, 208.0, 234.0, 162.0, 688.0, 5614.0, 12092.0]) in ([6], [7])
    rng = np.random.default_rng(5)
    for _ in range(50):                                            # a handful of likes, then fading
        values = [float(x) for x in rng.poisson(np.linspace(6, 0.2, 120))]
        assert opened_rows(VIRAL, values) == []
    assert opened_rows(VIRAL, [25.0, 28.0, 22.0, 30.0, 27.0]) == []   # steady from the start: nothing new


def test_a_busy_key_first_seen_does_not_alert_on_its_own_level() -> None:
    values = traffic(150, 120, seed=3, daily=0.0)
    assert opened_rows(VOLUME, values) == []


def test_learning_resists_the_spike_but_absorbs_a_lasting_level_shift() -> None:
    base = traffic(20, 600, seed=4, daily=0.0)
    spiked = base + [v * 10 for v in traffic(20, 30, seed=5, daily=0.0)]
    _, after_spike = warmed(VOLUME, spiked)
    detector = SpikeDetector(VOLUME, MINUTE)
    assert detector.assess(after_spike, T0 + 630 * MINUTE, 0.0).expected < 40     # not 200

    shifted = base + traffic(30, 600, seed=6, daily=0.0)             # x1.5 for good: not a spike
    assert opened_rows(VOLUME, shifted) == []
    _, state = warmed(VOLUME, shifted)
    assert detector.assess(state, T0 + 1200 * MINUTE, 0.0).expected == pytest.approx(30, rel=0.15)


def test_skipped_intervals_count_as_zeros_in_constant_time() -> None:
    rule = dataclasses.replace(VOLUME, daily=False, weekly=False)
    history = traffic(20, 200, seed=7, daily=0.0)
    detector, jumped = warmed(rule, history)
    _, explicit = warmed(rule, history + [0.0] * 40)
    detector.learn(jumped, T0 + 240 * MINUTE, 15.0)                 # 40 empty intervals skipped
    detector.learn(explicit, T0 + 240 * MINUTE, 15.0)
    at = T0 + 241 * MINUTE
    assert detector.assess(jumped, at, 15.0).expected == pytest.approx(detector.assess(explicit, at, 15.0).expected)

    years = 10 * 365 * 1440
    detector.learn(jumped, T0 + years * MINUTE, 1.0)               # a decade of silence: O(1), still finite
    assert math.isfinite(jumped.weight) and jumped.weight < 100
    assert detector.assess(jumped, T0 + (years + 1) * MINUTE, 0.0).expected < 1.0


def test_an_interval_is_learned_once() -> None:
    detector, state = warmed(VOLUME, traffic(20, 100, seed=8))
    before = state.to_list()
    detector.learn(state, T0 + 99 * MINUTE, 500.0)                  # already learned
    detector.learn(state, T0 + 50 * MINUTE, 500.0)                  # older
    assert state.to_list() == before


def test_a_daily_profile_is_learned_for_busy_keys_only_and_sharpens_the_expectation() -> None:
    n = 8 * 1440
    busy = traffic(40, n, seed=9, daily=0.8)
    _, state = warmed(VOLUME, busy)
    assert state.season is not None and len(state.season) == 31
    # The fast level follows the rhythm late; the profile learns that correction: up in the morning ramp.
    assert state.season[8] > 1.1 > 0.9 > state.season[20]
    true_rate = 40 * (1 + 0.8 * np.sin(2 * np.pi * ((np.arange(n) / 60.0) % 24 - 9) / 24))

    def last_day_error(rule: RuleConfig) -> float:
        expected = np.array(run_series(rule, MINUTE, starts(n), busy).expected)
        return float(np.mean(np.abs(expected[-1440:] - true_rate[-1440:]) / true_rate[-1440:]))

    assert last_day_error(VOLUME) < 0.92 * last_day_error(dataclasses.replace(VOLUME, daily=False, weekly=False))
    _, quiet = warmed(VOLUME, [0.0, 1.0, 0.0, 0.0] * 100)
    assert quiet.season is None
    _, post = warmed(VIRAL, busy[:600])
    assert post.season is None                                      # posts have no profile at all


def test_the_state_round_trips_through_json() -> None:
    detector, state = warmed(VOLUME, traffic(40, 3 * 1440, seed=10))
    restored = KeyState.from_list(json.loads(json.dumps(state.to_list())))
    at = T0 + 3 * 1440 * MINUTE
    for x in (0.0, 40.0, 200.0):
        assert detector.assess(restored, at, x).score == pytest.approx(detector.assess(state, at, x).score, abs=1e-4)
    assert len(json.dumps(state.to_list())) < 600
    with pytest.raises(ValueError):
        KeyState.from_list([99, 1, 2])


def test_hourly_and_daily_series_scale_the_expectation() -> None:
    hourly = [600.0 + (200.0 if 8 <= i % 24 <= 20 else -200.0) for i in range(24 * 21)]
    result = run_series(VOLUME, 3_600_000, starts(len(hourly), 3_600_000), hourly)
    # The first doubling may surprise a key with no history; once learned, the rhythm is not a spike.
    # A noise-free step this sharp re-alerts at 08:00 on the first days: with an hour of cooldown the
    # alert is open the whole day, and an open alert pauses learning the profile (2-day half-life).
    alerted = [i for i, alert in enumerate(result.alerts) if alert]
    assert alerted and alerted[0] == 8 and all(i % 24 == 8 and i < 24 * 7 for i in alerted)
    assert result.expected[-1] == pytest.approx(hourly[-1], rel=0.2)
    daily = [1000.0 + (300.0 if i % 7 < 5 else -300.0) for i in range(7 * 20)]
    daily[120] = 6000.0
    result = run_series(VOLUME, 86_400_000, starts(len(daily), 86_400_000), daily)
    assert [i for i, a in enumerate(result.alerts) if a] == [120]


def test_an_hourly_series_uses_the_hourly_settings_and_finds_what_the_minute_ones_miss() -> None:
    hour = 3_600_000
    rng = np.random.default_rng(2)
    n = 24 * 14
    mean = 2000.0 * np.exp(0.6 * np.cos(2 * np.pi * (np.arange(n) % 24 - 15) / 24))
    values = [float(x) for x in rng.poisson(mean * rng.gamma(1 / 0.004, 0.004, n))]
    spike = 24 * 10 + 11
    values[spike] *= 2.5             # an hour at 2.5x: a short spike summed into its hour
    result = run_series(VOLUME, hour, starts(n, hour), values)
    assert [i for i, a in enumerate(result.alerts) if a] == [spike]
    # The minute-scale memories (level 60 h, profile 7 days, burstiness 10 days) at hourly data:
    # the rhythm is learned too slowly, burstiness too high; the same hour does not alert.
    minute_scale = dataclasses.replace(
        VOLUME, hourly_sensitivity_factor=1.0, hourly_halflife_intervals=VOLUME.halflife_intervals,
        hourly_daily_halflife_days=VOLUME.daily_halflife_days,
        hourly_dispersion_halflife_intervals=VOLUME.dispersion_halflife_intervals)
    assert not any(run_series(minute_scale, hour, starts(n, hour), values).alerts)


def test_minute_series_ignore_the_hourly_settings() -> None:
    values = traffic(20, 600, seed=2, daily=0.0)
    values[500:520] = [v + 120 for v in values[500:520]]
    odd = dataclasses.replace(VOLUME, hourly_sensitivity_factor=50.0, hourly_halflife_intervals=1.0,
                              hourly_daily_halflife_days=0.1, hourly_dispersion_halflife_intervals=1.0)
    assert SpikeDetector(odd, MINUTE).rule is odd
    assert run_series(odd, MINUTE, starts(600), values) == run_series(VOLUME, MINUTE, starts(600), values)
