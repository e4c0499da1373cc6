"""SpikeDetector: a surprise score in [0, 1] for one key's count in one interval, and learning from it.

Pure: no clock, no I/O. `assess` does not mutate (the stream calls it after every batch with the
still-open interval's partial count, which only grows); `learn` is called once per closed interval.

Evidence, in nats (≈ -ln of a tail probability), is the largest of:

* this interval alone: the negative-binomial tail of the count against `min_lift` x expected (a
  rise smaller than that is never called a spike, however large the volume);
* onset: a leaky CUSUM of the log-likelihood ratio "rate is `onset_lift` x that" against "rate is
  that", so a sustained moderate rise adds up over a few intervals;
* burst: the same for `burst_lift` x, which adds up much faster when a ramp is steep.

The two CUSUMs wait until the key has a few intervals of its own history (a cold key is judged on
the interval alone, against its wide prior). score = 1 - exp(-sensitivity * evidence / 5): at
sensitivity 1 the open score 0.9 needs ~11.5 nats of evidence. Below the floor the score is
capped at open_score x count / floor, so it never reaches the open score there. The floor is
`min_volume`, raised to `population_floor` x `population` when the caller gives the population
statistic (the running high quantile of all keys' counts, see population.py): what is a lot for one
post depends on how much engagement posts get at all.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Final

from streams.detect.config import RuleConfig
from streams.detect.model import RateModel, surprise
from streams.detect.state import KeyState

__all__ = ["COLD_INTERVALS", "SURPRISE_SCALE", "Assessment", "KeyState", "SpikeDetector"]

SURPRISE_SCALE: Final = 5.0        # nats of evidence per unit of -ln(1 - score) at sensitivity 1
COLD_INTERVALS: Final = 3.0        # a key with less history than this is cold: prior-dominated
_SUSPECT_SCORE: Final = 0.8        # an interval scoring this high is learned cautiously
_CLIP_SD: Final = 3.0              # learned counts are winsorised at mu + this many sd ...
_CLIP_SD_SUSPECT: Final = 1.0      # ... and at this many while an alert is open or the interval is suspect
_CUSUM_CAP: Final = 1.25           # accumulated evidence is capped at this x the open score's evidence
_HALF_LN_2PI: Final = 0.5 * math.log(2.0 * math.pi)


@dataclass(frozen=True, slots=True)
class Assessment:
    interval_start_ms: int
    observed: float
    expected: float
    score: float          # in [0, 1]


class SpikeDetector:
    """One rule at one interval length. Thread-compatible: all per-key data is in KeyState."""

    __slots__ = ("_burst_cost", "_cap", "_evidence_scale", "_keep", "_ln_burst", "_ln_onset", "_min_history",
                 "_onset_cost", "_open_score", "_suspect_evidence", "min_lift", "min_volume", "model",
                 "population_floor", "rule")

    def __init__(self, rule: RuleConfig, interval_ms: int) -> None:
        rule = rule.at_interval(interval_ms)      # hourly series: the rule's hourly settings
        self.rule = rule
        self.model = RateModel(rule, interval_ms)
        self.min_lift = rule.min_lift
        self.min_volume = rule.min_volume
        self.population_floor = rule.population_floor
        self._open_score = rule.open_score
        # Discounted interval count at which the history is long enough (weight after n intervals
        # is a little under n).
        self._min_history = rule.min_history_intervals - 0.5
        self._evidence_scale = rule.sensitivity / SURPRISE_SCALE
        self._ln_onset = math.log(rule.onset_lift)
        self._onset_cost = rule.onset_lift - 1.0
        self._ln_burst = math.log(rule.burst_lift)
        self._burst_cost = rule.burst_lift - 1.0
        self._keep = 0.5 ** (1.0 / rule.onset_halflife_intervals)
        open_evidence = -math.log(1.0 - rule.open_score) * SURPRISE_SCALE / rule.sensitivity
        # Accumulated evidence only has to reach the open score; capped a little above it, it falls
        # back below the resolve score within a few intervals once a spike is over.
        self._cap = _CUSUM_CAP * open_evidence
        self._suspect_evidence = -math.log(1.0 - _SUSPECT_SCORE) * SURPRISE_SCALE / rule.sensitivity

    @property
    def interval_ms(self) -> int:
        return self.model.interval_ms

    def new_state(self, now_ms: int) -> KeyState:
        """State of a key first seen at `now_ms`: the rule's prior, no alert."""
        interval = self.model.interval_ms
        return KeyState(last_ms=(now_ms // interval) * interval - interval)

    def _evidence(self, state: KeyState, interval_start_ms: int, observed: float) -> tuple[float, float, float, float]:
        """(expected, evidence in nats, onset CUSUM, burst CUSUM after this interval). Pure."""
        mu, inv_size, onset, burst = self.model.predict(state, interval_start_ms)
        reference = mu * self.min_lift
        evidence = surprise(observed, reference, inv_size)
        if evidence > 0.5:
            # The deviance is the exponent of the tail; adding the normal tail's log factor makes
            # the evidence -ln P(X >= observed) rather than a lower bound of it.
            evidence += 0.5 * math.log(2.0 * evidence) + _HALF_LN_2PI
        if state.weight < COLD_INTERVALS:
            return mu, evidence, 0.0, 0.0
        # Log-likelihood ratios, divided by the variance inflation of the NB (quasi-likelihood).
        inflation = 1.0 + mu * inv_size
        cap = self._cap
        onset = onset * self._keep + (observed * self._ln_onset - reference * self._onset_cost) / inflation
        onset = 0.0 if onset < 0.0 else cap if onset > cap else onset
        burst = burst * self._keep + (observed * self._ln_burst - reference * self._burst_cost) / inflation
        burst = 0.0 if burst < 0.0 else cap if burst > cap else burst
        if onset > evidence:
            evidence = onset
        if burst > evidence:
            evidence = burst
        return mu, evidence, onset, burst

    def floor(self, population: float | None) -> float:
        """The count below which this rule never alerts, given the population statistic (None: unknown)."""
        if population is None or not self.population_floor:
            return self.min_volume
        floor = self.population_floor * population
        return floor if floor > self.min_volume else self.min_volume

    def assess(self, state: KeyState, interval_start_ms: int, observed: float,
               population: float | None = None) -> Assessment:
        """Score `observed` (a partial or closed count). `population`: the rule's population quantile
        (`PopulationQuantile.value()` as of the last closed interval), None where there is none."""
        mu, evidence, _onset, _burst = self._evidence(state, interval_start_ms, observed)
        score = 1.0 - math.exp(-self._evidence_scale * evidence)
        floor = self.floor(population)
        if observed < floor:
            # Below the floor the score stays under the open score, in proportion to the count.
            cap = self._open_score * observed / floor
            if score > cap:
                score = cap
        if state.weight < self._min_history and score >= self._open_score:
            # Too young to judge (a post's first minutes are its birth, not a spike): just under.
            score = math.nextafter(self._open_score, 0.0)
        return Assessment(interval_start_ms, observed, mu, score)

    def learn(self, state: KeyState, interval_start_ms: int, observed: float) -> None:
        """Fold one closed interval in; intervals skipped since the last call count as zeros."""
        if interval_start_ms <= state.last_ms:
            return          # learned already: learning is once per interval, in order
        _mu, evidence, onset, burst = self._evidence(state, interval_start_ms, observed)
        if state.weight < COLD_INTERVALS:
            # Cold start: the expectation is mostly the prior; learn the key's own counts as they are
            # (their distance from the prior says nothing about the key's burstiness).
            self.model.learn(state, interval_start_ms, observed, math.inf, False)
        elif state.severity > 0 or evidence > self._suspect_evidence:
            # Possibly a spike: follow it only slowly, and do not learn it as burstiness or rhythm.
            self.model.learn(state, interval_start_ms, observed, _CLIP_SD_SUSPECT, False)
        else:
            self.model.learn(state, interval_start_ms, observed, _CLIP_SD, True)
        state.onset = onset
        state.burst = burst
