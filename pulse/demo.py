"""`pulse demo`: the whole pipeline on the local stack, with what flows shown live."""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from clickhouse_driver import Client
from rich.console import Console, Group
from rich.live import Live
from rich.table import Table

from pulse.devstack.clickhouse import start_clickhouse
from pulse.devstack.kafka import start_kafka
from pulse.devstack.process import ManagedProcess
from pulse.errors import PulseError
from pulse.migrate import create_topics, ensure_database, migrate_clickhouse
from pulse.native import build_in_use
from pulse.replay import make_producer
from pulse.simulate import GroundTruth, SimulationConfig, simulate
from pulse.ui.server import UiServer
from schemas.topics import TopicNames
from sinks.clickhouse_client import connect
from streams.settings import Settings


@dataclass
class DemoStats:
    produced: int = 0
    started: float = field(default_factory=time.monotonic)
    stored: int = 0
    dead_letters: int = 0
    alerts: int = 0
    top: list[tuple[str, str, int]] = field(default_factory=list)
    recent_alerts: list[tuple[str, ...]] = field(default_factory=list)
    history: list[tuple[float, int, int]] = field(default_factory=list)  # (t, produced, stored)
    baseline_stored: int = 0
    baseline_dead: int = 0

    def rates(self) -> tuple[float, float]:
        if len(self.history) < 2:
            return 0.0, 0.0
        t0, p0, s0 = self.history[max(0, len(self.history) - 6)]
        t1, p1, s1 = self.history[-1]
        dt = max(t1 - t0, 1e-6)
        return (p1 - p0) / dt, (s1 - s0) / dt


def _table_exists(client: Client, name: str) -> bool:
    rows = client.execute("SELECT count() FROM system.tables WHERE database = currentDatabase() AND name = %(name)s",
                          {"name": name})
    return bool(rows[0][0])


def poll_clickhouse(client: Client, stats: DemoStats) -> None:
    # Rows from earlier runs of the demo stay in ClickHouse: show what this run added.
    stats.stored = int(client.execute("SELECT count() FROM events")[0][0]) - stats.baseline_stored
    stats.dead_letters = int(client.execute("SELECT count() FROM dead_letters")[0][0]) - stats.baseline_dead
    stats.top = [(str(d), str(k), int(t)) for d, k, t in client.execute(
        "SELECT dimension, key, sum(total) AS t FROM engagement_by_minute "
        "WHERE minute >= now() - INTERVAL 5 MINUTE AND dimension IN ('post', 'hashtag', 'brand') "
        "GROUP BY dimension, key ORDER BY t DESC LIMIT 8")]
    if _table_exists(client, "alerts_latest"):
        stats.alerts = int(client.execute("SELECT count() FROM alerts_latest")[0][0])
        stats.recent_alerts = [tuple(str(c) for c in row) for row in client.execute(
            "SELECT transition, severity, rule, dimension, key, formatDateTime(opened_at, '%H:%i'), "
            "round(observed, 1), round(expected, 1) FROM alerts_latest ORDER BY updated_at DESC LIMIT 8")]


def render(stats: DemoStats, settings: Settings) -> Group:
    produced_rate, stored_rate = stats.rates()
    head = Table.grid(padding=(0, 2))
    head.add_row("[b]produced[/b]", f"{stats.produced:,}", f"{produced_rate:,.0f}/s")
    head.add_row("[b]unique events in ClickHouse[/b]", f"{stats.stored:,}", f"{stored_rate:,.0f}/s")
    head.add_row("[b]dead letters[/b]", f"{stats.dead_letters:,}", "")
    head.add_row("[b]alerts[/b]", f"{stats.alerts:,}", "")
    top = Table(title="trending, last 5 minutes (engagement_by_minute)", title_justify="left")
    for col in ("dimension", "key", "events"):
        top.add_column(col)
    for dim, key, total in stats.top:
        top.add_row(dim, key, f"{total:,}")
    parts: list[Table] = [head, top]
    if stats.recent_alerts:
        alerts = Table(title="alerts, newest change first (alerts_latest)", title_justify="left")
        for col in ("state", "severity", "rule", "dimension", "key", "since", "observed", "expected"):
            alerts.add_column(col)
        for row in stats.recent_alerts:
            alerts.add_row(*row)
        parts.append(alerts)
    return Group(*parts)


