"""Alert latency of a running worker: from producing the event that crosses a spike threshold to
the alert on `social.alerts`.

Live traffic from the simulator is produced at a steady rate (event time = wall time). Every few
seconds a burst of posts with a hashtag never seen before is produced at once, far above any
threshold, so the crossing event is one of the burst; the latency of that spike is the alert
message's Kafka timestamp minus the moment the burst was handed to the producer (which counts
the producer's own latency against us).
"""

from __future__ import annotations

import asyncio
import itertools
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import orjson
from aiokafka import AIOKafkaConsumer, TopicPartition

from pulse.simulate import DEFAULT_ACTORS_PER_PLATFORM, SimulationConfig, simulate
from schemas.event import format_time_ms
from schemas.topics import TopicNames
from streams.kafka_batch import BatchSender, Record, make_producer
from streams.settings import Settings

TICK_S = 0.02  # the pacer sends what is due every 20 ms


@dataclass
class LatencyPlan:
    rate: float = 10_000.0      # background events per second
    seconds: float = 60.0       # how long the live traffic runs
    warmup_s: float = 15.0      # no spikes during the first seconds (the watermark catches up)
    spike_every_s: float = 2.0
    spike_posts: int = 1000     # posts in one burst on a new hashtag: alerts even on a cold key
    settle_s: float = 10.0      # wait for the last alerts after the traffic stops
    seed: int = 11
    actors: int = DEFAULT_ACTORS_PER_PLATFORM  # per platform, in the background traffic


@dataclass
class LatencyResult:
    sent: int = 0
    spikes: dict[str, float] = field(default_factory=dict)     # hashtag -> burst produce time (ms)
    alerts: dict[str, float] = field(default_factory=dict)     # hashtag -> first alert timestamp (ms)
    achieved_rate: float = 0.0

    def summary(self, plan: LatencyPlan) -> dict[str, Any]:
        latencies = sorted(self.alerts[k] - t for k, t in self.spikes.items() if k in self.alerts)
        return {
            "rate_target": round(plan.rate),
            "seconds": plan.seconds,
            "rate_achieved": round(self.achieved_rate),
            "spikes": len(self.spikes),
            "detected": len(latencies),
            "p50_ms": round(percentile(latencies, 0.50)) if latencies else None,
            "p99_ms": round(percentile(latencies, 0.99)) if latencies else None,
            "max_ms": round(latencies[-1]) if latencies else None,
            "mean_ms": round(statistics.fmean(latencies)) if latencies else None,
            # In the order the spikes were produced (None: not detected), to see when the slow ones came.
            "latencies_ms": [round(self.alerts[k] - t) if k in self.alerts else None
                             for k, t in self.spikes.items()],
        }


