"""`pulse bench`: end-to-end throughput and memory of one worker on the local stack.

1. starts the local stack (idempotent) and makes a fresh, isolated deployment: a topic prefix
   and a ClickHouse database of its own, migrated;
2. pre-loads N simulated events (duplicates, late and malformed ones included) into social.raw;
3. starts one `pulse worker` and measures how fast unique rows become queryable in ClickHouse
   `events` — sustained rate between 10% and 90% of the rows, and overall from worker start —
   and the worker's peak RSS;
4. measures the dedupe state's memory per remembered key in-process (tracemalloc);
5. once the worker has stopped, reads the windows stage's whole state back from its changelog as
   a restarted worker would (`state_load`).
"""

from __future__ import annotations

import contextlib
import gc
import itertools
import os
import platform
import subprocess
import sys
import time
import tracemalloc
from pathlib import Path
from typing import Any

from clickhouse_driver import Client
from pydantic import SecretStr

from pulse.bench_latency import LatencyPlan, measure_alert_latency
from pulse.devstack.clickhouse import start_clickhouse
from pulse.devstack.kafka import start_kafka
from pulse.errors import PulseError
from pulse.migrate import create_topics, ensure_database, migrate_clickhouse
from pulse.native import build_in_use
from pulse.produce import produce_values
from pulse.simulate import DEFAULT_ACTORS_PER_PLATFORM, GroundTruth, SimulationConfig, simulate
from schemas.event import CanonicalEvent
from schemas.topics import TopicNames
from sinks.clickhouse_client import connect
from streams.app import app_id
from streams.dedupe import DedupeState
from streams.settings import Settings


def machine() -> dict[str, Any]:
    mem_kb = 0
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                mem_kb = int(line.split()[1])
    except OSError:
        pass
    cpu = ""
    with contextlib.suppress(OSError, StopIteration):
        cpu = next(ln.split(":", 1)[1].strip() for ln in Path("/proc/cpuinfo").read_text().splitlines()
                   if ln.startswith("model name"))
    return {"cpus": os.cpu_count(), "cpu": cpu, "memory_gb": round(mem_kb / 1024 / 1024, 1),
            "python": platform.python_version(), "os": platform.platform()}


def peak_rss_mb(pid: int) -> float:
    """Sum of the peak RSS of a process and its live descendants."""
    kb = 0
    for p in process_tree(pid):
        with contextlib.suppress(OSError):
            kb += sum(int(line.split()[1]) for line in Path(f"/proc/{p}/status").read_text().splitlines()
                      if line.startswith("VmHWM:"))
    return round(kb / 1024, 1)


def process_tree(pid: int) -> list[int]:
    """`pid` and its live descendants (a worker runs its route stage in child processes)."""
    pids, i = [pid], 0
    while i < len(pids):
        for task in Path(f"/proc/{pids[i]}/task").glob("*/children"):
            with contextlib.suppress(OSError):
                pids.extend(int(c) for c in task.read_text().split())
        i += 1
    return pids


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process and its live descendants, from /proc."""
    total = 0
    for p in process_tree(pid):
        with contextlib.suppress(OSError):
            total += sum(int(f) for f in Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()[11:13])
    return total / os.sysconf("SC_CLK_TCK")


def dedupe_bytes_per_key(keys: int = 1_000_000) -> float:
    """Python heap bytes the dedupe state holds per remembered key (keys shaped like real ones)."""
    gc.collect()
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    state = DedupeState(horizon_ms=7 * 86400_000)
    pack = 1000
    for offset in range(keys // pack):
        for i in range(pack):
            n = offset * pack + i
            state.admit(CanonicalEvent("twitter", f"tw-{n:010d}", "like", 1_700_000_000_000 + n, "u",
                                       target_id="p"), offset)
        state.close_batch()
    after = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    assert len(state) == keys
    return round((after - before) / keys, 1)


def preload(settings: Settings, n: int, seed: int, actors: int = DEFAULT_ACTORS_PER_PLATFORM) -> GroundTruth:
    truth = GroundTruth()
    config = SimulationConfig(start_ms=(int(time.time()) // 60 - 120) * 60_000, seed=seed, rate=2000.0,
                              duration_s=n / 2000.0 * 2, max_events=n, actors_per_platform=actors)
    produce_values(settings, TopicNames(settings.topic_prefix).raw, (msg.value for msg in simulate(config, truth)))
    return truth


def wait_windows_caught_up(settings: Settings, started: float, timeout_s: float,
                           procs: list[subprocess.Popen[bytes]], log_path: Path) -> float:
    """When the windows stage's consumer group has committed every social.contributions message."""
    from kafka import KafkaAdminClient, KafkaConsumer

    topic = TopicNames(settings.topic_prefix).contributions
    group = app_id(settings, "windows")
    admin = KafkaAdminClient(bootstrap_servers=settings.kafka_bootstrap, client_id="pulse-bench")
    consumer = KafkaConsumer(bootstrap_servers=settings.kafka_bootstrap, client_id="pulse-bench")
    try:
        while True:
            ends = consumer.end_offsets([tp for tp in _partitions(consumer, topic)])
            committed = admin.list_group_offsets(group).get(group, {})
            if all(committed.get(tp) is not None and committed[tp].offset >= end for tp, end in ends.items()):
                return time.monotonic()
            if any(p.poll() is not None for p in procs):
                raise PulseError(f"the bench worker exited; see {log_path}")
            if time.monotonic() - started > timeout_s:
                raise PulseError(f"the windows stage did not catch up in {timeout_s:.0f}s; see {log_path}")
            time.sleep(0.5)
    finally:
        consumer.close()
        admin.close()


