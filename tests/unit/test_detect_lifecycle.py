"""Alert lifecycle: one alert per spike, severity only rises, hysteresis, cooldown, deterministic ids."""

from __future__ import annotations

import dataclasses

import numpy as np

from streams.detect.config import DEFAULT_CONFIG, RuleConfig
from streams.detect.detector import Assessment, SpikeDetector
from streams.detect.lifecycle import AlertLifecycle, Transition, alert_id
from streams.detect.series import run_series

MINUTE = 60_000
T0 = 1_795_478_400_000
RULE = DEFAULT_CONFIG.rule("volume_spike")       # open 0.9, resolve 0.5 x 3, cooldown 30, min_volume 10


def at(i: int) -> int:
    return T0 + i * MINUTE


def a(i: int, score: float, observed: float = 50.0, expected: float = 10.0) -> Assessment:
    return Assessment(at(i), observed, expected, score)


def test_alert_id_is_deterministic_and_names_the_alert() -> None:
    first = alert_id("volume_spike", "brand", "acme", at(5))
    assert first == alert_id("volume_spike", "brand", "acme", at(5))
    assert len(first) == 20 and int(first, 16) >= 0
    others = {alert_id("viral_post", "brand", "acme", at(5)), alert_id("volume_spike", "hashtag", "acme", at(5)),
              alert_id("volume_spike", "brand", "acme2", at(5)), alert_id("volume_spike", "brand", "acme", at(6))}
    assert first not in others and len(others) == 4


def test_open_escalate_resolve_with_hysteresis_then_cooldown() -> None:
    lc = AlertLifecycle(RULE, MINUTE)
    st = SpikeDetector(RULE, MINUTE).new_state(T0)
    events: list[Transition] = []

    def closed(i: int, assessment: Assessment) -> None:
        for t in (lc.on_assessment(st, "brand", "acme", assessment),
                  lc.on_interval_closed(st, "brand", "acme", assessment)):
            if t is not None:
                events.append(t)

    closed(0, a(0, 0.95, observed=30))                 # 3x: info
    closed(1, a(1, 0.99, observed=50))                 # 5x: warning
    closed(2, a(2, 0.99, observed=30))                 # smaller again: severity does not fall
    for i in range(3, 10):
        closed(i, a(i, 0.7))                           # between resolve and open: still open (hysteresis)
    closed(10, a(10, 0.2))
    closed(11, a(11, 0.95))                            # a spike again before 3 calm intervals: counter restarts
    for i in range(12, 15):
        closed(i, a(i, 0.1))                           # resolves on the 3rd calm interval (row 14)
    assert [(t.status, t.severity) for t in events] == [("opened", "info"), ("escalated", "warning"),
                                                        ("resolved", "warning")]
    assert {t.alert_id for t in events} == {alert_id("volume_spike", "brand", "acme", at(0))}
    assert all(t.opened_at_ms == at(0) for t in events)
    assert events[2].at_ms == at(15)                   # the end of the interval that resolved it

    for i in range(15, 45):                            # cooldown: 30 intervals after the resolve
        assert lc.on_assessment(st, "brand", "acme", a(i, 0.99, observed=500)) is None
    reopened = lc.on_assessment(st, "brand", "acme", a(45, 0.99, observed=500))
    assert reopened is not None and reopened.status == "opened" and reopened.severity == "critical"
    assert reopened.alert_id == alert_id("volume_spike", "brand", "acme", at(45)) != events[0].alert_id


def test_partial_counts_open_once_and_the_closed_interval_does_not_reopen() -> None:
    detector = SpikeDetector(RULE, MINUTE)
    lc = AlertLifecycle(RULE, MINUTE)
    st = detector.new_state(T0)
    for i in range(200):
        detector.learn(st, at(i), 10.0 + (i % 3))
    transitions = []
    for partial in (2.0, 5.0, 12.0, 30.0, 60.0, 90.0, 140.0, 160.0):      # one interval, batch after batch
        t = lc.on_assessment(st, "brand", "acme", detector.assess(st, at(200), partial), now_ms=at(200) + 1000)
        if t is not None:
            transitions.append(t)
    final = detector.assess(st, at(200), 160.0)
    assert lc.on_assessment(st, "brand", "acme", final) is None
    assert lc.on_interval_closed(st, "brand", "acme", final) is None
    detector.learn(st, at(200), 160.0)
    statuses = [t.status for t in transitions]
    assert statuses[0] == "opened" and set(statuses[1:]) <= {"escalated"} and len(statuses) <= 3
    severities = [t.severity for t in transitions]
    assert severities == sorted(severities, key=["info", "warning", "critical"].index)
    assert all(t.opened_at_ms == at(200) and t.at_ms == at(200) + 1000 for t in transitions)


