"""deploy/prometheus: the alert rules pass `promtool check rules` and their own unit tests
(`promtool test rules`, cases in deploy/prometheus/tests/), carry a runbook, and use only metrics
that streams/metrics.py declares (or Prometheus' own `up`)."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import yaml
from prometheus_client import REGISTRY

import streams.metrics  # noqa: F401  (declares the pipeline's metrics in the default registry)

ROOT = Path(__file__).resolve().parents[2]
PROMETHEUS = ROOT / "deploy" / "prometheus"
RULE_FILES = sorted((PROMETHEUS / "rules").glob("*.yml"))
RULE_TESTS = sorted((PROMETHEUS / "tests").glob("*.yml"))


def promtool(*args: str) -> str:
    path = shutil.which("promtool")
    assert path is not None, "promtool is not installed: `make setup` (deploy/dev/install-system-tools.sh)"
    done = subprocess.run([path, *args], capture_output=True, text=True, check=False, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def alert_rules() -> list[dict[str, Any]]:
    return [rule for path in RULE_FILES for group in yaml.safe_load(path.read_text())["groups"]
            for rule in group["rules"] if "alert" in rule]


def exported_names() -> set[str]:
    """Every sample name the pipeline's metrics export (counters' _total, histograms' _bucket, ...)."""
    names: set[str] = set()
    for family in REGISTRY.collect():
        if family.name.startswith(("pulse_", "python_gc_")):  # python_gc_*: prometheus_client's own
            suffixes = {"counter": ["_total", "_created"], "histogram": ["_bucket", "_sum", "_count", "_created"]}
            names.update(family.name + s for s in suffixes.get(family.type, [""]))
    return names


def test_rules_pass_promtool_check() -> None:
    assert RULE_FILES
    out = promtool("check", "rules", *map(str, RULE_FILES))
    assert f"SUCCESS: {len(alert_rules())} rules found" in out


def test_rules_pass_their_unit_tests() -> None:
    assert RULE_TESTS, "no rule unit tests in deploy/prometheus/tests"
    promtool("test", "rules", *map(str, RULE_TESTS))


def test_every_alert_has_a_unit_test_case() -> None:
    tested = {case["alertname"] for path in RULE_TESTS for test in yaml.safe_load(path.read_text())["tests"]
              for case in test.get("alert_rule_test", []) if case.get("exp_alerts")}
    assert {rule["alert"] for rule in alert_rules()} <= tested


def test_the_pipeline_health_alerts_exist_with_runbooks() -> None:
    alerts = {rule["alert"]: rule for rule in alert_rules()}
    assert {"PulseWorkerDown", "PulseConsumerLagGrowing", "PulseSinkFailing", "PulseDeadLettersHigh",
            "PulseNotifyFailing"} <= set(alerts)
    for name, rule in alerts.items():
        annotations = rule.get("annotations") or {}
        assert len(annotations.get("runbook", "")) > 40, f"{name}: a runbook line saying what to do"
        assert rule["labels"]["severity"] in {"warning", "critical"}, name


def test_rules_use_only_declared_metrics() -> None:
    declared = exported_names() | {"up"}
    assert "pulse_consumer_lag_messages" in declared and "pulse_sink_retries_total" in declared
    for rule in alert_rules():
        used = set(re.findall(r"\b(pulse_[a-z_]+|up)\b", rule["expr"]))
        assert used and used <= declared, f"{rule['alert']}: unknown metric(s) {used - declared}"


def test_prometheus_config_scrapes_the_stage_children_and_notify() -> None:
    promtool("check", "config", str(PROMETHEUS / "prometheus.yml"))
    config = yaml.safe_load((PROMETHEUS / "prometheus.yml").read_text())
    ports = {job["job_name"]: job["dns_sd_configs"][0]["port"] for job in config["scrape_configs"]
             if "dns_sd_configs" in job}
    # pulse/worker.py and pulse/stage_process.py: the worker's port, + 1 windows, + 2 the first route process.
    assert ports["pulse-windows"] == ports["pulse-worker"] + 1
    assert ports["pulse-route"] == ports["pulse-worker"] + 2
    assert "pulse-notify" in ports
