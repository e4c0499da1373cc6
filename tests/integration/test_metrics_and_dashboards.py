"""/metrics of a real `pulse worker` (checked by `promtool check metrics`), and every ClickHouse
query of the generated Grafana dashboards run against a migrated database."""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
import urllib.request
from datetime import UTC, datetime

import orjson
from prometheus_client.parser import text_string_to_metric_families

from tests.integration.conftest import Pipeline

PROMTOOL = shutil.which("promtool")


def free_port_block(size: int) -> int:
    """A port p such that p .. p+size-1 are free now (the worker and its children take consecutive ports)."""
    for _ in range(50):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            base = int(s.getsockname()[1])
        if base + size > 65535:
            continue
        try:
            for port in range(base, base + size):
                with socket.socket() as probe:
                    probe.bind(("127.0.0.1", port))
        except OSError:
            continue
        return base
    raise AssertionError("no block of free ports")


def scrape(port: int) -> str:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as response:
        return str(response.read().decode())


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    found: dict[tuple[str, tuple[tuple[str, str], ...]], float] = {}
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            found[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return found


def total(found: dict[tuple[str, tuple[tuple[str, str], ...]], float], name: str, **labels: str) -> float:
    return sum(v for (n, ls), v in found.items() if n == name and set(labels.items()) <= set(ls))


def promtool_check_metrics(text: str) -> None:
    assert PROMTOOL is not None, "promtool is not installed: `make setup` (deploy/dev/install-system-tools.sh)"
    done = subprocess.run([PROMTOOL, "check", "metrics"], input=text, capture_output=True, text=True,
                          check=False, timeout=60)
    assert done.returncode == 0, done.stdout + done.stderr


def event(i: int, platform: str = "generic", kind: str = "like", minute: int = 0) -> bytes:
    return orjson.dumps({"platform": platform, "id": f"e-{i}", "kind": kind,
                         "occurred_at": f"2026-11-21T10:{minute:02d}:05.120Z", "actor": {"id": f"u-{i % 7}"},
                         "target_id": "p-1" if kind != "post" else None,
                         **({"text": "launch day #pulse"} if kind == "post" else {})})


def test_worker_and_windows_child_expose_checked_metrics(pipeline: Pipeline) -> None:
    pipeline.migrate()
    port = free_port_block(3)  # worker, windows child, one route child
    pipeline.start_worker(PULSE_METRICS_PORT=str(port))
    likes = [event(i, minute=i % 3) for i in range(200)]
    posts = [event(1000 + i, kind="post", minute=i % 3) for i in range(20)]
    pipeline.produce(likes + posts + likes[:50] + [b"not json", b"[1]"])
    pipeline.wait_for_unique_events(220)
    pipeline.wait_for("dead letters", lambda: pipeline.scalar("SELECT count() FROM {db}.dead_letters"), 2)

    def main_metrics() -> float:
        return total(samples(scrape(port)), "pulse_duplicates_dropped_total")

    pipeline.wait_for("duplicate counter", main_metrics, 50.0)
    main_text = scrape(port)
    promtool_check_metrics(main_text)
    main = samples(main_text)
    assert total(main, "pulse_processing_latency_seconds_count", stage="store") >= 1
    lag = {ls: v for (n, ls), v in main.items() if n == "pulse_consumer_lag_messages"}
    assert any(("stage", "store") in ls for ls in lag), lag
    assert all(v >= 0 for v in lag.values())

    # The route child: what came in, valid per (platform, kind), rejected; and the events and
    # dead-letter sinks beside it, what they inserted into ClickHouse.
    pipeline.wait_for("stored counter", lambda: total(samples(scrape(port + 2)), "pulse_events_stored_total"), 220.0)
    route_text = scrape(port + 2)
    promtool_check_metrics(route_text)
    route = samples(route_text)
    assert total(route, "pulse_sink_batch_rows_sum", table="events_local") == 220
    assert total(route, "pulse_sink_batch_rows_sum", table="dead_letters_local") == 2
    assert total(route, "pulse_sink_insert_seconds_count", table="events_local") >= 1
    assert any(n == "pulse_consumer_lag_messages" and ("stage", "events-sink") in ls for n, ls in route), route
    assert total(route, "pulse_events_in_total") == 272
    assert total(route, "pulse_events_valid_total", platform="generic", kind="like") == 250
    assert total(route, "pulse_events_valid_total", platform="generic", kind="post") == 20
    assert total(route, "pulse_dead_letters_total") == 2
    assert total(route, "pulse_consumer_lag_messages", stage="route") >= 0

    def windows_keys() -> bool:
        found = samples(scrape(port + 1))
        return total(found, "pulse_window_active_keys") > 0 and total(found, "pulse_engagement_updates_total") > 0

    pipeline.wait_for("windows state gauges", windows_keys, True)
    windows_text = scrape(port + 1)
    promtool_check_metrics(windows_text)
    windows = samples(windows_text)
    assert total(windows, "pulse_window_buckets") >= total(windows, "pulse_window_active_keys") > 0
    assert total(windows, "pulse_processing_latency_seconds_count", stage="windows") >= 1
    assert total(windows, "pulse_events_stored_total") == 0  # its own registry, not a copy of the main one


def test_every_dashboard_clickhouse_query_runs_on_a_migrated_database(pipeline: Pipeline) -> None:
    from clickhouse_driver import Client

    from pulse.dashboards import DASHBOARDS, DIMENSIONS, expand_clickhouse_macros, panel_queries, render

    pipeline.migrate()
    now_s = int(time.time())

    def ago(seconds: int) -> datetime:  # the driver reads a bare int for DateTime64(3) as milliseconds
        return datetime.fromtimestamp(now_s - seconds, UTC)

    ch = Client(host=pipeline.settings.clickhouse.host, port=pipeline.settings.clickhouse.port,
                user=pipeline.settings.clickhouse.user, database=pipeline.database)
    try:
        # Events, an alert and a dead letter in the dashboards' time range: the queries aggregate real rows.
        ch.execute(
            "INSERT INTO events_local (platform, id, kind, occurred_at, actor_id, target_id, text, sentiment, "
            "hashtags, brands, ingested_at) VALUES",
            [("generic", f"e-{i}", "post" if i % 3 == 0 else "like", ago(600 - i), f"u-{i % 4}",
              "" if i % 3 == 0 else "e-0", "great launch" if i % 3 == 0 else "", 0.6 if i % 2 else -0.4,
              ["pulse"], ["acme"], ago(0)) for i in range(30)])
        ch.execute("INSERT INTO alerts_local (alert_id, rule, dimension, key, transition, status, severity, "
                   "opened_at, updated_at, observed, expected, score, emitted_at) VALUES",
                   [("a-1", "spike", "hashtag", "pulse", "opened", "open", "high", ago(300), ago(240),
                     30.0, 2.0, 9.5, ago(240))])
        ch.execute("INSERT INTO dead_letters_local (received_at, error, topic, partition, offset, raw, raw_encoding) "
                   "VALUES", [(ago(60), "value: not JSON", "social.raw", 0, 7, "not json", "utf-8")])
        queries = [(name, title, sql) for name in DASHBOARDS
                   for title, ds, sql in panel_queries(orjson.loads(render(name)))
                   if ds == "grafana-clickhouse-datasource"]
        assert len(queries) >= 8
        keys = {"brand": ["acme"], "hashtag": ["pulse", "it's"], "platform": ["generic"], "author": ["u-1"],
                "post": ["e-0"]}
        rows_seen: dict[str, int] = {}
        for dimension in DIMENSIONS:
            for selected in (keys[dimension], []):  # some keys selected, and none (an empty `All`)
                variables = {"dimension": dimension, "key": selected}
                for name, title, sql in queries:
                    expanded = expand_clickhouse_macros(sql, (now_s - 6 * 3600) * 1000, now_s * 1000, 60, variables)
                    assert "$" not in expanded, f"{name}: {title}: unexpanded macro in {expanded}"
                    try:
                        rows = ch.execute(expanded)
                    except Exception as exc:
                        raise AssertionError(f"{name}: {title} ({dimension}, {selected}) failed: {exc}\n{expanded}"
                                             ) from exc
                    rows_seen[title] = rows_seen.get(title, 0) + len(rows)
        assert len(rows_seen) == len({title for _, title, _ in queries})
        for title, seen in rows_seen.items():
            assert seen > 0, f"{title}: no row for any dimension, although the database has rows for it"
    finally:
        ch.disconnect()
