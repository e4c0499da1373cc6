"""`pulse`: the command line of Social Pulse (CONTRACT.md section 4)."""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click
from pydantic import ValidationError

from pulse.errors import PulseError
from pulse.simulate import DEFAULT_ACTORS_PER_PLATFORM
from streams.detect.config import RULE_NAMES
from streams.settings import Settings, load_settings

F = TypeVar("F", bound=Callable[..., Any])


def settings() -> Settings:
    return load_settings()


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(package_name="social-pulse", prog_name="pulse")
def cli() -> None:
    """Social Pulse: real-time engagement and spike alerts for social media.

    Configuration comes from PULSE_* environment variables or a .env file (see README).
    """


# ---------------------------------------------------------------- dev stack
SERVICES = ("kafka", "clickhouse")


@cli.group()
def dev() -> None:
    """A real local stack: Apache Kafka (KRaft) and ClickHouse on loopback, data in PULSE_DATA_DIR."""


@dev.command("up")
@click.argument("services", nargs=-1, type=click.Choice(SERVICES))
def dev_up(services: tuple[str, ...]) -> None:
    """Start the local stack (or only SERVICES); returns when both accept connections."""
    from pulse.devstack.clickhouse import start_clickhouse
    from pulse.devstack.kafka import start_kafka

    s = settings()
    for name in services or SERVICES:
        click.echo(start_kafka(s) if name == "kafka" else start_clickhouse(s))


@dev.command("down")
@click.argument("services", nargs=-1, type=click.Choice(SERVICES))
def dev_down(services: tuple[str, ...]) -> None:
    """Stop the processes `pulse dev up` started (by pid file); data is kept."""
    from pulse.devstack.clickhouse import clickhouse_process
    from pulse.devstack.kafka import kafka_process

    s = settings()
    for name in services or SERVICES:
        proc = kafka_process(s) if name == "kafka" else clickhouse_process(s)
        click.echo(f"{name:<11} {'stopped' if proc.stop() else 'was not running'}")


@dev.command("status")
def dev_status() -> None:
    """Report each local service; exits 1 unless all are running."""
    from pulse.devstack.clickhouse import clickhouse_status
    from pulse.devstack.kafka import kafka_status

    s = settings()
    results = [kafka_status(s), clickhouse_status(s)]
    for _, line in results:
        click.echo(line)
    if not all(ok for ok, _ in results):
        sys.exit(1)


@dev.command("fetch")
def dev_fetch() -> None:
    """Download the Kafka broker jars with Maven into the cache (done by `make setup`)."""
    from pulse.devstack.kafka import fetch_jars

    click.echo(f"kafka jars in {fetch_jars(settings())}")


# ---------------------------------------------------------------- migrate
@cli.command()
@click.option("--dry-run", is_flag=True, help="Print the SQL that would run; change nothing.")
@click.option("--down", is_flag=True, help="Reverse migrations (to --to, default: all of them).")
@click.option("--to", "target", type=click.IntRange(min=0), help="Target migration version.")
@click.option("--skip-topics", is_flag=True, help="Only ClickHouse; do not touch Kafka.")
def migrate(dry_run: bool, down: bool, target: int | None, skip_topics: bool) -> None:
    """Create the Kafka topics and apply ClickHouse migrations from schemas/ (idempotent)."""
    from pulse.migrate import create_topics, ensure_database, migrate_clickhouse
    from sinks.clickhouse_client import connect

    s = settings()
    if not skip_topics and not dry_run and not down:
        create_topics(s, echo=click.echo)
    ep = s.clickhouse
    client = connect(ep)
    try:
        if not dry_run:
            ensure_database(ep)
        done = migrate_clickhouse(client, down=down, target=target, dry_run=dry_run, echo=click.echo)
    except Exception as exc:
        raise clickhouse_error(exc, ep.safe_url()) from exc
    finally:
        client.disconnect()
    verb = "would apply" if dry_run else ("reverted" if down else "applied")
    click.echo(f"clickhouse {ep.safe_url()}: {verb} {len(done)} migration(s)")


def clickhouse_error(exc: Exception, url: str) -> Exception:
    from clickhouse_driver.errors import NetworkError, ServerException, SocketTimeoutError

    if isinstance(exc, BrokenPipeError):
        return exc
    if isinstance(exc, NetworkError | SocketTimeoutError | OSError | EOFError):
        return PulseError(f"ClickHouse at {url} is unreachable; start it with `pulse dev up` "
                          "or set PULSE_CLICKHOUSE_URL")
    if isinstance(exc, ServerException):
        return PulseError(f"ClickHouse at {url} refused: {str(exc).splitlines()[0][:200]}")
    return exc


