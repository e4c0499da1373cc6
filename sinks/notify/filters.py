"""Which alert changes a subscriber wants: by dimension, key pattern, rule and minimum severity."""

from __future__ import annotations

from dataclasses import dataclass
from fnmatch import fnmatchcase

from sinks.notify.alert import SEVERITIES, AlertChange


@dataclass(frozen=True)
class AlertFilter:
    """Empty tuples match everything. Key patterns are shell globs (`*`, `?`, `[abc]`), case-sensitive
    as keys are (hashtags and brands are lower-cased by the pipeline)."""

    dimensions: tuple[str, ...] = ()
    keys: tuple[str, ...] = ()
    rules: tuple[str, ...] = ()
    min_severity: str = "info"

    def matches(self, change: AlertChange) -> bool:
        if self.dimensions and change.dimension not in self.dimensions:
            return False
        if self.rules and change.rule not in self.rules:
            return False
        if severity_rank(change.severity) < severity_rank(self.min_severity):
            return False
        return not self.keys or any(fnmatchcase(change.key, pattern) for pattern in self.keys)


def severity_rank(severity: str) -> int:
    return SEVERITIES.index(severity)