def percentile(sorted_values: list[float], q: float) -> float:
    """Nearest-rank percentile of an ascending list (no interpolation: a value that was seen)."""
    rank = max(1, min(len(sorted_values), int(-(-q * len(sorted_values) // 1))))
    return sorted_values[rank - 1]


def spike_burst(tag: str, n: int, at_ms: int) -> list[bytes]:
    """`n` posts on a hashtag of their own, all at `at_ms`."""
    when = format_time_ms(at_ms)
    return [orjson.dumps({"platform": "bench", "id": f"{tag}-{i}", "kind": "post", "occurred_at": when,
                          "actor": {"id": f"{tag}-a{i}", "followers": 10},
                          "text": f"everyone is talking about #{tag} right now"}) for i in range(n)]


def measure_alert_latency(settings: Settings, plan: LatencyPlan) -> dict[str, Any]:
    return asyncio.run(_run(settings, plan)).summary(plan)


async def _run(settings: Settings, plan: LatencyPlan) -> LatencyResult:
    names = TopicNames(settings.topic_prefix)
    result = LatencyResult()
    consumer = AIOKafkaConsumer(bootstrap_servers=settings.kafka_bootstrap, enable_auto_commit=False,
                                client_id="pulse-bench-latency")
    producer = make_producer(settings, "pulse-bench-latency")
    await consumer.start()
    await producer.start()
    try:
        sender = BatchSender(producer)
        parts = [TopicPartition(names.alerts, p) for p in range(await sender.partitions(names.alerts))]
        consumer.assign(parts)
        await consumer.seek_to_end(*parts)
        for tp in parts:  # resolve the end offsets now, before the first burst
            await consumer.position(tp)
        stop = asyncio.Event()
        watcher = asyncio.create_task(_watch_alerts(consumer, result, stop))
        await _produce(sender, names.raw, plan, result)
        deadline = time.monotonic() + plan.settle_s
        while time.monotonic() < deadline and len(result.alerts) < len(result.spikes):
            await asyncio.sleep(0.2)
        stop.set()
        await watcher
    finally:
        await producer.stop()
        await consumer.stop()
    return result


async def _watch_alerts(consumer: AIOKafkaConsumer, result: LatencyResult, stop: asyncio.Event) -> None:
    while not stop.is_set():
        batches = await consumer.getmany(timeout_ms=200)
        for records in batches.values():
            for rec in records:
                alert = orjson.loads(rec.value)
                key = alert.get("key")
                if alert.get("dimension") == "hashtag" and key in result.spikes and key not in result.alerts:
                    result.alerts[key] = float(rec.timestamp)


def live_traffic(plan: LatencyPlan, start_ms: int) -> list[tuple[int, bytes]]:
    """The background traffic, (emit time in epoch ms, value) in emit order, event time = emit time."""
    config = SimulationConfig(start_ms=start_ms, seed=plan.seed, rate=plan.rate, duration_s=plan.seconds,
                              diurnal=False, viral_cascades=0, actors_per_platform=plan.actors)
    end_ms = start_ms + plan.seconds * 1000
    return [(m.emit_ms, m.value) for m in itertools.takewhile(lambda m: m.emit_ms < end_ms, simulate(config))]


def traffic_lead_ms(plan: LatencyPlan, timed: Callable[[int], float] | None = None) -> int:
    """How long generating the whole background traffic takes, with a margin: the marginal cost per
    event is timed on two samples (the simulator's start-up cost is not per event). `timed(n)` is
    the seconds generating n events takes (measured here when not given)."""
    def measured(events: int) -> float:
        sample = LatencyPlan(rate=plan.rate, seconds=events / plan.rate, seed=plan.seed, actors=plan.actors)
        started = time.perf_counter()
        live_traffic(sample, 0)
        return time.perf_counter() - started

    time_for = timed or measured
    small, large = time_for(5_000), time_for(15_000)
    per_event_s = max(0.0, large - small) / 10_000
    return int(1000 * (0.5 + small + 1.2 * per_event_s * plan.rate * plan.seconds))


async def _produce(sender: BatchSender, topic: str, plan: LatencyPlan, result: LatencyResult) -> None:
    """Pace the background traffic and the bursts. The traffic is generated before the clock starts:
    simulating it on the fly took ~10% of a core at 10,000 events/s (this process used 17-21%, now
    8-12%), taken from the pipeline under test on the same two cores."""
    partitions = await sender.partitions(topic)
    start_ms = int(time.time() * 1000) + traffic_lead_ms(plan)
    traffic = live_traffic(plan, start_ms)
    await asyncio.sleep(max(0.0, start_ms / 1000 - time.time()))
    started = time.monotonic() - max(0.0, time.time() - start_ms / 1000)
    sent = 0
    next_spike = plan.warmup_s
    spike_no = 0
    chunk = 0
    in_flight: list[asyncio.Task[int]] = []
    while (elapsed := time.monotonic() - started) < plan.seconds:
        due_ms = start_ms + elapsed * 1000
        records: list[Record] = []
        while sent < len(traffic) and traffic[sent][0] <= due_ms:
            records.append((chunk % partitions, None, traffic[sent][1]))
            sent += 1
        if records:
            chunk += 1
            result.sent += len(records)
            in_flight.append(asyncio.create_task(sender.send_all(topic, records)))
        if elapsed >= next_spike:
            tag = f"benchspike{spike_no}x{start_ms % 100000}"
            spike_no += 1
            next_spike += plan.spike_every_s
            burst = spike_burst(tag, plan.spike_posts, int(time.time() * 1000))
            result.spikes[tag] = time.time() * 1000
            in_flight.append(asyncio.create_task(
                sender.send_all(topic, [((spike_no + i) % partitions, None, v) for i, v in enumerate(burst)])))
        in_flight = [t for t in in_flight if not t.done()]
        await asyncio.sleep(TICK_S)
    if in_flight:
        await asyncio.gather(*in_flight)
    result.achieved_rate = result.sent / max(1e-9, time.monotonic() - started)
