"""Per-(rule, dimension, key) state: what the model learned plus where the key's alert stands."""

from __future__ import annotations

from array import array
from dataclasses import dataclass
from typing import Any

__all__ = ["STATE_FORMAT", "KeyState"]

STATE_FORMAT = 1          # first element of `to_list()`; bump when the layout changes


@dataclass(slots=True)
class KeyState:
    """Small on purpose: the stream holds one per active key (up to ~100,000 per rule).

    Level and dispersion are exponentially discounted sums, so skipping k empty intervals is a
    multiplication by decay**k, not k updates.
    """

    last_ms: int                    # start of the last interval learned (gaps are counted from here)
    level: float = 0.0              # discounted sum of deseasonalised counts (the prior is added on use)
    weight: float = 0.0             # discounted number of intervals in `level`
    disp_num: float = 0.0           # discounted sum of (x - mu)^2 - mu: overdispersion numerator ...
    disp_den: float = 0.0           # ... and of mu^2: dispersion = disp_num / disp_den
    onset: float = 0.0              # CUSUM evidence (nats) of a moderate rise, after the last learned interval
    burst: float = 0.0              # ... and of a steep one
    season: array[float] | None = None   # multiplicative profile: 24 hour-of-day then 7 day-of-week factors
    severity: int = 0               # 0: no open alert; 1 info, 2 warning, 3 critical
    opened_ms: int = 0              # interval start where the open alert began (its alert_id)
    calm: int = 0                   # closed intervals in a row below the resolve score
    quiet_until_ms: int = 0         # cooldown: no new alert for intervals starting before this

    def to_list(self) -> list[Any]:
        """Compact JSON-able form (for a changelog). Season factors are rounded to 5 decimals."""
        season = None if self.season is None else [round(f, 5) for f in self.season]
        return [STATE_FORMAT, self.last_ms, self.level, self.weight, self.disp_num, self.disp_den, self.onset,
                self.burst, self.severity, self.opened_ms, self.calm, self.quiet_until_ms, season]

    @classmethod
    def from_list(cls, data: list[Any]) -> KeyState:
        if not isinstance(data, list) or len(data) != 13 or data[0] != STATE_FORMAT:
            raise ValueError(f"not a detector key state (format {STATE_FORMAT}): {str(data)[:80]}")
        (_, last_ms, level, weight, disp_num, disp_den, onset, burst, severity, opened_ms, calm, quiet_until_ms,
         season) = data
        return cls(int(last_ms), float(level), float(weight), float(disp_num), float(disp_den), float(onset),
                   float(burst), None if season is None else array("f", season), int(severity), int(opened_ms),
                   int(calm), int(quiet_until_ms))
