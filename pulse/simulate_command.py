"""`pulse simulate`: the simulator's messages to social.raw (or a file), with its ground truth."""

from __future__ import annotations

import sys
import time
from datetime import datetime
from pathlib import Path
from typing import IO

from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn, TimeElapsedColumn

from pulse.errors import PulseError
from pulse.replay import make_producer
from pulse.simulate import GroundTruth, SimulationConfig, simulate
from schemas.topics import TopicNames
from streams.settings import Settings


def _start_ms(start: str | None) -> int:
    if start is None:
        return int(time.time() * 1000)
    try:
        dt = datetime.fromisoformat(start)
    except ValueError:
        raise PulseError(f"--start: not an RFC 3339 timestamp: {start!r}") from None
    if dt.tzinfo is None:
        raise PulseError(f"--start: add a time zone ('Z' or an offset): {start!r}")
    return int(dt.timestamp() * 1000)


def run_simulate(settings: Settings, *, rate: float, duration: float, seed: int, start: str | None,
                 realtime: bool, truth_path: Path | None, output: Path | None, duplicates: float, late: float,
                 malformed: float, spikes: int) -> None:
    try:
        config = SimulationConfig(start_ms=_start_ms(start), seed=seed, rate=rate, duration_s=duration,
                                  duplicate_ratio=duplicates, late_ratio=late, malformed_ratio=malformed,
                                  viral_cascades=spikes)
    except ValueError as exc:
        raise PulseError(str(exc)) from exc
    truth = GroundTruth()
    sink: IO[bytes] | None = None
    producer = None
    if output is not None:
        sink = sys.stdout.buffer if str(output) == "-" else output.open("wb")
    else:
        producer = make_producer(settings)
    topic = TopicNames(settings.topic_prefix).raw
    expected = max(1, int(rate * duration * (1 + duplicates + malformed)))
    wall0 = time.time()
    sent = 0
    try:
        columns = (TextColumn("simulate"), BarColumn(), TaskProgressColumn(), TextColumn("{task.completed:,.0f} msgs"),
                   TimeElapsedColumn())
        with Progress(*columns, disable=sink is sys.stdout.buffer, transient=False) as bar:
            task = bar.add_task("simulate", total=expected)
            for msg in simulate(config, truth):
                if realtime:
                    delay = (msg.emit_ms - config.start_ms) / 1000 - (time.time() - wall0)
                    if delay > 0:
                        if producer is not None:
                            producer.flush()
                        time.sleep(delay)
                if sink is not None:
                    sink.write(msg.value + b"\n")
                else:
                    assert producer is not None
                    producer.send(topic, value=msg.value)
                sent += 1
                if sent % 5000 == 0:
                    bar.update(task, completed=sent)
            if producer is not None:
                producer.flush()
            bar.update(task, completed=sent, total=sent)
    finally:
        if producer is not None:
            producer.close()
        if sink is not None and sink is not sys.stdout.buffer:
            sink.close()
    if truth_path is not None:
        truth_path.write_bytes(truth.to_json())
    where = str(output) if output is not None else topic
    print(f"simulated {sent:,} messages to {where}: {truth.unique_events:,} unique events, "
          f"{truth.duplicates:,} duplicates, {truth.malformed:,} malformed, {truth.late:,} late, "
          f"{len(truth.spikes)} injected spike(s)" + (f"; ground truth in {truth_path}" if truth_path else ""),
          file=sys.stderr if sink is sys.stdout.buffer else sys.stdout)
