"""`pulse replay`: NDJSON lines → social.raw, one message per line, with a progress bar."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path
from typing import IO

from kafka import KafkaProducer

from pulse.errors import PulseError
from schemas.topics import TopicNames
from streams.settings import Settings


def make_producer(settings: Settings) -> KafkaProducer:
    from kafka.errors import KafkaError

    from pulse.preflight import kafka_unreachable, require_kafka_reachable

    require_kafka_reachable(settings)
    try:
        return KafkaProducer(bootstrap_servers=settings.kafka_bootstrap, acks="all", linger_ms=20,
                             batch_size=512 * 1024, max_request_size=4 * 1024 * 1024,
                             compression_type=None, request_timeout_ms=30000, max_block_ms=30000,
                             client_id="pulse-replay")
    except (KafkaError, OSError) as exc:
        raise kafka_unreachable(settings, exc) from exc


def _lines(stream: IO[bytes], skipped: list[int]) -> Iterator[bytes]:
    for line in stream:
        line = line.rstrip(b"\r\n")
        if line.strip():
            yield line
        else:
            skipped[0] += 1


def replay_file(settings: Settings, source: Path, topic: str | None = None,
                progress: bool = True) -> tuple[int, int]:
    """Produce every non-blank line; returns (produced, skipped blank lines)."""
    from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn, TimeElapsedColumn

    from pulse.produce import produce_values

    target = topic or TopicNames(settings.topic_prefix).raw
    if str(source) == "-":
        stream: IO[bytes] = sys.stdin.buffer
        total = None
    else:
        if not source.is_file():
            raise PulseError(f"{source}: no such file")
        stream = source.open("rb")
        total = source.stat().st_size
    skipped = [0]
    try:
        columns = (TextColumn("replay"), BarColumn(), TaskProgressColumn(),
                   TextColumn("{task.fields[n]:,} messages"), TimeElapsedColumn())
        with Progress(*columns, disable=not progress, transient=False) as bar:
            task = bar.add_task("replay", total=total, n=0)

            def advance(n: int) -> None:
                bar.update(task, completed=stream.tell() if total else None, n=n)

            produced = produce_values(settings, target, _lines(stream, skipped), advance)
            bar.update(task, completed=total, n=produced)
    finally:
        if stream is not sys.stdin.buffer:
            stream.close()
    return produced, skipped[0]