def run_demo(settings: Settings, duration: float | None, rate: int) -> None:
    build_in_use()
    console = Console()
    console.print("[b]Social Pulse demo[/b] — starting the local stack")
    console.print(start_kafka(settings))
    console.print(start_clickhouse(settings))
    create_topics(settings, echo=console.print)
    ep = settings.clickhouse
    ensure_database(ep)
    client = connect(ep)
    migrate_clickhouse(client, echo=lambda line: None)

    worker = ManagedProcess("demo-worker", settings.data_dir / "run")
    worker.stop(timeout=10)
    env = dict(os.environ)
    example = Path("deploy/watchlist.example.json")
    if settings.watchlist_file is None and example.is_file():
        env["PULSE_WATCHLIST_FILE"] = str(example.resolve())  # the simulator talks about these brands
        console.print(f"brand watchlist: {example} (set PULSE_WATCHLIST_FILE for your own)")
    worker.start([sys.executable, "-m", "pulse", "worker", "--id", "demo"], cwd=Path.cwd(), env=env)
    console.print(f"worker started (log: {worker.log_file})")
    page = _start_live_page(settings, console)
    console.print(
        "where to look: ClickHouse "
        f"[cyan]{ep.safe_url()}[/cyan] (views events, engagement_by_minute, dead_letters), topics "
        f"{', '.join(TopicNames(settings.topic_prefix).all()[:5])}\n"
    )

    try:
        _live(settings, console, client, worker, duration, rate)
    finally:
        # Whatever happened above, the demo's worker must not outlive the demo.
        worker.stop(timeout=15)
        client.disconnect()
        if page is not None:
            page.stop()


def _start_live_page(settings: Settings, console: Console) -> UiServer | None:
    """The live page (pulse ui) in this process; the demo goes on without it if its port is taken."""
    page = UiServer(settings, settings.ui_host, settings.ui_port)
    try:
        url = page.start()
    except PulseError as exc:
        console.print(f"live page not started: {exc}")
        return None
    console.print(f"live page: [cyan]{url}[/cyan] (open it in a browser)")
    return page


def _live(settings: Settings, console: Console, client: Client, worker: ManagedProcess, duration: float | None,
          rate: int) -> None:
    producer = make_producer(settings)
    topic = TopicNames(settings.topic_prefix).raw
    truth = GroundTruth()
    config = SimulationConfig(seed=int(time.time()), rate=float(rate),
                              duration_s=duration if duration is not None else 10 * 365 * 86400.0,
                              start_ms=int(time.time() * 1000))
    stats = DemoStats()
    poll_clickhouse(client, stats)
    stats.baseline_stored, stats.baseline_dead = stats.stored, stats.dead_letters
    stop = {"flag": False}

    def _stop(*_: object) -> None:
        stop["flag"] = True

    previous = signal.signal(signal.SIGINT, _stop)
    signal.signal(signal.SIGTERM, _stop)
    wall0 = time.time()
    next_poll = 0.0
    try:
        with Live(render(stats, settings), console=console, refresh_per_second=2, transient=False) as live:
            messages = simulate(config, truth)
            # Decide to stop *before* drawing the next message: the truth counts what is drawn.
            while not (stop["flag"] or (duration is not None and time.time() - wall0 >= duration)):
                msg = next(messages, None)
                if msg is None:
                    break
                # Pace by the simulator's emit times, so the demo runs in real time.
                delay = (msg.emit_ms - config.start_ms) / 1000 - (time.time() - wall0)
                if delay > 0:
                    producer.flush()
                    time.sleep(min(delay, 0.5))
                producer.send(topic, value=msg.value)
                stats.produced += 1
                now = time.monotonic()
                if now >= next_poll:
                    next_poll = now + 1.0
                    with contextlib.suppress(Exception):
                        poll_clickhouse(client, stats)
                    stats.history.append((now, stats.produced, stats.stored))
                    live.update(render(stats, settings))
                if worker.pid() is None:
                    raise PulseError(f"the demo worker exited: {worker.last_log_line()} (log: {worker.log_file})")
            producer.flush()
            # Let the worker drain what was produced before the summary: the unique events and the
            # dead letters (their sink inserts at most once per PULSE_SINK_INSERT_INTERVAL_S).
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline and (stats.stored < truth.unique_events
                                                   or stats.dead_letters < truth.malformed):
                time.sleep(1)
                with contextlib.suppress(Exception):
                    poll_clickhouse(client, stats)
                stats.history.append((time.monotonic(), stats.produced, stats.stored))
                live.update(render(stats, settings))
    finally:
        signal.signal(signal.SIGINT, previous)
        producer.close()
    console.print(
        f"\n[b]summary[/b]: events produced {stats.produced:,} "
        f"(unique valid {truth.unique_events:,}, duplicates {truth.duplicates:,}, malformed {truth.malformed:,}); "
        f"unique events in ClickHouse {stats.stored:,}; dead letters {stats.dead_letters:,}; "
        f"alerts opened {stats.alerts:,}"
    )
    console.print("the local stack keeps running: query it, or stop it with `pulse dev down`")
