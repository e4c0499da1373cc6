"""Spike detection over the minute buckets of one windows partition. Pure; clock as argument.

Per batch the stream assesses every touched, still-open minute with its partial count, so an
alert opens seconds after the event that crosses the threshold, not at the end of the minute.
When the watermark closes a minute, each key's final count is assessed, the lifecycle may
resolve, and the detector learns it (minutes without events are learned as zeros from the gap).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from streams.detect.config import DetectorConfig, RuleConfig
from streams.detect.detector import SpikeDetector
from streams.detect.lifecycle import AlertLifecycle, Transition
from streams.detect.population import PopulationQuantile
from streams.detect.state import KeyState
from streams.windows.contributions import MINUTE_MS, RuleMeasure
from streams.windows.state import BucketKey, WindowPartition

StateKey = tuple[int, str, str]  # rule index, dimension, key
AlertChange = tuple[str, str, RuleConfig, Transition]  # dimension, key, rule, transition

# A key's learned state is dropped after this long without events (posts: their life is short;
# brands and hashtags keep their daily rhythm for a week).
IDLE_FORGET_MS = {"post": 2 * 3600_000}
IDLE_FORGET_DEFAULT_MS = 7 * 24 * 3600_000
# Open alert keys walk at most this many empty closed minutes per close (after a long gap in
# event time the remaining minutes are learned as one gap of zeros).
MAX_QUIET_WALK = 180


def rule_measures(config: DetectorConfig) -> list[RuleMeasure]:
    """What the store stage counts per rule, in rule order (Contribution.measures)."""
    return [RuleMeasure(frozenset(r.dimensions), dict(r.kind_weights), r.sentiment_max) for r in config.rules]


@dataclass
class RuleRunner:
    rule: RuleConfig
    detector: SpikeDetector
    lifecycle: AlertLifecycle


class AlertEngine:
    def __init__(self, config: DetectorConfig) -> None:
        self.config = config
        self._runners: dict[tuple[int, str], RuleRunner] = {}
        self.states: dict[StateKey, KeyState] = {}
        self.last_seen: dict[StateKey, int] = {}  # newest minute with events
        self.open: set[StateKey] = set()  # keys with an open alert
        self.changed: set[StateKey] = set()
        self.removed: set[StateKey] = set()
        # Minutes before this are closed (set by the caller from the watermark); until there is a
        # watermark nothing is assessed.
        self.closed_before = 0
        self._rules_by_dim: dict[str, list[int]] = {}
        for i, r in enumerate(config.rules):
            for dim in r.dimensions:
                self._rules_by_dim.setdefault(dim, []).append(i)
        # Per rule, the running high quantile of all its keys' closed-minute counts here (the
        # population floor, see streams/detect/population.py), and its value as of the last closed
        # minute: what every key is assessed against until the next minute closes.
        self.populations = {i: PopulationQuantile(r.population_quantile, r.population_halflife_intervals,
                                                  r.population_min_count) for i, r in enumerate(config.rules)}
        self._population: dict[int, float | None] = {i: None for i in self.populations}
        self.population_through = 0  # minutes before this are in the populations
        self.population_changed = False
        self._idle_checked_at = -1

    def _runner(self, index: int, key: str) -> RuleRunner:
        name = self.config.rules[index].name
        rule = self.config.for_key(name, key)
        cache_key = (index, key) if rule is not self.config.rules[index] else (index, "")
        runner = self._runners.get(cache_key)
        if runner is None:
            runner = self._runners[cache_key] = RuleRunner(rule, SpikeDetector(rule, MINUTE_MS),
                                                           AlertLifecycle(rule, MINUTE_MS))
        return runner

    def _state(self, sk: StateKey, runner: RuleRunner, minute: int) -> KeyState:
        state = self.states.get(sk)
        if state is None:
            # From the minute the key is first seen: starting any earlier would count the minutes
            # between as zeros (and a post first seen while the watermark lags would look explosive).
            state = self.states[sk] = runner.detector.new_state(minute)
        return state

    def rules_for(self, dim: str) -> list[int]:
        return self._rules_by_dim.get(dim, [])

    def on_partial(self, dim: str, key: str, minute: int, measures: list[float],
                   now_ms: int) -> list[AlertChange]:
        """A still-open minute changed: open or escalate on its partial count."""
        out: list[AlertChange] = []
        if not self.closed_before:
            return out  # no watermark yet: nothing learned, and no minute to start learning from
        for i in self.rules_for(dim):
            sk = (i, dim, key)
            runner = self._runner(i, key)
            state = self._state(sk, runner, minute)
            if minute <= state.last_ms:
                continue  # the detector has learned this minute already (a late revision)
            self.last_seen[sk] = max(self.last_seen.get(sk, 0), minute)
            a = runner.detector.assess(state, minute, measures[i], self._population[i])
            t = runner.lifecycle.on_assessment(state, dim, key, a, now_ms)
            if t is not None:
                out.append((dim, key, runner.rule, t))
                self.open.add(sk)
                self.changed.add(sk)
        return out

    def on_closed(self, dim: str, key: str, minute: int, measures: list[float] | None,
                  now_ms: int) -> list[AlertChange]:
        """Minute closed for this key (measures None: no events in it)."""
        out = []
        for i in self.rules_for(dim):
            sk = (i, dim, key)
            if measures is None and sk not in self.states:
                continue
            out.extend(self.close_key(sk, minute, measures[i] if measures is not None else 0.0, now_ms))
        return out

    def close_key(self, sk: StateKey, minute: int, value: float, now_ms: int) -> list[AlertChange]:
        i, dim, key = sk
        runner = self._runner(i, key)
        state = self._state(sk, runner, minute)
        if minute <= state.last_ms:
            return []
        out = []
        a = runner.detector.assess(state, minute, value, self._population[i])
        opened = runner.lifecycle.on_assessment(state, dim, key, a, now_ms)
        if opened is not None:
            out.append((dim, key, runner.rule, opened))
        # An alert opened on a partial minute ahead of the watermark only calms from that minute on.
        if minute >= state.opened_ms:
            resolved = runner.lifecycle.on_interval_closed(state, dim, key, a, now_ms)
            if resolved is not None:
                out.append((dim, key, runner.rule, resolved))
        runner.detector.learn(state, minute, value)
        self.populations[i].add(value)
        if state.severity:
            self.open.add(sk)
        else:
            self.open.discard(sk)
        self.changed.add(sk)
        return out

    def close_quiet(self, minute: int, active: set[tuple[str, str]] | None,
                    now_ms: int) -> list[AlertChange]:
        """Keys with an open alert and no events in this closed minute learn a zero, so they can resolve."""
        out = []
        for sk in sorted(self.open):
            if active is None or (sk[1], sk[2]) not in active:
                out.extend(self.close_key(sk, minute, 0.0, now_ms))
        return out

    def close_population(self, closed_before: int) -> None:
        """After the keys of the minutes closed up to `closed_before` were closed (close_key): age
        the populations by the minutes that passed and take their new values."""
        if closed_before <= self.population_through:
            return
        passed = (closed_before - self.population_through) // MINUTE_MS if self.population_through else 1
        for i, population in self.populations.items():
            population.close_interval(passed)
            self._population[i] = population.value()
        self.population_through = closed_before
        self.population_changed = True

    def population_value(self) -> list[Any]:
        """The changelog form of the populations."""
        return [self.population_through, [self.populations[i].to_list() for i in sorted(self.populations)]]

    def load_population(self, value: list[Any]) -> None:
        """Recovery. A saved form with another number of rules (the configuration changed) is ignored."""
        through, saved = value
        if len(saved) != len(self.populations):
            return
        for i, data in enumerate(saved):
            self.populations[i].load(data)
            self._population[i] = self.populations[i].value()
        self.population_through = int(through)

    def forget_idle(self, now_minute: int) -> None:
        """Drop the states of keys idle for longer than their dimension's limit. What can be dropped
        changes only when minutes close (`now_minute` moves): a walk over every state is done once
        per `now_minute`, not once per batch."""
        if now_minute == self._idle_checked_at:
            return
        self._idle_checked_at = now_minute
        for sk, seen in list(self.last_seen.items()):
            if sk in self.open:
                continue
            if now_minute - seen > IDLE_FORGET_MS.get(sk[1], IDLE_FORGET_DEFAULT_MS):
                del self.last_seen[sk]
                self.states.pop(sk, None)
                self.changed.discard(sk)
                self.removed.add(sk)

    def state_value(self, sk: StateKey) -> list[Any]:
        return [self.last_seen.get(sk, 0), self.states[sk].to_list()]

    def load(self, sk: StateKey, value: list[Any]) -> None:
        self.last_seen[sk] = int(value[0])
        state = self.states[sk] = KeyState.from_list(value[1])
        if state.severity:
            self.open.add(sk)


def assess(part: WindowPartition, engine: AlertEngine, changed: list[BucketKey], now_ms: int,
           close: bool = True) -> list[AlertChange]:
    """Alert changes of one partition's batch: the open minutes it touched, then (if `close`) the
    minutes the watermark closed (and, while alerts are open, the quiet minutes in between). Not
    closing yet is as if the watermark came later: the minutes close with a later batch."""
    changes: list[AlertChange] = []
    engine.closed_before = part.closed_before
    # Only the dimensions a rule watches (most keys are authors', which none does).
    for dim, key, minute in dict.fromkeys(changed):
        if minute >= part.closed_before and engine.rules_for(dim):
            bucket = part.bucket(dim, key, minute)
            if bucket is not None:
                changes.extend(engine.on_partial(dim, key, minute, bucket.data.measures, now_ms))
    previous = part.closed_before
    closing = part.close(now_ms) if close else []
    engine.closed_before = part.closed_before
    walk = set(closing)
    if engine.open and previous:
        start = max(previous, part.closed_before - MAX_QUIET_WALK * MINUTE_MS)
        walk.update(range(start, part.closed_before, MINUTE_MS))
    for minute in sorted(walk):
        active = part.by_minute.get(minute)
        for dim, key in sorted(k for k in active or () if engine.rules_for(k[0])):
            bucket = part.bucket(dim, key, minute)
            measures = bucket.data.measures if bucket is not None else None
            changes.extend(engine.on_closed(dim, key, minute, measures, now_ms))
        changes.extend(engine.close_quiet(minute, active, now_ms))
    engine.close_population(part.closed_before)
    return changes
