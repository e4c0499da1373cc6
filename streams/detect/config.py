"""Detector configuration: one rule per alert kind, per-key overrides, read from `deploy/detector.toml`.

The defaults below are the documented ones: `deploy/detector.toml` repeats them with a comment per
knob, and a unit test checks that the file and these defaults agree. Running with no file uses them.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

from streams.toml_file import read_toml

__all__ = ["DEFAULT_CONFIG", "HOUR_MS", "RULE_NAMES", "DetectorConfig", "RuleConfig", "load_detector_config"]

HOUR_MS: Final = 3_600_000          # from this interval on, a rule's hourly settings apply


@dataclass(frozen=True)
class RuleConfig:
    """One alert rule. Counts are per interval (the stream's interval is one minute)."""

    name: str                                  # "volume_spike" | "viral_post" | "negative_surge"
    dimensions: tuple[str, ...]                # which keys the rule watches
    sensitivity: float = 1.0                   # higher = more alerts (scales the surprise)
    min_volume: float = 10.0                   # never alert while the interval's count is below this
    cooldown_intervals: int = 30               # after a resolve, no new alert for the key for this long
    min_history_intervals: int = 0             # never alert before the key has this many intervals of history
    # Population floor: never alert while the count is below population_floor x the running
    # population_quantile of all keys' positive interval counts for this rule (kept by the stream
    # per windows partition; an input of run_series). 0 = off; no population data = min_volume only.
    population_floor: float = 0.0
    population_quantile: float = 0.99
    population_halflife_intervals: float = 30.0
    population_min_count: float = 1000.0       # key-intervals (discounted) before the quantile is used
    # What the stream counts for this rule: event kind -> weight, and events with sentiment <= this
    # only (1.0 = any sentiment).
    kind_weights: tuple[tuple[str, float], ...] = (("post", 1.0), ("comment", 1.0), ("reply", 1.0),
                                                   ("mention", 1.0))
    sentiment_max: float = 1.0
    # Learned expectation.
    prior_rate: float = 1.0                    # expected count per minute of a key never seen before
    prior_strength: float = 0.02               # ... a belief worth this many minutes of the key's own data
    halflife_intervals: float = 60.0           # memory of the level (deseasonalised rate)
    daily: bool = True                         # learn an hour-of-day profile (intervals under a day)
    weekly: bool = True                        # learn a day-of-week profile (intervals up to a day)
    daily_halflife_days: float = 7.0
    weekly_halflife_weeks: float = 4.0
    dispersion_prior: float = 0.1              # negative-binomial overdispersion: var = mu + d * mu^2
    dispersion_min: float = 0.01
    dispersion_halflife_intervals: float = 240.0  # burstiness is learned slowly: a ramp is not noise
    # Surprise -> score -> alert.
    min_lift: float = 1.3                      # a count must be surprising against expected x this
    onset_lift: float = 2.0                    # the onset CUSUM tests a rise to min_lift x expected x this ...
    burst_lift: float = 8.0                    # ... and the burst CUSUM to x this (steep ramps)
    onset_halflife_intervals: float = 5.0      # memory of the accumulated evidence (both CUSUMs)
    open_score: float = 0.9                    # open an alert at this score (and min_volume)
    resolve_score: float = 0.5                 # resolve once the score stayed below this ...
    resolve_intervals: int = 3                 # ... for this many closed intervals
    warning_lift: float = 4.0                  # severity: observed / expected at which an alert is a warning
    critical_lift: float = 10.0                # ... and critical
    # Series of hourly (or longer) intervals, i.e. `pulse backtest` of an hourly export: the memories
    # above are minute-scale, so these replace them there, and the sensitivity is multiplied.
    hourly_sensitivity_factor: float = 2.0     # 60x fewer intervals a day: the same alarms/day need less evidence
    hourly_halflife_intervals: float = 3.0     # the level follows the daily curve (60 h would flatten it)
    hourly_daily_halflife_days: float = 2.0    # the profile carries the rhythm there: learn it in days, not weeks
    hourly_dispersion_halflife_intervals: float = 72.0   # 3 days: a young key's guesswork is soon forgotten
    hourly_cooldown_intervals: int = 1         # an hour of quiet after a resolve (30 would be 30 hours)

    def at_interval(self, interval_ms: int) -> RuleConfig:
        """The settings the detector uses on a series of `interval_ms` intervals (hourly ones from an hour on)."""
        if interval_ms < HOUR_MS:
            return self
        return dataclasses.replace(
            self, sensitivity=self.sensitivity * self.hourly_sensitivity_factor,
            halflife_intervals=self.hourly_halflife_intervals, daily_halflife_days=self.hourly_daily_halflife_days,
            dispersion_halflife_intervals=self.hourly_dispersion_halflife_intervals,
            cooldown_intervals=self.hourly_cooldown_intervals)

    def weight(self, kind: str) -> float:
        """How much one event of `kind` counts for this rule (0 when it does not count)."""
        for name, w in self.kind_weights:
            if name == kind:
                return w
        return 0.0


RULE_NAMES: Final = ("volume_spike", "viral_post", "negative_surge")

DEFAULT_RULES: Final = (
    RuleConfig(name="volume_spike", dimensions=("brand", "hashtag")),
    RuleConfig(
        name="viral_post", dimensions=("post",), min_volume=30.0,
        kind_weights=(("share", 3.0), ("comment", 2.0), ("reply", 2.0), ("like", 1.0), ("vote", 1.0),
                      ("view", 0.1)),
        prior_rate=2.0, daily=False, weekly=False, min_history_intervals=3, population_floor=6.0,
        sensitivity=2.0, min_lift=1.0),
    RuleConfig(name="negative_surge", dimensions=("brand",), min_volume=5.0, sentiment_max=-0.05,
               prior_rate=0.5),
)

# Numbers that are per rule only: what is counted, and the population statistic (one per rule and
# windows partition, shared by all its keys).
RULE_ONLY_NUMBERS: Final = frozenset(("sentiment_max", "population_quantile", "population_halflife_intervals",
                                      "population_min_count"))
# Fields a per-key override may set (numbers only: identity and what is counted stay per rule).
OVERRIDABLE: Final = frozenset(
    f.name for f in dataclasses.fields(RuleConfig)
    if f.type in ("float", "int") and f.name not in RULE_ONLY_NUMBERS)


@dataclass(frozen=True)
class DetectorConfig:
    rules: tuple[RuleConfig, ...]
    overrides: dict[tuple[str, str], dict[str, float]] = field(default_factory=dict)
    _by_key: dict[tuple[str, str], RuleConfig] = field(default_factory=dict, compare=False, repr=False)

    def rule(self, name: str) -> RuleConfig:
        for r in self.rules:
            if r.name == name:
                return r
        raise KeyError(f"no detector rule {name!r} (rules: {', '.join(r.name for r in self.rules)})")

    def for_key(self, rule: str, key: str) -> RuleConfig:
        """The rule with the per-key overrides applied (cached: the stream asks for every key)."""
        overrides = self.overrides.get((rule, key))
        if overrides is None:
            return self.rule(rule)
        cached = self._by_key.get((rule, key))
        if cached is None:
            cached = self._by_key[(rule, key)] = _with_numbers(self.rule(rule), overrides)
        return cached


DEFAULT_CONFIG: Final = DetectorConfig(rules=DEFAULT_RULES)


def load_detector_config(path: Path | None) -> DetectorConfig:
    """The configuration in `path` (a detector.toml), or the defaults when `path` is None.

    A bad file raises ValueError with one line naming the file and the field.
    """
    if path is None:
        return DetectorConfig(rules=DEFAULT_RULES)
    doc = read_toml(path, "detector configuration")
    try:
        return _parse(doc)
    except _FieldError as exc:
        raise ValueError(f"{path}: {exc}") from None


class _FieldError(Exception):
    pass


def _parse(doc: dict[str, Any]) -> DetectorConfig:
    unknown = set(doc) - {"rules", "overrides"}
    if unknown:
        raise _FieldError(f"{sorted(unknown)[0]}: unknown section (expected [rules.*] or [overrides.*])")
    rules_doc = _table(doc.get("rules", {}), "rules")
    rules = []
    for default in DEFAULT_RULES:
        given = _table(rules_doc.get(default.name, {}), f"rules.{default.name}")
        rules.append(_rule_from(default, given))
    for name in rules_doc:
        if name not in RULE_NAMES:
            raise _FieldError(f"rules.{name}: unknown rule (rules: {', '.join(RULE_NAMES)})")
    overrides: dict[tuple[str, str], dict[str, float]] = {}
    for rule_name, keys in _table(doc.get("overrides", {}), "overrides").items():
        if rule_name not in RULE_NAMES:
            raise _FieldError(f"overrides.{rule_name}: unknown rule (rules: {', '.join(RULE_NAMES)})")
        base = next(r for r in rules if r.name == rule_name)
        for key, values in _table(keys, f"overrides.{rule_name}").items():
            where = f"overrides.{rule_name}.{key}"
            numbers: dict[str, float] = {}
            for fname, value in _table(values, where).items():
                if fname not in OVERRIDABLE:
                    raise _FieldError(f"{where}.{fname}: not a per-key setting "
                                      f"(one of: {', '.join(sorted(OVERRIDABLE))})")
                numbers[fname] = value
            _with_numbers(base, numbers, where)   # validate now, not at the first event of that key
            overrides[(rule_name, str(key))] = numbers
    return DetectorConfig(rules=tuple(rules), overrides=overrides)


def _table(value: Any, where: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise _FieldError(f"{where}: must be a table")
    return value


def _rule_from(default: RuleConfig, given: dict[str, Any]) -> RuleConfig:
    where = f"rules.{default.name}"
    fields = {f.name: f for f in dataclasses.fields(RuleConfig)}
    changes: dict[str, Any] = {}
    for fname, value in given.items():
        if fname not in fields or fname == "name":
            raise _FieldError(f"{where}.{fname}: unknown setting")
        if fname == "dimensions":
            if not isinstance(value, list) or not value or not all(isinstance(v, str) and v for v in value):
                raise _FieldError(f"{where}.dimensions: must be a non-empty list of dimension names")
            changes[fname] = tuple(value)
        elif fname == "kind_weights":
            if not isinstance(value, dict) or not value:
                raise _FieldError(f"{where}.kind_weights: must be a table of event kind = weight")
            for kind, w in value.items():
                _number(w, f"{where}.kind_weights.{kind}", minimum=0.0)
            changes[fname] = tuple((str(k), float(w)) for k, w in value.items())
        elif fields[fname].type == "bool":
            if not isinstance(value, bool):
                raise _FieldError(f"{where}.{fname}: must be true or false, got {value!r}")
            changes[fname] = value
        else:
            changes[fname] = value
    numbers = {k: v for k, v in changes.items() if k in OVERRIDABLE or k in RULE_ONLY_NUMBERS}
    rule = dataclasses.replace(default, **{k: v for k, v in changes.items() if k not in numbers})
    return _with_numbers(rule, numbers, where)


# Range of every numeric setting: (minimum, maximum, minimum is exclusive).
_RANGES: Final[dict[str, tuple[float, float, bool]]] = {
    "sensitivity": (0.0, 100.0, True), "min_volume": (0.0, math.inf, False),
    "cooldown_intervals": (0, 1_000_000, False), "min_history_intervals": (0, 1_000_000, False),
    "sentiment_max": (-1.0, 1.0, False),
    "population_floor": (0.0, 1e6, False), "population_quantile": (0.5, 0.99999, True),
    "population_halflife_intervals": (0.0, 1e6, True), "population_min_count": (0.0, 1e9, False),
    "prior_rate": (0.0, math.inf, True), "prior_strength": (0.0, 1e6, True),
    "halflife_intervals": (0.0, 1e6, True), "daily_halflife_days": (0.0, 1e4, True),
    "weekly_halflife_weeks": (0.0, 1e3, True), "dispersion_prior": (0.0, 100.0, False),
    "dispersion_min": (0.0, 100.0, False),
    "dispersion_halflife_intervals": (0.0, 1e7, True), "min_lift": (1.0, 1e6, False),
    "onset_lift": (1.0, 1e6, True), "burst_lift": (1.0, 1e6, True),
    "onset_halflife_intervals": (0.0, 1e6, True), "open_score": (0.0, 1.0, True),
    "resolve_score": (0.0, 1.0, False), "resolve_intervals": (1, 1_000_000, False),
    "warning_lift": (1.0, 1e9, False), "critical_lift": (1.0, 1e9, False),
    "hourly_sensitivity_factor": (0.0, 100.0, True), "hourly_halflife_intervals": (0.0, 1e6, True),
    "hourly_daily_halflife_days": (0.0, 1e4, True), "hourly_dispersion_halflife_intervals": (0.0, 1e7, True),
    "hourly_cooldown_intervals": (0, 1_000_000, False),
}


def _number(value: Any, where: str, minimum: float = -math.inf, maximum: float = math.inf,
            exclusive: bool = False, integer: bool = False) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or math.isnan(value):
        raise _FieldError(f"{where}: must be a number, got {value!r}")
    if integer and value != int(value):
        raise _FieldError(f"{where}: must be a whole number, got {value!r}")
    low_ok = value > minimum if exclusive else value >= minimum
    if not low_ok or value > maximum:
        bound = f"> {minimum:g}" if exclusive else f">= {minimum:g}"
        raise _FieldError(f"{where}: must be {bound}" + (f" and <= {maximum:g}" if maximum < math.inf else "")
                          + f", got {value!r}")
    return float(value)


def _with_numbers(rule: RuleConfig, numbers: dict[str, Any], where: str = "") -> RuleConfig:
    """`rule` with numeric fields replaced, each checked against its range and the thresholds' order."""
    where = where or f"overrides.{rule.name}"
    changes: dict[str, Any] = {}
    for fname, value in numbers.items():
        low, high, exclusive = _RANGES[fname]
        is_int = isinstance(getattr(rule, fname), int)
        number = _number(value, f"{where}.{fname}", low, high, exclusive, integer=is_int)
        changes[fname] = int(number) if is_int else number
    out = dataclasses.replace(rule, **changes) if changes else rule
    if out.resolve_score >= out.open_score:
        raise _FieldError(f"{where}.resolve_score: must be below open_score ({out.open_score:g}) "
                          "so an alert does not flap")
    if out.critical_lift < out.warning_lift:
        raise _FieldError(f"{where}.critical_lift: must be >= warning_lift ({out.warning_lift:g})")
    return out