# ---------------------------------------------------------------- worker
@cli.command()
@click.option("--id", "worker_id", default=None, help="Worker name (state folder, logs); default PULSE_WORKER_ID.")
def worker(worker_id: str | None) -> None:
    """Run one stream-processing worker; start several to share the partitions."""
    from pulse.worker import run_worker

    s = settings()
    if worker_id:
        s = s.model_copy(update={"worker_id": worker_id})
    run_worker(s)


# ---------------------------------------------------------------- replay
@cli.command()
@click.argument("source", type=click.Path(allow_dash=True, dir_okay=False, path_type=Path))
@click.option("--topic", default=None, help="Target topic (default: social.raw with the prefix).")
@click.option("--no-progress", is_flag=True, help="No progress bar.")
def replay(source: Path, topic: str | None, no_progress: bool) -> None:
    """Produce NDJSON raw events from SOURCE (a file, or - for stdin) to social.raw."""
    from pulse.replay import replay_file

    count, skipped = replay_file(settings(), source, topic=topic, progress=not no_progress)
    click.echo(f"produced {count} message(s)" + (f", skipped {skipped} blank line(s)" if skipped else ""))


# ---------------------------------------------------------------- simulate
@cli.command()
@click.option("--rate", type=click.FloatRange(min=0.001), default=1000.0, show_default=True,
              help="Mean events per second (before the diurnal rhythm).")
@click.option("--duration", type=click.FloatRange(min=0.001), default=60.0, show_default=True,
              help="Seconds of event time to simulate.")
@click.option("--seed", type=int, default=42, show_default=True, help="Same seed, same traffic.")
@click.option("--start", "start", default=None, help="Event time of the first event (RFC 3339; default: now).")
@click.option("--realtime/--as-fast-as-possible", default=False, show_default=True,
              help="Pace production by event time, or produce everything at once.")
