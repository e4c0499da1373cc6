"""PopulationQuantile: a running high quantile of many keys' counts; the detector's population floor."""

from __future__ import annotations

import json

import numpy as np
import pytest

from streams.detect.config import DEFAULT_CONFIG
from streams.detect.detector import SpikeDetector
from streams.detect.population import PopulationQuantile
from streams.detect.series import run_series

MINUTE = 60_000
T0 = 1_795_478_400_000
VIRAL = DEFAULT_CONFIG.rule("viral_post")


def test_quantile_is_close_to_the_exact_one_and_on_the_low_side() -> None:
    rng = np.random.default_rng(1)
    counts = rng.lognormal(2.0, 1.5, 50_000)
    q = PopulationQuantile(0.999, 60.0, min_count=100)
    for x in counts.tolist():
        q.add(x)
    exact = float(np.quantile(counts, 0.999))
    value = q.value()
    assert value is not None and 0.9 * exact <= value <= exact


def test_zeros_do_not_count_and_too_little_data_gives_none() -> None:
    q = PopulationQuantile(0.99, 60.0, min_count=10)
    for _ in range(100):
        q.add(0.0)
    assert q.value() is None and q.total == 0.0
    for _ in range(9):
        q.add(5.0)
    assert q.value() is None
    q.add(5.0)
    value = q.value()
    assert value is not None and 4.5 < value <= 5.0


def test_old_intervals_are_forgotten_with_the_half_life() -> None:
    q = PopulationQuantile(0.9, 10.0, min_count=1)
    for _ in range(1000):
        q.add(1000.0)
    q.close_interval(10)                 # those 1000 now weigh 500
    assert q.total == pytest.approx(500.0)
    for _ in range(1000):
        q.add(10.0)
    value = q.value()                    # 1/3 of the weight is at 1000: the 90th percentile is there
    assert value is not None and value > 900
    q.close_interval(50)
    for _ in range(1000):
        q.add(10.0)
    value = q.value()
    assert value is not None and value < 11


def test_state_round_trips_through_json() -> None:
    q = PopulationQuantile(0.99, 60.0, min_count=1)
    for x in (1.0, 2.5, 0.1, 30_000.0, 1e12):
        q.add(x)
    q.close_interval()
    again = PopulationQuantile(0.99, 60.0, min_count=1)
    again.load(json.loads(json.dumps(q.to_list())))
    assert again.bins == q.bins and again.total == q.total and again.value() == q.value()
    with pytest.raises(ValueError, match="population quantile"):
        again.load([99, 0.0, []])


def test_bad_settings_are_refused() -> None:
    with pytest.raises(ValueError):
        PopulationQuantile(1.0, 60.0, 1)
    with pytest.raises(ValueError):
        PopulationQuantile(0.99, 0.0, 1)


def test_population_floor_keeps_a_small_take_off_quiet_and_lets_a_big_one_alert() -> None:
    # A post born quiet that takes off to ~100 per minute: surprising for the post, ordinary for posts.
    small = [0.0, 1.0, 0.0, 0.0, 0.0, 5.0, 60.0, 120.0, 90.0, 40.0] + [5.0] * 20
    big = [0.0, 1.0, 0.0, 0.0, 0.0, 50.0, 600.0, 1200.0, 900.0, 400.0] + [5.0] * 20
    starts = [T0 + i * MINUTE for i in range(len(small))]
    population: list[float | None] = [80.0] * len(small)      # the 99.9th percentile of post-minutes
    assert any(run_series(VIRAL, MINUTE, starts, small).alerts)              # min_volume only
    assert not any(run_series(VIRAL, MINUTE, starts, small, population=population).alerts)
    assert any(run_series(VIRAL, MINUTE, starts, big, population=population).alerts)
    # Unknown population (None rows): the fixed floor alone, as without one.
    unknown: list[float | None] = [None] * len(small)
    assert run_series(VIRAL, MINUTE, starts, small, population=unknown) == run_series(VIRAL, MINUTE, starts, small)
    with pytest.raises(ValueError, match="rows"):
        run_series(VIRAL, MINUTE, starts, small, population=population[:3])


def test_floor_is_min_volume_raised_by_the_population_and_off_for_other_rules() -> None:
    viral = SpikeDetector(VIRAL, MINUTE)
    assert viral.floor(None) == VIRAL.min_volume
    assert viral.floor(1.0) == VIRAL.min_volume
    assert viral.floor(1000.0) == pytest.approx(VIRAL.population_floor * 1000.0)
    volume = SpikeDetector(DEFAULT_CONFIG.rule("volume_spike"), MINUTE)
    assert volume.floor(1e6) == DEFAULT_CONFIG.rule("volume_spike").min_volume
