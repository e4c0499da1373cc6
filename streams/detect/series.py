"""Run one rule over a whole count series, exactly as the stream does per closed interval.

Per row: assess -> on_assessment -> on_interval_closed -> learn. `pulse backtest` and the quality
evaluation both use this, so what they measure is what the stream does.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from streams.detect.config import RuleConfig
from streams.detect.detector import SpikeDetector
from streams.detect.lifecycle import AlertLifecycle, Transition

__all__ = ["SeriesResult", "run_series"]


@dataclass(frozen=True, slots=True)
class SeriesResult:
    scores: list[float]            # per row, in [0, 1]
    alerts: list[int]              # per row: 1 where an alert opened or escalated
    expected: list[float]          # per row: the expectation the row was scored against
    transitions: list[tuple[int, Transition]]   # (row index, transition), resolves included


def run_series(rule: RuleConfig, interval_ms: int, starts_ms: Sequence[int], values: Sequence[float],
               dimension: str = "series", key: str = "series",
               population: Sequence[float | None] | None = None) -> SeriesResult:
    """Rows are closed intervals in time order; a jump of k intervals between rows means k-1 empty ones.

    `population`, per row: the rule's population statistic the stream would have assessed that row
    with (`PopulationQuantile.value()` after the previous interval closed; None where it had none).
    Without it (one series on its own, e.g. `pulse backtest`) only `min_volume` is the floor.
    """
    detector = SpikeDetector(rule, interval_ms)
    lifecycle = AlertLifecycle(rule, interval_ms)
    scores: list[float] = []
    alerts: list[int] = []
    expected: list[float] = []
    transitions: list[tuple[int, Transition]] = []
    if not starts_ms:
        return SeriesResult(scores, alerts, expected, transitions)
    state = detector.new_state(starts_ms[0])
    if population is not None and len(population) != len(values):
        raise ValueError(f"population has {len(population)} rows, values {len(values)}")
    for row, (start, value) in enumerate(zip(starts_ms, values, strict=True)):
        a = detector.assess(state, start, value, None if population is None else population[row])
        opened = lifecycle.on_assessment(state, dimension, key, a)
        resolved = lifecycle.on_interval_closed(state, dimension, key, a)
        detector.learn(state, start, value)
        scores.append(a.score)
        expected.append(a.expected)
        alerts.append(1 if opened is not None else 0)
        if opened is not None:
            transitions.append((row, opened))
        if resolved is not None:
            transitions.append((row, resolved))
    return SeriesResult(scores, alerts, expected, transitions)