def _partitions(consumer: Any, topic: str) -> list[Any]:
    from kafka import TopicPartition

    return [TopicPartition(topic, p) for p in sorted(consumer.partitions_for_topic(topic) or ())]


def run_bench(settings: Settings, events: int, seed: int, timeout_s: float,
              echo: Any = print, workers: int = 1, latency_plan: LatencyPlan | None = None,
              keep_topics: bool = False, actors: int = DEFAULT_ACTORS_PER_PLATFORM) -> dict[str, Any]:
    build = build_in_use()
    tag = f"bench{int(time.time())}"
    bench = settings.model_copy(update={"topic_prefix": f"{tag}.", "worker_id": tag})
    ep = settings.clickhouse
    database = f"pulse_{tag}"
    url = f"clickhouse://{ep.user}:{ep.password.get_secret_value()}@{ep.host}:{ep.port}/{database}"
    bench = bench.model_copy(update={"clickhouse_url": SecretStr(url)})
    echo(start_kafka(settings))
    echo(start_clickhouse(settings))
    create_topics(bench, echo=lambda _: None)
    ensure_database(bench.clickhouse)
    client: Client = connect(bench.clickhouse)
    migrate_clickhouse(client, echo=lambda _: None)
    echo(f"pre-loading {events:,} simulated events into {bench.topic_prefix}social.raw ...")
    t0 = time.monotonic()
    truth = preload(bench, events, seed, actors)
    load_s = time.monotonic() - t0
    messages = truth.messages
    echo(f"loaded {messages:,} messages ({truth.unique_events:,} unique) in {load_s:.1f}s; "
         f"starting {workers} worker(s)")
    env = dict(os.environ, PULSE_TOPIC_PREFIX=bench.topic_prefix, PULSE_CLICKHOUSE_URL=url,
               PULSE_WORKER_ID=tag, PULSE_DATA_DIR=str(settings.data_dir.resolve()))
    log_path = settings.data_dir / "run" / f"{tag}.log"
    log_path.parent.mkdir(parents=True, exist_ok=True)
    procs = []
    with log_path.open("wb") as log:
        for n in range(workers):
            procs.append(subprocess.Popen([sys.executable, "-m", "pulse", "worker"],
                                          env=dict(env, PULSE_WORKER_ID=f"{tag}-{n}"), stdout=log,
                                          stderr=subprocess.STDOUT, start_new_session=True))
    started = time.monotonic()
    samples: list[tuple[float, int]] = []
    cpu: list[tuple[int, float]] = []  # (rows stored, worker CPU seconds) at each poll
    rss = 0.0
    try:
        target = truth.unique_events
        while True:
            stored = int(client.execute("SELECT count() FROM events_local")[0][0])
            now = time.monotonic()
            samples.append((now, stored))
            cpu.append((stored, sum(cpu_seconds(p.pid) for p in procs)))
            rss = max([rss, *(peak_rss_mb(p.pid) for p in procs)])
            if stored >= target:
                break
            if any(p.poll() is not None for p in procs):
                raise PulseError(f"the bench worker exited; see {log_path}")
            if now - started > timeout_s:
                raise PulseError(f"the worker stored {stored:,} of {target:,} rows in {timeout_s:.0f}s; see {log_path}")
            time.sleep(0.5)
        finished = time.monotonic()
        unique_in_view = int(client.execute("SELECT count() FROM events")[0][0])
        echo("waiting for the windows stage to catch up ...")
        windows_done = wait_windows_caught_up(bench, started, timeout_s, procs, log_path)
        active_keys = int(client.execute("SELECT uniqExact(dimension, key) FROM engagement_by_minute")[0][0])
        rss = max([rss, *(peak_rss_mb(p.pid) for p in procs)])
        latency: dict[str, Any] | None = None
        if latency_plan is not None:
            echo(f"alert latency: {latency_plan.rate:,.0f} events/s of live traffic for {latency_plan.seconds:.0f}s, "
                 f"a new hashtag spike every {latency_plan.spike_every_s:.0f}s ...")
            latency = measure_alert_latency(bench, latency_plan)
            rss = max([rss, *(peak_rss_mb(p.pid) for p in procs)])
    finally:
        for p in procs:
            p.terminate()
        for p in procs:
            try:
                p.wait(timeout=30)
            except subprocess.TimeoutExpired:
                p.kill()
    lo, hi = _crossing(samples, 0.1 * target), _crossing(samples, 0.9 * target)
    sustained = (0.8 * target) / (hi - lo) if hi > lo else 0.0
    result = {
        "events": events,
        "workers": workers,
        "actors_per_platform": actors,
        "messages": messages,
        "unique_events": target,
        "unique_in_clickhouse_view": unique_in_view,
        "events_per_s": round(sustained),
        "messages_per_s_overall": round(messages / (finished - started)),
        "seconds_from_worker_start": round(finished - started, 1),
        "worker_peak_rss_mb": rss,
        # The windows stage (buckets, sliding windows, detectors) finished the same events:
        "windows_seconds_from_worker_start": round(windows_done - started, 1),
        "windows_events_per_s_overall": round(target / (windows_done - started)),
        "windows_active_keys": active_keys,
        "alert_latency": latency,
        # Independent of what else runs on the machine: the worker's own CPU per raw message.
        "worker_cpu_us_per_event": _cpu_per_row(cpu, 0.1 * target, 0.9 * target),
        "dedupe_state_bytes_per_key": dedupe_bytes_per_key(),
        # The windows state a restarted worker reads back (all partitions, one after the other).
        "state_load": state_load(bench),
        "preload_seconds": round(load_s, 1),
        "native_modules": len(build.compiled),
        "machine": machine(),
    }
    admin = connect(ep, database=False)
    admin.execute(f"DROP DATABASE IF EXISTS `{database}`")
    admin.disconnect()
    client.disconnect()
    if not keep_topics:
        delete_topics(bench)  # a 1M run leaves ~2.5 GB in Kafka otherwise
    return result


