"""Detector-quality evaluation: metrics are right on hand-made cases; baselines are online; --quick runs."""

from __future__ import annotations

import math

import numpy as np
import pytest

from pulse.quality.__main__ import main
from pulse.quality.baselines import BASELINES, episode_alerts, rolling_zscore
from pulse.quality.evaluate import TAIL_MS, Score, _baseline_alerts, ours, score_alerts
from pulse.quality.labeled import LabeledSeries, simulator_series, synthetic_series

MINUTE = 60_000


def labeled(n: int, spikes: tuple[tuple[int, int], ...], ignore_before: int = 0) -> LabeledSeries:
    return LabeledSeries("t/k", "volume_spike", MINUTE, np.arange(n, dtype=np.int64) * MINUTE, np.zeros(n),
                         spikes, ignore_before)


def test_score_counts_recall_false_alerts_delay_and_precision() -> None:
    series = labeled(2880, ((100, 150), (1000, 1010)), ignore_before=5)
    alerts = [0] * 2880
    tail = TAIL_MS // MINUTE
    for row in (2, 103, 120, 150 + tail - 1, 150 + tail, 2000):
        alerts[row] = 1
    score = score_alerts(series, alerts)
    assert (score.spikes, score.detected, score.delays) == (2, 1, [3])
    assert (score.true_alerts, score.false_alerts) == (3, 2)        # row 2 is warm-up: not judged
    assert score.key_days == pytest.approx((2880 - 5) / 1440)
    assert score.recall == 0.5 and score.precision == pytest.approx(0.6)
    total = Score()
    total.add(score)
    total.add(score_alerts(labeled(1440, ()), [0] * 1440))
    assert total.false_per_key_day == pytest.approx(2 / ((2880 - 5) / 1440 + 1))
    assert total.delay(0.5) == 3.0 and math.isnan(Score().delay(0.9))


def test_synthetic_series_are_deterministic_and_labeled_inside_the_series() -> None:
    first, again = synthetic_series(3, 4, 2), synthetic_series(3, 4, 2)
    assert all(np.array_equal(a.values, b.values) and a.spikes == b.spikes for a, b in zip(first, again, strict=True))
    for s in first:
        assert len(s.values) == 2 * 1440 and (s.values >= 0).all()
        assert all(720 <= onset < end <= len(s.values) for onset, end in s.spikes)
        for onset, end in s.spikes:             # a labeled spike stands out of its own surroundings
            assert s.values[onset:end].max() > 2 * max(1.0, float(np.median(s.values[max(0, onset - 120):onset])))


def test_baselines_are_online_and_alert_once_per_episode() -> None:
    rng = np.random.default_rng(0)
    values = rng.poisson(10, 3000).astype(np.float64)
    values[2000:2030] = 80.0
    for baseline in BASELINES:
        whole = baseline.statistic(values, MINUTE)
        prefix = baseline.statistic(values[:2010], MINUTE)
        assert np.allclose(whole[:2010], prefix), baseline.name
    z = rolling_zscore(values, MINUTE)
    alerts = episode_alerts(values, z, 8.0, min_volume=10, cooldown=30)
    assert list(np.flatnonzero(alerts)) == [2000]
    assert not episode_alerts(values, z, 8.0, min_volume=100, cooldown=30).any()


def test_baselines_get_the_cooldown_the_detector_runs_with_on_hourly_series() -> None:
    rng = np.random.default_rng(5)
    values = rng.poisson(100, 400).astype(np.float64)
    values[[300, 306]] = 900.0                  # two spikes six intervals apart
    for interval, expected in ((MINUTE, [300]), (60 * MINUTE, [300, 306])):   # cooldown 30 vs the hourly 1
        series = LabeledSeries("t/k", "volume_spike", interval, np.arange(400, dtype=np.int64) * interval,
                               values, ((300, 301), (306, 307)), 0)
        baseline = BASELINES[0]
        z = baseline.statistic(values, interval)
        assert list(np.flatnonzero(_baseline_alerts(baseline, series, z, 6.0))) == expected, interval
        assert [i for i, a in enumerate(ours(series)) if a] == expected, interval


def test_quick_report_runs_and_compares_every_detector(capsys: pytest.CaptureFixture[str]) -> None:
    main(["--quick", "--no-cost"])
    out = capsys.readouterr().out
    assert out.count("### ") == 5
    assert out.count("| spike detector (default config)") == 5
    for name in ("rolling z-score", "EWMA control chart", "seasonal median + ESD"):
        # posts: once with the population floor, once with min_volume alone
        assert out.count(f"| {name}") == 6, name
    assert out.count("min_volume floor only") == 3
    ours = [line for line in out.splitlines() if line.startswith("| spike detector")]
    recalls = [float(line.split("|")[2].split()[0]) for line in ours]
    assert all(0.0 <= r <= 1.0 for r in recalls)
    assert recalls[-2] == 1.0                   # the simulator's injected spikes (and their collateral) are all found
    assert recalls[-1] == 1.0                   # ... and the viral post among posts at a realistic rate


def test_simulated_posts_carry_the_population_statistic_per_minute() -> None:
    series = simulator_series(3, 0.4, 60.0, 1, 60)
    posts = [s for s in series if s.rule == "viral_post"]
    assert len(posts) > 5 and all(s.population is None for s in series if s.rule != "viral_post")
    by_minute: dict[int, float] = {}
    for s in posts:
        assert s.population is not None and len(s.population) == len(s.values)
        for start, value in zip(s.starts_ms.tolist(), s.population.tolist(), strict=True):
            if not math.isnan(value):        # one statistic per minute, whichever post looks at it
                assert by_minute.setdefault(start, value) == value
    minutes = sorted(by_minute)
    assert minutes and by_minute[minutes[-1]] > 0
    first = min(int(s.starts_ms[0]) for s in posts)
    assert first not in by_minute             # the first minute has no population yet: min_volume only


def test_detector_and_baselines_get_the_population_floor() -> None:
    n = 120
    values = np.full(n, 20.0)
    values[100] = 400.0
    for population, expected in ((20.0, [100]), (100.0, [])):     # floor 6 x 20 = 120 < 400 < 6 x 100
        series = LabeledSeries("t/p", "viral_post", MINUTE, np.arange(n, dtype=np.int64) * MINUTE, values,
                               ((100, 101),), 0, np.full(n, population))
        z = BASELINES[0].statistic(values, MINUTE)
        assert list(np.flatnonzero(_baseline_alerts(BASELINES[0], series, z, 6.0))) == expected, population
        assert [i for i, a in enumerate(ours(series)) if a] == expected, population
