"""Detector configuration: the documented file equals the defaults, overrides apply, bad files say where."""

from __future__ import annotations

from pathlib import Path

import pytest

from streams.detect.config import HOUR_MS, RULE_NAMES, DetectorConfig, load_detector_config

ROOT = Path(__file__).resolve().parents[2]
DEPLOY_FILE = ROOT / "deploy" / "detector.toml"


def test_the_documented_file_holds_exactly_the_defaults() -> None:
    from_file = load_detector_config(DEPLOY_FILE)
    defaults = load_detector_config(None)
    for name in RULE_NAMES:
        assert from_file.rule(name) == defaults.rule(name), name
    assert from_file.overrides == {}


def test_every_rule_setting_is_written_in_the_file() -> None:
    import dataclasses
    import tomllib

    doc = tomllib.loads(DEPLOY_FILE.read_text())
    fields = {f.name for f in dataclasses.fields(load_detector_config(None).rule("volume_spike"))} - {"name"}
    for name in RULE_NAMES:
        assert set(doc["rules"][name]) == fields, name


def test_defaults_without_a_file() -> None:
    config = load_detector_config(None)
    assert [r.name for r in config.rules] == list(RULE_NAMES)
    assert config.rule("volume_spike").dimensions == ("brand", "hashtag")
    assert config.rule("viral_post").dimensions == ("post",)
    assert config.rule("negative_surge").sentiment_max < 0
    viral = config.rule("viral_post")
    assert viral.weight("share") > viral.weight("like") > viral.weight("view") > 0
    assert viral.weight("follow") == 0.0
    with pytest.raises(KeyError):
        config.rule("nope")


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "detector.toml"
    path.write_text(text)
    return path


def test_partial_file_keeps_other_defaults_and_overrides_apply_per_key(tmp_path: Path) -> None:
    path = write(tmp_path, """
[rules.volume_spike]
sensitivity = 2.0
min_volume = 25

[overrides.volume_spike]
acme = { sensitivity = 0.5, cooldown_intervals = 120 }
"black-friday" = { min_volume = 100 }
""")
    config = load_detector_config(path)
    rule = config.rule("volume_spike")
    assert (rule.sensitivity, rule.min_volume) == (2.0, 25.0)
    assert rule.halflife_intervals == load_detector_config(None).rule("volume_spike").halflife_intervals
    acme = config.for_key("volume_spike", "acme")
    assert (acme.sensitivity, acme.cooldown_intervals, acme.min_volume) == (0.5, 120, 25.0)
    assert isinstance(acme.cooldown_intervals, int)
    assert config.for_key("volume_spike", "black-friday").min_volume == 100.0
    assert config.for_key("volume_spike", "globex") is rule
    assert config.for_key("volume_spike", "acme") is acme          # cached for the stream's hot path
    assert config.for_key("viral_post", "acme") is config.rule("viral_post")


def test_population_settings_per_rule_and_the_floor_per_key(tmp_path: Path) -> None:
    config = load_detector_config(write(tmp_path, """
[rules.viral_post]
population_quantile = 0.995
population_min_count = 50

[overrides.viral_post]
p1 = { population_floor = 2 }
"""))
    viral = config.rule("viral_post")
    assert (viral.population_quantile, viral.population_min_count) == (0.995, 50.0)
    assert config.for_key("viral_post", "p1").population_floor == 2.0
    assert viral.population_floor == load_detector_config(None).rule("viral_post").population_floor > 0
    assert load_detector_config(None).rule("volume_spike").population_floor == 0.0     # off there