def delete_topics(settings: Settings) -> list[str]:
    """Delete every topic of the run's prefix (its own topics and the worker's internal ones)."""
    from kafka.admin import KafkaAdminClient

    admin = KafkaAdminClient(bootstrap_servers=settings.kafka_bootstrap, request_timeout_ms=30000)
    try:
        topics = sorted(t for t in admin.list_topics() if t.startswith(settings.topic_prefix))
        if topics:
            admin.delete_topics(topics)
        return topics
    finally:
        admin.close()


def state_load(settings: Settings) -> dict[str, Any]:
    """Read every partition of the windows changelog as a newly assigned worker does."""
    import asyncio

    from streams.agents.changelog import Changelog

    async def load_all() -> int:
        changelog = Changelog(settings, TopicNames(settings.topic_prefix).windows_changelog)
        try:
            return sum([len(await changelog.load(q)) for q in range(settings.topic_partitions)])
        finally:
            await changelog.close()

    from kafka import KafkaConsumer, TopicPartition

    consumer = KafkaConsumer(bootstrap_servers=settings.kafka_bootstrap)
    topic = TopicNames(settings.topic_prefix).windows_changelog
    ends = consumer.end_offsets([TopicPartition(topic, q) for q in range(settings.topic_partitions)])
    consumer.close()
    started = time.perf_counter()
    entries = asyncio.run(load_all())
    seconds = time.perf_counter() - started
    # Records: every version written (not compacted yet); entries: the keys that remain.
    return {"records": sum(ends.values()), "entries": entries, "seconds": round(seconds, 2),
            "records_per_s": round(sum(ends.values()) / seconds)}


def _cpu_per_row(cpu: list[tuple[int, float]], lo: float, hi: float) -> float:
    """Worker CPU µs per unique row stored between the polls nearest `lo` and `hi` rows."""
    inside = [(rows, seconds) for rows, seconds in cpu if lo <= rows <= hi]
    if len(inside) < 2 or inside[-1][0] == inside[0][0]:
        return 0.0
    return round((inside[-1][1] - inside[0][1]) / (inside[-1][0] - inside[0][0]) * 1e6, 1)


def _crossing(samples: list[tuple[float, int]], level: float) -> float:
    """Interpolated time at which the stored count crossed `level`."""
    for (t0, c0), (t1, c1) in itertools.pairwise(samples):
        if c0 <= level <= c1 and c1 > c0:
            return t0 + (t1 - t0) * (level - c0) / (c1 - c0)
    return samples[-1][0]
