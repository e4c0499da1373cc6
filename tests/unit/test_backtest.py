"""`pulse backtest`: the CSV contract, online output, one alert per long spike, one-line errors."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from pulse.cli import cli, main

START = datetime(2026, 11, 23, tzinfo=UTC)


def series_csv(values: list[float], step: timedelta = timedelta(minutes=1), rfc3339: bool = False) -> str:
    lines = ["timestamp,value"]
    for i, v in enumerate(values):
        t = START + i * step
        stamp = t.strftime("%Y-%m-%dT%H:%M:%SZ") if rfc3339 else t.strftime("%Y-%m-%d %H:%M:%S")
        lines.append(f"{stamp},{v:g}")
    return "\n".join(lines) + "\n"


def spiky(n: int = 600, seed: int = 1) -> list[float]:
    rng = np.random.default_rng(seed)
    values = [float(x) for x in rng.poisson(20, n)]
    values[400:460] = [float(x) for x in rng.poisson(160, 60)]          # an hour at 8x
    return values


def run(tmp_path: Path, text: str, *args: str) -> list[dict[str, str]]:
    path = tmp_path / "in.csv"
    path.write_text(text)
    result = CliRunner().invoke(cli, ["backtest", "--input", str(path), *args])
    assert result.exit_code == 0, result.output
    return list(csv.DictReader(io.StringIO(result.output)))


def test_output_echoes_every_row_with_a_score_and_one_alert_for_a_long_spike(tmp_path: Path) -> None:
    values = spiky()
    text = series_csv(values)
    rows = run(tmp_path, text)
    assert list(rows[0]) == ["timestamp", "value", "score", "alert"]
    given = list(csv.DictReader(io.StringIO(text)))
    assert [(r["timestamp"], r["value"]) for r in rows] == [(g["timestamp"], g["value"]) for g in given]
    scores = [float(r["score"]) for r in rows]
    assert all(0.0 <= s <= 1.0 for s in scores)
    alerts = [i for i, r in enumerate(rows) if r["alert"] == "1"]
    assert {r["alert"] for r in rows} <= {"0", "1"}
    assert alerts and alerts[0] in (400, 401) and all(i < 410 for i in alerts) and len(alerts) <= 3
    assert min(scores[405:455]) > 0.5 and max(scores[:390]) < 0.9


def test_the_detector_is_online(tmp_path: Path) -> None:
    values = spiky(500, seed=2)
    full = run(tmp_path, series_csv(values))
    for n in (1, 50, 401, 430):
        assert run(tmp_path, series_csv(values[:n])) == full[:n]


def test_rfc3339_hourly_daily_and_gapped_series(tmp_path: Path) -> None:
    hourly = [100.0 + 50 * ((i % 24) in range(9, 18)) for i in range(24 * 14)]
    hourly[300] = 900.0
    rows = run(tmp_path, series_csv(hourly, timedelta(hours=1), rfc3339=True))
    assert [i for i, r in enumerate(rows) if r["alert"] == "1"] == [300]
    daily = [1000.0] * 60
    daily[50] = 5000.0
    rows = run(tmp_path, series_csv(daily, timedelta(days=1)))
    assert [i for i, r in enumerate(rows) if r["alert"] == "1"] == [50]
    text = series_csv(spiky())
    lines = text.splitlines()
    gapped = "\n".join(lines[:101] + lines[111:]) + "\n"                 # ten empty minutes, as ClickHouse leaves them
    assert len(run(tmp_path, gapped)) == len(lines) - 11
    offset = "timestamp,value\n2026-11-23T10:00:00+02:00,5\n2026-11-23T08:01:00Z,6\n"
    assert [r["value"] for r in run(tmp_path, offset)] == ["5", "6"]


def test_options_change_the_detector(tmp_path: Path) -> None:
    text = series_csv(spiky())
    default = [float(r["score"]) for r in run(tmp_path, text)]
    keen = [float(r["score"]) for r in run(tmp_path, text, "--sensitivity", "3")]
    assert all(k >= d for k, d in zip(keen, default, strict=True)) and keen != default
    assert not any(r["alert"] == "1" for r in run(tmp_path, text, "--min-volume", "1000"))
    config = tmp_path / "detector.toml"
    config.write_text("[overrides.volume_spike]\nacme = { min_volume = 1000 }\n")
    assert any(r["alert"] == "1" for r in run(tmp_path, text, "--config", str(config)))
    assert not any(r["alert"] == "1" for r in run(tmp_path, text, "--config", str(config), "--key", "acme"))
    two_spikes = spiky()
    two_spikes[480:500] = [300.0] * 20
    alerts = [r["alert"] for r in run(tmp_path, series_csv(two_spikes), "--cooldown", "0")]
    assert alerts[480:500].count("1") >= 1                                 # no cooldown: the second one alerts


def test_cooldown_counts_intervals_of_the_series_given_on_an_hourly_series_too(tmp_path: Path) -> None:
    hourly = [100.0 + 50 * ((i % 24) in range(9, 18)) for i in range(24 * 14)]
    hourly[300] = hourly[306] = 900.0                                      # two spikes six hours apart
    text = series_csv(hourly, timedelta(hours=1))

    def alerts(*args: str) -> list[int]:
        return [i for i, r in enumerate(run(tmp_path, text, *args)) if r["alert"] == "1"]

    assert alerts() == [300, 306]                           # hourly default: an hour of quiet after a resolve
    assert alerts("--cooldown", "30") == [300]              # 30 intervals = 30 hours: the second one is quiet
    assert alerts("--cooldown", "2") == [300, 306]
    config = tmp_path / "detector.toml"
    config.write_text("[rules.volume_spike]\nhourly_cooldown_intervals = 12\n")
    assert alerts("--config", str(config)) == [300]
    assert alerts("--config", str(config), "--cooldown", "1") == [300, 306]   # the option wins over the file


def test_backtest_options_set_the_hourly_twins() -> None:
    from pulse.backtest import backtest_rule
    from streams.detect.config import HOUR_MS

    default = backtest_rule("volume_spike", None, None, None, None, None)
    rule = backtest_rule("volume_spike", None, None, 3.0, 50.0, 7)
    for interval in (60_000, HOUR_MS):
        effective = rule.at_interval(interval)
        assert (effective.cooldown_intervals, effective.min_volume) == (7, 50.0)
        assert effective.sensitivity == 3.0 * default.at_interval(interval).sensitivity / default.sensitivity


def test_output_file(tmp_path: Path) -> None:
    source, target = tmp_path / "in.csv", tmp_path / "out.csv"
    source.write_text(series_csv(spiky()))
    result = CliRunner().invoke(cli, ["backtest", "--input", str(source), "--output", str(target)])
    assert result.exit_code == 0, result.output
    assert "600 row(s), interval 60 s" in result.output
    assert len(target.read_text().splitlines()) == 601


@pytest.mark.parametrize(("text", "expected"), [
    (None, "no such file"),
    ("time,count\n2026-11-23 00:00:00,1\n", "line 1: expected the header 'timestamp,value'"),
    ("", "line 1: expected the header"),
    ("timestamp,value\n2026-11-23 00:00:00,1\n2026-11-23 00:02:00,1\n2026-11-23 00:01:00,1\n",
     "line 4: timestamp '2026-11-23 00:01:00' is not after"),
    ("timestamp,value\n2026-11-23 00:00:00,1\n2026-11-23 00:01:00,1\n2026-11-23 00:02:00,1\n"
     "2026-11-23 00:02:30,1\n", "line 5: 30 s after the previous row"),
    ("timestamp,value\n2026-11-23 00:00:00,1\n2026-11-23 00:01:00,-3\n", "line 3: value '-3' is not a non-negative"),
    ("timestamp,value\n2026-11-23 00:00:00,1\n2026-11-23 00:01:00,many\n", "line 3: value 'many' is not a number"),
    ("timestamp,value\n2026-11-23 00:00:00,nan\n", "line 2: value 'nan'"),
    ("timestamp,value\nyesterday,1\n", "line 2: bad timestamp 'yesterday'"),
    ("timestamp,value\n2026-11-23 00:00:00,1,2\n", "line 2: expected 2 columns"),
])
def test_bad_input_is_one_line_naming_the_line(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                               text: str | None, expected: str) -> None:
    path = tmp_path / "in.csv"
    if text is not None:
        path.write_text(text)
    with pytest.raises(SystemExit) as exit_info:
        main(["backtest", "--input", str(path)])
    assert exit_info.value.code == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err
    assert err.startswith("pulse: error: backtest: ") and expected in err and "; " in err


def test_a_bad_config_file_is_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    source, config = tmp_path / "in.csv", tmp_path / "detector.toml"
    source.write_text(series_csv([1.0, 2.0]))
    config.write_text("[rules.volume_spike]\nsensitivity = 'x'\n")
    with pytest.raises(SystemExit):
        main(["backtest", "--input", str(source), "--config", str(config)])
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "rules.volume_spike.sensitivity" in err
