"""Alert lifecycle per key: opened -> escalated (severity only rises) -> resolved, then a cooldown.

Hysteresis: an alert opens at `open_score` (and `min_volume`) but resolves only after the score
stayed below the lower `resolve_score` for `resolve_intervals` closed intervals, so a long spike
is one alert, not a storm. After a resolve, the key cannot alert again for `cooldown_intervals`.

The alert_id is a hash of (rule, dimension, key, interval where the alert opened): the open is
decided on a count that only grows within an interval and on state learned from closed intervals,
so a replay or a restarted worker opens the same alert in the same interval and gets the same id.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Final

from streams.detect.config import RuleConfig
from streams.detect.detector import Assessment
from streams.detect.state import KeyState

__all__ = ["SEVERITIES", "AlertLifecycle", "Transition", "alert_id"]

SEVERITIES: Final = ("", "info", "warning", "critical")     # KeyState.severity indexes this


@dataclass(frozen=True, slots=True)
class Transition:
    alert_id: str
    status: str           # "opened" | "escalated" | "resolved"
    severity: str         # "info" | "warning" | "critical" (the highest reached, for "resolved")
    opened_at_ms: int     # start of the interval where the alert opened
    at_ms: int            # now_ms when given; else the interval start (opened/escalated) or end (resolved)
    assessment: Assessment


def alert_id(rule: str, dimension: str, key: str, onset_interval_start_ms: int) -> str:
    """Deterministic: the same alert gets the same id on replay and after a restart."""
    raw = f"{rule}\x1f{dimension}\x1f{key}\x1f{onset_interval_start_ms}".encode()
    return hashlib.sha1(raw, usedforsecurity=False).hexdigest()[:20]


class AlertLifecycle:
    __slots__ = ("critical_lift", "interval_ms", "min_volume", "name", "open_score", "quiet_ms",
                 "resolve_intervals", "resolve_score", "warning_lift")

    def __init__(self, rule: RuleConfig, interval_ms: int = 60_000) -> None:
        rule = rule.at_interval(interval_ms)      # hourly series: the rule's hourly cooldown
        self.name = rule.name
        self.interval_ms = interval_ms
        self.open_score = rule.open_score
        self.resolve_score = rule.resolve_score
        self.resolve_intervals = rule.resolve_intervals
        self.min_volume = rule.min_volume
        self.warning_lift = rule.warning_lift
        self.critical_lift = rule.critical_lift
        self.quiet_ms = (rule.cooldown_intervals + 1) * interval_ms

    def severity(self, a: Assessment) -> int:
        """1 info, 2 warning, 3 critical: by how many times the expectation the count is."""
        lift = a.observed / a.expected if a.expected > 0 else float("inf")
        return 3 if lift >= self.critical_lift else 2 if lift >= self.warning_lift else 1

    def on_assessment(self, state: KeyState, dimension: str, key: str, a: Assessment,
                      now_ms: int | None = None) -> Transition | None:
        """Open or escalate on any assessment (partial or closed interval); None when nothing changes."""
        if a.score < self.open_score or a.observed < self.min_volume:
            return None
        at_ms = a.interval_start_ms if now_ms is None else now_ms
        if state.severity == 0:
            if a.interval_start_ms < state.quiet_until_ms:
                return None
            state.severity = self.severity(a)
            state.opened_ms = a.interval_start_ms
            state.calm = 0
            return Transition(alert_id(self.name, dimension, key, state.opened_ms), "opened",
                              SEVERITIES[state.severity], state.opened_ms, at_ms, a)
        state.calm = 0
        severity = self.severity(a)
        if severity <= state.severity:
            return None
        state.severity = severity
        return Transition(alert_id(self.name, dimension, key, state.opened_ms), "escalated",
                          SEVERITIES[severity], state.opened_ms, at_ms, a)

    def on_interval_closed(self, state: KeyState, dimension: str, key: str, a: Assessment,
                           now_ms: int | None = None) -> Transition | None:
        """Resolve once the spike has subsided for `resolve_intervals` closed intervals; starts the cooldown."""
        if state.severity == 0:
            return None
        if a.score >= self.resolve_score:
            state.calm = 0
            return None
        state.calm += 1
        if state.calm < self.resolve_intervals:
            return None
        severity = state.severity
        state.severity = 0
        state.calm = 0
        state.quiet_until_ms = a.interval_start_ms + self.quiet_ms
        at_ms = a.interval_start_ms + self.interval_ms if now_ms is None else now_ms
        return Transition(alert_id(self.name, dimension, key, state.opened_ms), "resolved", SEVERITIES[severity],
                          state.opened_ms, at_ms, a)