def test_hourly_settings_apply_from_an_hour_on_and_compose_with_the_sensitivity(tmp_path: Path) -> None:
    import dataclasses

    rule = load_detector_config(None).rule("volume_spike")
    assert rule.at_interval(60_000) is rule
    assert rule.at_interval(HOUR_MS - 1) is rule
    for interval in (HOUR_MS, 86_400_000):
        hourly = rule.at_interval(interval)
        assert hourly.sensitivity == rule.sensitivity * rule.hourly_sensitivity_factor
        assert (hourly.halflife_intervals, hourly.daily_halflife_days, hourly.dispersion_halflife_intervals,
                hourly.cooldown_intervals) == (
            rule.hourly_halflife_intervals, rule.hourly_daily_halflife_days, rule.hourly_dispersion_halflife_intervals,
            rule.hourly_cooldown_intervals)
        assert (hourly.min_volume, hourly.open_score, hourly.resolve_intervals) == (
            rule.min_volume, rule.open_score, rule.resolve_intervals)
    # 30 intervals of quiet are 30 minutes live, 30 hours on hourly data: an hour there.
    assert (rule.cooldown_intervals, rule.at_interval(HOUR_MS).cooldown_intervals) == (30, 1)
    # `pulse backtest --sensitivity 0.5` replaces the sensitivity: an hourly series still gets it, scaled.
    assert dataclasses.replace(rule, sensitivity=0.5).at_interval(HOUR_MS).sensitivity == (
        0.5 * rule.hourly_sensitivity_factor)
    config = load_detector_config(write(tmp_path, """
[rules.volume_spike]
hourly_sensitivity_factor = 1.0
hourly_halflife_intervals = 12
hourly_cooldown_intervals = 6

[overrides.volume_spike]
acme = { hourly_daily_halflife_days = 5, hourly_cooldown_intervals = 0 }
"""))
    hourly = config.rule("volume_spike").at_interval(HOUR_MS)
    assert (hourly.sensitivity, hourly.halflife_intervals, hourly.cooldown_intervals) == (rule.sensitivity, 12.0, 6)
    assert isinstance(hourly.cooldown_intervals, int)
    acme = config.for_key("volume_spike", "acme").at_interval(HOUR_MS)
    assert (acme.daily_halflife_days, acme.cooldown_intervals) == (5.0, 0)


@pytest.mark.parametrize(("text", "names"), [
    ("[rules.volume_spike]\nsensitivity = 'high'\n", "rules.volume_spike.sensitivity"),
    ("[rules.volume_spike]\nsensitivity = -1\n", "rules.volume_spike.sensitivity"),
    ("[rules.volume_spike]\ncooldown_intervals = 2.5\n", "rules.volume_spike.cooldown_intervals"),
    ("[rules.volume_spike]\nsensitivty = 1\n", "rules.volume_spike.sensitivty"),
    ("[rules.volume_spike]\nresolve_score = 0.95\n", "rules.volume_spike.resolve_score"),
    ("[rules.volume_spike]\ndaily = 1\n", "rules.volume_spike.daily"),
    ("[rules.volume_spike]\nhourly_sensitivity_factor = 0\n", "rules.volume_spike.hourly_sensitivity_factor"),
    ("[overrides.volume_spike]\nacme = { hourly_halflife_intervals = -3 }\n",
     "overrides.volume_spike.acme.hourly_halflife_intervals"),
    ("[rules.volume_spike]\nhourly_cooldown_intervals = -1\n", "rules.volume_spike.hourly_cooldown_intervals"),
    ("[overrides.volume_spike]\nacme = { hourly_cooldown_intervals = 1.5 }\n",
     "overrides.volume_spike.acme.hourly_cooldown_intervals"),
    ("[rules.volume_spike]\ndimensions = []\n", "rules.volume_spike.dimensions"),
    ("[rules.viral_post]\npopulation_quantile = 1.0\n", "rules.viral_post.population_quantile"),
    ("[rules.viral_post]\npopulation_floor = -1\n", "rules.viral_post.population_floor"),
    # The population statistic is one per rule (and windows partition), shared by all keys.
    ("[overrides.viral_post]\np1 = { population_quantile = 0.9 }\n", "overrides.viral_post.p1.population_quantile"),
    ("[rules.volume_spike]\nkind_weights = { like = -1 }\n", "rules.volume_spike.kind_weights.like"),
    ("[rules.spam]\nsensitivity = 1\n", "rules.spam"),
    ("[overrides.volume_spike]\nacme = { dimensions = 1 }\n", "overrides.volume_spike.acme.dimensions"),
    ("[overrides.volume_spike]\nacme = { sensitivity = 0 }\n", "overrides.volume_spike.acme.sensitivity"),
    ("[overrides.nope]\nacme = { sensitivity = 1 }\n", "overrides.nope"),
    ("[alerts]\nx = 1\n", "alerts"),
    ("[rules.volume_spike\n", "not valid TOML"),
])
def test_a_bad_file_is_one_line_naming_the_field(tmp_path: Path, text: str, names: str) -> None:
    path = write(tmp_path, text)
    with pytest.raises(ValueError) as err:
        load_detector_config(path)
    message = str(err.value)
    assert "\n" not in message
    assert str(path) in message and names in message


def test_a_missing_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="no such detector configuration file"):
        load_detector_config(tmp_path / "absent.toml")


def test_config_objects_compare_by_value() -> None:
    assert load_detector_config(None) == DetectorConfig(rules=load_detector_config(None).rules)
