"""`pulse simulate`: the simulator's messages to social.raw (or a file), with its ground truth."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO

from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn, TimeElapsedColumn

from pulse.errors import PulseError
from pulse.produce import produce_values
from pulse.replay import make_producer
from pulse.simulate import GroundTruth, SimulatedMessage, SimulationConfig, simulate
from schemas.topics import TopicNames
from streams.normalize import InvalidField, parse_time_ms
from streams.settings import Settings


def _start_ms(start: str | None) -> int:
    if start is None:
        return int(time.time() * 1000)
    try:
        return parse_time_ms(start, "--start")
    except InvalidField as exc:
        raise PulseError(str(exc)) from None


def run_simulate(settings: Settings, *, rate: float, duration: float, seed: int, start: str | None,
                 realtime: bool, truth_path: Path | None, output: Path | None, duplicates: float, late: float,
                 malformed: float, spikes: int, actors: int) -> None:
    try:
        config = SimulationConfig(start_ms=_start_ms(start), seed=seed, rate=rate, duration_s=duration,
                                  duplicate_ratio=duplicates, late_ratio=late, malformed_ratio=malformed,
                                  viral_cascades=spikes, actors_per_platform=actors)
    except ValueError as exc:
        raise PulseError(str(exc)) from exc
    truth = GroundTruth()
    topic = TopicNames(settings.topic_prefix).raw
    expected = max(1, int(rate * duration * (1 + duplicates + malformed)))
    to_stdout = output is not None and str(output) == "-"
    columns = (TextColumn("simulate"), BarColumn(), TaskProgressColumn(), TextColumn("{task.completed:,.0f} msgs"),
               TimeElapsedColumn())
    with Progress(*columns, disable=to_stdout, transient=False) as bar:
        task = bar.add_task("simulate", total=expected)
        messages = simulate(config, truth)
        if output is not None:
            sent = _write_ndjson(output, (m.value for m in messages), lambda n: bar.update(task, completed=n))
        elif realtime:
            sent = _produce_realtime(settings, topic, messages, config.start_ms,
                                     lambda n: bar.update(task, completed=n))
        else:
            sent = produce_values(settings, topic, (m.value for m in messages),
                                  lambda n: bar.update(task, completed=n))
        bar.update(task, completed=sent, total=sent)
    if truth_path is not None:
        truth_path.write_bytes(truth.to_json())
    where = str(output) if output is not None else topic
    print(f"simulated {sent:,} messages to {where}: {truth.unique_events:,} unique events, "
          f"{truth.duplicates:,} duplicates, {truth.malformed:,} malformed, {truth.late:,} late, "
          f"{len(truth.spikes)} injected spike(s)" + (f"; ground truth in {truth_path}" if truth_path else ""),
          file=sys.stderr if to_stdout else sys.stdout)


def _write_ndjson(output: Path, values: Iterator[bytes], progress: Callable[[int], object]) -> int:
    sink: IO[bytes] = sys.stdout.buffer if str(output) == "-" else output.open("wb")
    n = 0
    try:
        for value in values:
            sink.write(value + b"\n")
            n += 1
            if n % 5000 == 0:
                progress(n)
    finally:
        if sink is not sys.stdout.buffer:
            sink.close()
    return n


def _produce_realtime(settings: Settings, topic: str, messages: Iterator[SimulatedMessage], start_ms: int,
                      progress: Callable[[int], object]) -> int:
    """Pace production by the simulator's emit times, as live traffic arrives."""
    producer = make_producer(settings)
    wall0 = time.time()
    n = 0
    try:
        for msg in messages:
            delay = (msg.emit_ms - start_ms) / 1000 - (time.time() - wall0)
            if delay > 0:
                producer.flush()
                time.sleep(delay)
            producer.send(topic, value=msg.value)
            n += 1
            if n % 1000 == 0:
                progress(n)
        producer.flush()
    finally:
        producer.close()
    return n