@click.option("--truth", "truth_path", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Write the ground truth (per-minute counts, injected spikes) to this JSON file.")
@click.option("--output", type=click.Path(dir_okay=False, allow_dash=True, path_type=Path), default=None,
              help="Write NDJSON to this file (- for stdout) instead of producing to Kafka.")
@click.option("--duplicates", type=click.FloatRange(0, 0.99), default=0.03, show_default=True)
@click.option("--late", type=click.FloatRange(0, 0.99), default=0.02, show_default=True)
@click.option("--malformed", type=click.FloatRange(0, 0.99), default=0.005, show_default=True)
@click.option("--spikes", type=click.IntRange(min=0), default=2, show_default=True, help="Viral cascades to inject.")
@click.option("--actors", type=click.IntRange(min=1), default=DEFAULT_ACTORS_PER_PLATFORM, show_default=True,
              help="Actors per platform (the most active first; 400,000: most act once a minute at 10,000 events/s).")
def simulate(rate: float, duration: float, seed: int, start: str | None, realtime: bool, truth_path: Path | None,
             output: Path | None, duplicates: float, late: float, malformed: float, spikes: int, actors: int) -> None:
    """Produce realistic synthetic traffic to social.raw and write its ground truth."""
    from pulse.simulate_command import run_simulate

    run_simulate(settings(), rate=rate, duration=duration, seed=seed, start=start, realtime=realtime,
                 truth_path=truth_path, output=output, duplicates=duplicates, late=late, malformed=malformed,
                 spikes=spikes, actors=actors)


# ---------------------------------------------------------------- bench
@cli.command()
@click.option("--events", type=click.IntRange(min=1000), default=1_000_000, show_default=True,
              help="Unique simulated events to pre-load.")
@click.option("--seed", type=int, default=7, show_default=True)
@click.option("--timeout", "timeout_s", type=click.FloatRange(min=10), default=1800, show_default=True,
              help="Give up after this many seconds.")
@click.option("--workers", type=click.IntRange(1, 16), default=1, show_default=True,
              help="Worker processes sharing the partitions.")
@click.option("--latency-s", type=click.FloatRange(min=0), default=60, show_default=True,
              help="Then measure alert latency with this many seconds of live traffic (0: skip).")
@click.option("--latency-rate", type=click.FloatRange(min=1), default=10_000, show_default=True,
              help="Events per second of the live traffic.")
@click.option("--keep-topics", is_flag=True,
              help="Leave the run's Kafka topics (BENCHTAG.*) for inspection; by default they are deleted.")
@click.option("--actors", type=click.IntRange(min=1), default=DEFAULT_ACTORS_PER_PLATFORM, show_default=True,
              help="Simulated actors per platform (4,000: every result in BENCHMARKS.md before Session 13; "
                   "400,000: most actors act once a minute, as in broad real traffic).")
@click.option("--json", "as_json", is_flag=True, help="Print only the result, as JSON.")
def bench(events: int, seed: int, timeout_s: float, workers: int, latency_s: float, latency_rate: float,
          keep_topics: bool, actors: int, as_json: bool) -> None:
    """End-to-end throughput (raw → unique rows in ClickHouse) and memory of one worker, then the
    alert latency (event produced → alert on social.alerts) under live traffic."""
    import orjson

    from pulse.bench import run_bench
    from pulse.bench_latency import LatencyPlan

    plan = LatencyPlan(rate=latency_rate, seconds=latency_s, actors=actors) if latency_s > 0 else None
    result = run_bench(settings(), events, seed, timeout_s,
                       echo=(lambda _: None) if as_json else click.echo, workers=workers, latency_plan=plan,
                       keep_topics=keep_topics, actors=actors)
    click.echo(orjson.dumps(result, option=orjson.OPT_INDENT_2).decode())


# ---------------------------------------------------------------- demo
@cli.command()
@click.option("--duration", type=click.FloatRange(min=1), default=None,
              help="Stop after SECONDS and print a summary (default: run until Ctrl-C).")
@click.option("--rate", type=click.IntRange(min=1), default=500, show_default=True, help="Events per second.")
def demo(duration: float | None, rate: int) -> None:
    """Local stack, migrations, a worker, live traffic, and what flows, in one command."""
    from pulse.demo import run_demo

    run_demo(settings(), duration=duration, rate=rate)


# ---------------------------------------------------------------- ui
@cli.command()
@click.option("--host", default=None, help="Address to bind (default PULSE_UI_HOST, 127.0.0.1).")
@click.option("--port", type=click.IntRange(0, 65535), default=None,
              help="Port (default PULSE_UI_PORT, 8765; 0 picks a free one).")
def ui(host: str | None, port: int | None) -> None:
    """Serve the live page: throughput, trending keys, open alerts and dead letters from ClickHouse.

    Runs until Ctrl-C or SIGTERM; the page updates itself every 2 seconds.
    """
    from pulse.ui.server import run_ui

    s = settings()
    run_ui(s, host if host is not None else s.ui_host, port if port is not None else s.ui_port)


# ---------------------------------------------------------------- backtest
@cli.command()
@click.option("--input", "input_path", required=True, type=click.Path(allow_dash=True, path_type=Path),
              help="CSV with header timestamp,value: one row per fixed interval, in time order (- for stdin).")
@click.option("--output", type=click.Path(allow_dash=True, dir_okay=False, path_type=Path), default=None,
              help="Write timestamp,value,score,alert here (default: stdout).")
@click.option("--rule", "rule_name", type=click.Choice(RULE_NAMES), default="volume_spike", show_default=True,
              help="Which rule's settings to run.")
@click.option("--config", "config_path", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="A detector.toml (default: the built-in defaults, as in deploy/detector.toml).")
@click.option("--key", default=None, help="Apply this key's per-key overrides from --config.")
@click.option("--sensitivity", type=click.FloatRange(min=0, min_open=True, max=100), default=None,
              help="Higher = more alerts (default 1.0).")
@click.option("--min-volume", type=click.FloatRange(min=0), default=None,
              help="Never alert on an interval with a count below this.")
@click.option("--cooldown", type=click.IntRange(min=0), default=None,
              help="Intervals after a resolved alert before the series may alert again.")
def backtest(input_path: Path, output: Path | None, rule_name: str, config_path: Path | None, key: str | None,
             sensitivity: float | None, min_volume: float | None, cooldown: int | None) -> None:
    """Run the spike detector over a historical count series; print score and alert per row."""
    from pulse.backtest import backtest_rule, run_backtest

    rule = backtest_rule(rule_name, config_path, key, sensitivity, min_volume, cooldown)
    series, alerts = run_backtest(input_path, output, rule)
    if output is not None and str(output) != "-":
        click.echo(f"{len(series.values)} row(s), interval {series.interval_ms / 1000:g} s, {alerts} alert row(s) "
                   f"-> {output}")


# ---------------------------------------------------------------- notify
@cli.command()
@click.option("--config", "config_path", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Subscribers file (TOML, see deploy/notify.example.toml); default PULSE_NOTIFY_CONFIG_FILE.")
@click.option("--check", is_flag=True, help="Only validate the subscribers file and list the subscribers.")
def notify(config_path: Path | None, check: bool) -> None:
    """Deliver alerts from social.alerts to webhook, Slack and Alertmanager subscribers.

    Runs until SIGTERM or Ctrl-C. Offsets are committed only after every subscriber has delivered or
    dead-lettered a change, and a delivery ledger in PULSE_DATA_DIR keeps a restart from sending a
    change twice.
    """
    import os

    from sinks.notify.config import load_notify_config

    s = settings()
    path = config_path or s.notify_config_file
    if path is None:
        raise PulseError("no subscribers file: set PULSE_NOTIFY_CONFIG_FILE or pass --config "
                         "(example: deploy/notify.example.toml)")
    config = load_notify_config(path, os.environ)
    if check:
        for sub in config.subscribers:
            click.echo(f"{sub.name}: {sub.kind}")
        return
    from pulse.notify import run_notify

    run_notify(s, config)


# ---------------------------------------------------------------- ingest
@cli.command()
def ingest() -> None:
    """Receive platform webhooks at POST /webhooks/<platform> and produce them to social.raw.

    Answers the platforms' verification handshakes (Meta hub.challenge, X CRC), verifies signatures,
    and answers 2xx only after Kafka acknowledged the envelope. Listens on PULSE_INGEST_HOST:PULSE_INGEST_PORT
    (default 127.0.0.1:8088); /healthz, /readyz and /metrics on the same port. Runs until SIGTERM or Ctrl-C.
    """
    from sources.ingest.command import run_ingest

    run_ingest(settings())


# ---------------------------------------------------------------- poll-feeds
@cli.command("poll-feeds")
@click.option("--config", "config_path", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Feeds file (TOML, see deploy/feeds.example.toml); default PULSE_FEEDS_CONFIG_FILE.")
@click.option("--check", is_flag=True, help="Only validate the feeds file and list the feeds.")
@click.option("--once", is_flag=True, help="Poll every feed once and exit (non-zero when a feed failed).")
def poll_feeds(config_path: Path | None, check: bool, once: bool) -> None:
    """Poll RSS/Atom feeds and produce their new entries to social.raw.

    Conditional GET (ETag, Last-Modified), per-feed intervals and backoff; entries already produced are
    remembered in PULSE_DATA_DIR, so a restart produces nothing twice.
    """
    from sources.feeds.config import load_feeds_config

    s = settings()
    path = config_path or s.feeds_config_file
    if path is None:
        raise PulseError("no feeds file: set PULSE_FEEDS_CONFIG_FILE or pass --config "
                         "(example: deploy/feeds.example.toml)")
    config = load_feeds_config(path)
    if check:
        for feed in config.feeds:
            click.echo(f"{feed.name}: {feed.url} every {feed.interval_s:g}s as {feed.platform}")
        return
    from sources.feeds.command import run_poll_feeds

    failed = run_poll_feeds(s, config, once=once)
    if failed:
        raise PulseError(f"{failed} feed(s) failed; see the log above")


def quiet_client_libraries() -> None:
    """Driver libraries log connection failures with stack traces; our commands report them in one line."""
    for name in ("clickhouse_driver", "kafka", "aiokafka"):
        logging.getLogger(name).setLevel(logging.CRITICAL)


def main(argv: list[str] | None = None) -> None:
    quiet_client_libraries()
    try:
        cli.main(args=argv, prog_name="pulse", standalone_mode=False)
    except click.exceptions.Abort:
        click.echo("pulse: aborted", err=True)
        sys.exit(130)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except PulseError as exc:
        click.echo(f"pulse: error: {exc}", err=True)
        sys.exit(exc.exit_code)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first.get("loc", ())) or "settings"
        click.echo(f"pulse: error: bad configuration PULSE_{where.upper()}: {first.get('msg')}", err=True)
        sys.exit(2)
    except ValueError as exc:
        click.echo(f"pulse: error: {exc}", err=True)
        sys.exit(2)
    except KeyboardInterrupt:
        sys.exit(130)
