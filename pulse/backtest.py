"""`pulse backtest`: the spike detector over a historical count series (CONTRACT.md section 4).

Input CSV `timestamp,value`, one row per fixed interval (inferred: the median step; a step of k
intervals means k-1 empty intervals, as ClickHouse leaves out empty minutes). Output CSV
`timestamp,value,score,alert`, one row per input row, computed by `streams.detect.series.run_series`:
the same per-interval sequence the stream runs, so row i depends only on rows <= i.
"""

from __future__ import annotations

import csv
import dataclasses
import io
import itertools
import math
import statistics
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TextIO

from pulse.errors import PulseError
from streams.detect.config import RuleConfig, load_detector_config
from streams.detect.series import run_series

__all__ = ["BacktestSeries", "read_series", "run_backtest", "write_result"]

DEFAULT_INTERVAL_MS = 60_000       # a series of one row has no step to infer from
HEADER = ("timestamp", "value")


@dataclass(frozen=True)
class BacktestSeries:
    timestamps: list[str]          # as given, echoed back
    values_text: list[str]         # as given, echoed back
    starts_ms: list[int]
    values: list[float]
    interval_ms: int


def fail(what: str, todo: str) -> PulseError:
    return PulseError(f"backtest: {what}; {todo}")


def parse_timestamp(text: str) -> int:
    """`YYYY-MM-DD HH:MM:SS` (UTC) or RFC 3339 -> epoch milliseconds."""
    value = text.strip()
    if value.endswith(("z", "Z")):
        value = value[:-1] + "+00:00"
    parsed = datetime.fromisoformat(value)
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return round(parsed.timestamp() * 1000)


def read_series(source: TextIO, name: str) -> BacktestSeries:
    reader = csv.reader(source)
    header = next(reader, None)
    if header is None or tuple(h.strip().lstrip("\ufeff").lower() for h in header) != HEADER:
        got = ",".join(header) if header else "an empty file"
        raise fail(f"{name} line 1: expected the header 'timestamp,value', got {got!r}"[:200],
                   "add the header row and keep exactly these two columns")
    timestamps: list[str] = []
    values_text: list[str] = []
    starts: list[int] = []
    values: list[float] = []
    for row in reader:
        line = reader.line_num
        if not row or (len(row) == 1 and not row[0].strip()):
            continue
        if len(row) != 2:
            raise fail(f"{name} line {line}: expected 2 columns, got {len(row)}", "write rows as timestamp,value")
        stamp, raw_value = row
        try:
            start = parse_timestamp(stamp)
        except ValueError:
            raise fail(f"{name} line {line}: bad timestamp {stamp!r}",
                       "use 'YYYY-MM-DD HH:MM:SS' (UTC) or RFC 3339 like 2026-11-21T10:00:00Z") from None
        try:
            value = float(raw_value)
        except ValueError:
            raise fail(f"{name} line {line}: value {raw_value!r} is not a number",
                       "values must be non-negative counts") from None
        if not math.isfinite(value) or value < 0:
            raise fail(f"{name} line {line}: value {raw_value!r} is not a non-negative count",
                       "values must be non-negative counts")
        if starts and start <= starts[-1]:
            raise fail(f"{name} line {line}: timestamp {stamp!r} is not after the previous row's",
                       "sort the rows by time, one row per interval")
        timestamps.append(stamp)
        values_text.append(raw_value)
        starts.append(start)
        values.append(value)
    interval = infer_interval(starts, name)
    return BacktestSeries(timestamps, values_text, starts, values, interval)


def infer_interval(starts: list[int], name: str) -> int:
    """The median step; every step must be a whole number of intervals (missing rows = empty intervals)."""
    if len(starts) < 2:
        return DEFAULT_INTERVAL_MS
    steps = [b - a for a, b in itertools.pairwise(starts)]
    interval = int(statistics.median_low(steps))
    for i, step in enumerate(steps):
        if step % interval:
            raise fail(f"{name} line {i + 3}: {step / 1000:g} s after the previous row, not a whole number of "
                       f"the series' {interval / 1000:g} s interval",
                       "give one row per fixed interval (a missing row counts as 0)")
    return interval


def backtest_rule(rule_name: str, config: Path | None, key: str | None, sensitivity: float | None,
                  min_volume: float | None, cooldown: int | None) -> RuleConfig:
    """The rule with its default configuration, or the file's, plus command-line settings.

    The options mean the same on any interval: `--cooldown` sets the hourly cooldown too (an hourly
    series would otherwise use `hourly_cooldown_intervals`); `--sensitivity` is still multiplied by
    `hourly_sensitivity_factor` there; `--min-volume` has no hourly twin.
    """
    try:
        detector_config = load_detector_config(config)
    except ValueError as exc:
        raise fail(str(exc), "fix the file, or leave out --config for the defaults") from None
    rule = detector_config.for_key(rule_name, key) if key else detector_config.rule(rule_name)
    changes: dict[str, Any] = {}
    if sensitivity is not None:
        changes["sensitivity"] = sensitivity
    if min_volume is not None:
        changes["min_volume"] = min_volume
    if cooldown is not None:      # intervals of the series given, whatever their length: both settings
        changes["cooldown_intervals"] = changes["hourly_cooldown_intervals"] = cooldown
    return dataclasses.replace(rule, **changes) if changes else rule


@contextmanager
def _open_input(path: Path) -> Iterator[TextIO]:
    if str(path) == "-":
        yield sys.stdin
        return
    try:
        with path.open(encoding="utf-8", newline="") as f:
            yield f
    except FileNotFoundError:
        raise fail(f"{path}: no such file", "pass the CSV to --input") from None
    except IsADirectoryError:
        raise fail(f"{path}: is a directory", "pass a CSV file to --input") from None
    except UnicodeDecodeError:
        raise fail(f"{path}: not UTF-8 text", "save the CSV as UTF-8") from None
    except PermissionError:
        raise fail(f"{path}: permission denied", "make the file readable") from None


def write_result(series: BacktestSeries, scores: list[float], alerts: list[int], out: TextIO) -> None:
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(("timestamp", "value", "score", "alert"))
    for stamp, value, score, alert in zip(series.timestamps, series.values_text, scores, alerts, strict=True):
        writer.writerow((stamp, value, f"{score:.4f}", alert))


def run_backtest(input_path: Path, output: Path | None, rule: RuleConfig) -> tuple[BacktestSeries, int]:
    """Read, detect, write; returns the series and the number of alert rows."""
    with _open_input(input_path) as source:
        try:
            series = read_series(source, str(input_path))
        except UnicodeDecodeError:
            raise fail(f"{input_path}: not UTF-8 text", "save the CSV as UTF-8") from None
    result = run_series(rule, series.interval_ms, series.starts_ms, series.values, dimension="backtest",
                        key=str(input_path))
    if output is None or str(output) == "-":
        write_result(series, result.scores, result.alerts, sys.stdout)
    else:
        buffer = io.StringIO()
        write_result(series, result.scores, result.alerts, buffer)
        try:
            output.write_text(buffer.getvalue(), encoding="utf-8")
        except OSError as exc:
            raise fail(f"cannot write {output}: {exc.strerror or exc}", "choose a writable --output path") from None
    return series, sum(result.alerts)