def test_the_floor_holds_even_for_a_high_score() -> None:
    lc = AlertLifecycle(RULE, MINUTE)
    st = SpikeDetector(RULE, MINUTE).new_state(T0)
    assert lc.on_assessment(st, "brand", "acme", a(0, 0.999, observed=9.0, expected=0.1)) is None
    assert st.severity == 0


def test_a_long_spike_is_one_alert_and_replays_identically() -> None:
    rng = np.random.default_rng(3)
    values = [float(x) for x in rng.poisson(20, 600)]
    values[300:420] = [float(x) for x in rng.poisson(200, 120)]           # two hours at 10x
    starts = [at(i) for i in range(600)]
    first = run_series(RULE, MINUTE, starts, values, "brand", "acme")
    again = run_series(RULE, MINUTE, starts, values, "brand", "acme")
    opened = [(row, t) for row, t in first.transitions if t.status == "opened"]
    resolved = [(row, t) for row, t in first.transitions if t.status == "resolved"]
    assert len(opened) == 1 and 300 <= opened[0][0] <= 302
    assert len(resolved) == 1 and 420 <= resolved[0][0] <= 430
    assert sum(first.alerts) <= 3                                          # opened + at most two escalations
    assert [(r, t.alert_id, t.status) for r, t in first.transitions] == \
        [(r, t.alert_id, t.status) for r, t in again.transitions]


def test_series_runs_the_stream_sequence() -> None:
    rule = dataclasses.replace(RULE, cooldown_intervals=5)
    rng = np.random.default_rng(4)
    values = [float(x) for x in rng.poisson(15, 400)]
    for start in (100, 200, 300):
        values[start:start + 10] = [150.0] * 10
    starts = [at(i) for i in range(400)]
    result = run_series(rule, MINUTE, starts, values, "hashtag", "ai")
    detector, lc = SpikeDetector(rule, MINUTE), AlertLifecycle(rule, MINUTE)
    st = detector.new_state(starts[0])
    alerts = []
    for t, v in zip(starts, values, strict=True):
        assessment = detector.assess(st, t, v)
        opened = lc.on_assessment(st, "hashtag", "ai", assessment)
        lc.on_interval_closed(st, "hashtag", "ai", assessment)
        detector.learn(st, t, v)
        alerts.append(0 if opened is None else 1)
    assert result.alerts == alerts
    assert [i for i, x in enumerate(alerts) if x] and all(
        any(s <= i < s + 10 for s in (100, 200, 300)) for i, x in enumerate(alerts) if x)


def first_reopen_after_a_resolve(rule: RuleConfig, interval_ms: int) -> int:
    """Intervals from the resolving one to the first that may open again."""
    lc = AlertLifecycle(rule, interval_ms)
    st = SpikeDetector(rule, interval_ms).new_state(T0)
    hot = Assessment(T0, 500.0, 10.0, 0.99)
    assert lc.on_assessment(st, "brand", "acme", hot) is not None
    for i in range(1, 4):
        resolved = lc.on_interval_closed(st, "brand", "acme", Assessment(T0 + i * interval_ms, 10.0, 10.0, 0.1))
    assert resolved is not None and resolved.status == "resolved"
    for gap in range(1, 100):
        if lc.on_assessment(st, "brand", "acme", Assessment(T0 + (3 + gap) * interval_ms, 500.0, 10.0, 0.99)):
            return gap
    raise AssertionError("never reopened")


def test_the_cooldown_of_an_hourly_series_is_the_hourly_one() -> None:
    hour = 3_600_000
    assert (RULE.cooldown_intervals, RULE.hourly_cooldown_intervals) == (30, 1)
    assert first_reopen_after_a_resolve(RULE, MINUTE) == 31                # 30 quiet minutes
    assert first_reopen_after_a_resolve(RULE, hour) == 2                   # one quiet hour, not 30
    assert first_reopen_after_a_resolve(RULE, 86_400_000) == 2
    slow = dataclasses.replace(RULE, hourly_cooldown_intervals=5)
    assert first_reopen_after_a_resolve(slow, hour) == 6
    assert first_reopen_after_a_resolve(slow, MINUTE) == 31                # minutes never use it
