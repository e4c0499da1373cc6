"""Shaping query results into the JSON the live page draws (pure: rows and the clock come in as arguments).

Times are Unix seconds (ints) or milliseconds, as ClickHouse returns them with toUnixTimestamp*: the page
formats them in the viewer's time zone.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, TypedDict

DIMENSIONS = ("post", "hashtag", "brand", "platform", "author")


@dataclass(frozen=True)
class Windows:
    """What the page shows, relative to `now` (Unix seconds)."""

    now: int
    trend_minutes: int = 60  # sparklines: this many minutes, the current (partial) one included
    throughput_step_s: int = 10
    throughput_buckets: int = 30  # 5 minutes of 10 s buckets

    @property
    def trend_start(self) -> int:
        """Start of the first sparkline minute."""
        return (self.now // 60 - (self.trend_minutes - 1)) * 60

    @property
    def throughput_end(self) -> int:
        """End (exclusive) of the last complete throughput bucket: a partial bucket would read low."""
        return self.now // self.throughput_step_s * self.throughput_step_s

    @property
    def throughput_start(self) -> int:
        return self.throughput_end - self.throughput_buckets * self.throughput_step_s


def zero_filled(points: Iterable[tuple[int, int]], start: int, step: int, count: int) -> list[int]:
    """Counts per slot [start + i*step, start + (i+1)*step) for i < count; slots without a point are 0,
    points outside the range are ignored, points in the same slot add up."""
    series = [0] * count
    for at, value in points:
        if at < start:
            continue
        i = (at - start) // step
        if i < count:
            series[i] += int(value)
    return series


def throughput(points: Iterable[tuple[int, int]], windows: Windows) -> dict[str, Any]:
    """Unique events stored per second, per complete bucket, oldest first; `current` averages the last 30 s."""
    step = windows.throughput_step_s
    counts = zero_filled(points, windows.throughput_start, step, windows.throughput_buckets)
    rates = [round(c / step, 2) for c in counts]
    recent = counts[-max(1, 30 // step):]
    return {"start": windows.throughput_start, "step_s": step, "rates": rates,
            "current": round(sum(recent) / (len(recent) * step), 2)}


def trending(rows: Iterable[Sequence[Any]], windows: Windows, top: int) -> dict[str, list[dict[str, Any]]]:
    """Rows (dimension, key, events, [(minute, total), ...]) → per dimension, the `top` keys by events
    with a zero-filled per-minute sparkline; every dimension is present, busiest key first."""
    out: dict[str, list[dict[str, Any]]] = {d: [] for d in DIMENSIONS}
    for dimension, key, events, minutes in rows:
        if dimension not in out:
            continue
        out[dimension].append({
            "key": str(key), "events": int(events),
            "series": zero_filled(minutes, windows.trend_start, 60, windows.trend_minutes),
        })
    for keys in out.values():
        keys.sort(key=lambda k: (-k["events"], k["key"]))
        del keys[top:]
    return out


SEVERITY_ORDER = {"critical": 0, "warning": 1, "info": 2}


class OpenAlert(TypedDict):
    alert_id: str
    rule: str
    dimension: str
    key: str
    severity: str
    opened_at: int
    updated_at: int
    observed: float
    expected: float
    score: float
    lift: float | None


class DeadLetter(TypedDict):
    received_at: int
    error: str
    raw: str
    raw_encoding: str
    topic: str
    partition: int
    offset: int


def open_alerts(rows: Iterable[Sequence[Any]]) -> list[OpenAlert]:
    """Rows (alert_id, rule, dimension, key, severity, opened_at ms, updated_at ms, observed, expected, score,
    lift) → the most severe first, then the most recently changed."""
    alerts = [OpenAlert(
        alert_id=str(alert_id), rule=str(rule), dimension=str(dimension), key=str(key), severity=str(severity),
        opened_at=int(opened_at), updated_at=int(updated_at), observed=round(float(observed), 2),
        expected=round(float(expected), 2), score=round(float(score), 4),
        lift=None if lift is None else round(float(lift), 2),
    ) for alert_id, rule, dimension, key, severity, opened_at, updated_at, observed, expected, score, lift in rows]
    alerts.sort(key=lambda a: (SEVERITY_ORDER.get(a["severity"], 3), -a["updated_at"], a["alert_id"]))
    return alerts


def dead_letters(rows: Iterable[Sequence[Any]]) -> list[DeadLetter]:
    """Rows (received_at ms, error, raw excerpt, raw_encoding, topic, partition, offset) → newest first."""
    letters = [DeadLetter(
        received_at=int(received_at), error=str(error), raw=str(raw), raw_encoding=str(encoding), topic=str(topic),
        partition=int(partition), offset=int(offset),
    ) for received_at, error, raw, encoding, topic, partition, offset in rows]
    letters.sort(key=lambda d: (-d["received_at"], d["topic"], d["partition"], -d["offset"]))
    return letters
