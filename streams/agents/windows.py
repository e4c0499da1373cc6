"""social.contributions → minute buckets, sliding windows and spike alerts → social.engagement,
social.alerts.

Per batch, in this order: merge the packs (idempotent per bucket, see WindowPartition), assess
touched open minutes (alerts open within seconds), close the minutes the watermark passed (final
assessment, resolve, learn; one partition per batch), produce alert changes and engagement updates
(a closed minute's records spread over a few batches, EMISSIONS_PER_BATCH). Every
`window_checkpoint_s` a checkpoint starts that persists what changed since the last one (buckets,
detector states, and the clocks with the minutes still being emitted and the newest input offset
merged) to the changelog, written by the batches that follow a step at a time
(window_checkpoints.py), and only then acks the input it covers: a bucket that changes in every
batch is written once per checkpoint, not once per batch. A crash replays the input after the last
checkpoint on the state of that checkpoint: buckets skip what they had merged, and a re-derived
alert change carries the same deterministic alert_id.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass
from typing import Any

import faust
import orjson

from schemas.topics import TopicNames
from streams import metrics
from streams.agents.changelog import Changelog
from streams.agents.collection import collection_deferred
from streams.agents.held_input import HeldInput
from streams.agents.outputs import agent_outputs
from streams.agents.owned_partitions import OwnedPartitions
from streams.agents.partition_reader import PartitionReader
from streams.agents.stage_metrics import forget_window_state, observe_faust_batch, observe_window_state
from streams.agents.window_checkpoints import SteppedCheckpoints
from streams.detect.config import DetectorConfig, load_detector_config
from streams.kafka_batch import BatchSender, Record
from streams.routing import partition_for_bytes, partition_for_key
from streams.settings import Settings
from streams.windows.alerting import AlertEngine, assess
from streams.windows.records import WINDOWS, EngagementRecords, alert_record, combined
from streams.windows.state import BucketKey, WindowPartition

log = logging.getLogger(__name__)

# Engagement records of closed minutes emitted per batch (~0.3 s of work): a minute closes with up
# to ~100,000 keys at 10,000 events/s, and alerts queued behind one batch that emitted them all
# waited ~8 s (BENCHMARKS.md, Session 5). What is left goes with the next batches, or after
# IDLE_EMIT_S without input.
EMISSIONS_PER_BATCH = 4000
IDLE_EMIT_S = 0.5
# Buckets of minutes older than the longest window forgotten per batch (see WindowPartition.prune):
# at least as many as the batch changed, since each merged row makes at most one bucket, so the
# state never grows beyond the longest window and what is still to prune; and at least this many
# (~10 ms of work and of changelog deletes). Pruning is never urgent: when a batch made everything
# prunable at once (the first live minute after a backlog: ~100,000 buckets), a quarter of that per
# batch took 0.2-0.6 s per batch for ~15 s, ahead of the alerts behind it (BENCHMARKS.md, Session 10).
# At 2,000 it was ~11% of the stage's CPU through the live minute after a backlog; 500 was tried and
# not shown to help (two runs, both slower, on a machine that was slower too).
PRUNES_PER_BATCH = 2000


@dataclass
class OwnedWindows:
    """What the stage keeps per owned social.contributions partition."""

    part: WindowPartition
    engine: AlertEngine
    last_offset: int = -1  # newest input offset merged


def owned_windows(settings: Settings, config: DetectorConfig, entries: dict[str, Any], now_ms: int) -> OwnedWindows:
    """A partition's windows, detector states and clocks from its changelog entries."""
    partitions = settings.topic_partitions  # of social.keyed and of social.raw
    owned = OwnedWindows(WindowPartition(settings.window_grace_s * 1000, partitions, partitions), AlertEngine(config))
    for key, value in entries.items():
        kind, _, rest = key.partition("\x1f")
        if kind == "b":
            dim, k, minute = rest.split("\x1f")
            owned.part.restore_bucket(dim, k, int(minute), value)
        elif kind == "d":
            index, dim, k = rest.split("\x1f", 2)
            owned.engine.load((int(index), dim, k), value)
        elif kind == "c":
            owned.part.load_clock(value, now_ms)
            owned.last_offset = int(value.get("offset", -1))
        elif kind == "p":
            owned.engine.load_population(value)
    return owned


def register_windows(app: faust.App, settings: Settings) -> None:
    names = TopicNames(settings.topic_prefix)
    topic = app.topic(names.contributions, value_serializer="raw", key_serializer="raw")
    changelog = Changelog(settings, names.windows_changelog)
    config = load_detector_config(settings.detector_config_file)
    owned = OwnedPartitions(changelog, lambda _, entries: owned_windows(settings, config, entries,
                                                                       int(time.time() * 1000)))
    records = EngagementRecords(settings.engagement_weights)
    held: HeldInput[OwnedWindows] = HeldInput(settings.window_checkpoint_s)
    checkpoints = SteppedCheckpoints(changelog, held, lambda: dict(owned.items()))
    last_batch_at = [0.0]  # monotonic time the last batch ended

    @app.on_partitions_revoked.connect
    async def _on_revoked(sender: Any, /, *args: Any, signal: Any, **kwargs: Any) -> None:
        revoked = {tp.partition for tp in (args[0] if args else kwargs.get("revoked", set()))
                   if tp.topic == names.contributions}
        owned.forget(revoked)
        forget_window_state(revoked)
        held.forget(revoked)  # their next owner reads them again from the last checkpoint's offset
        checkpoints.forget(revoked)

    @app.agent(topic, name="windows")
    async def windows(stream: Any) -> None:
        outputs = agent_outputs(settings, f"{app.conf.id}-windows", names.contributions, changelog)
        async with outputs as (sender, urgent, gaps):
            await window_batches(stream, sender, urgent, gaps)

    async def window_batches(stream: Any, sender: BatchSender, urgent: BatchSender, gaps: PartitionReader) -> None:
        engagement_partitions = await sender.partitions(names.engagement)
        alert_partitions = await sender.partitions(names.alerts)
        # One batch or one idle emission pass at a time (they share the state and the changelog).
        busy = asyncio.Lock()

        async def emit_when_idle() -> None:
            """When no batch came for IDLE_EMIT_S (the end of a stream), do what batches would:
            close the minutes left to close, emit what closed minutes have left, write the
            checkpoint. In passes of a batch's size, each letting a batch that waits go first.
            While batches come they do all of this themselves: an idle pass between live batches
            held the next one (and its alerts) for 0.1-0.4 s every 2 s, writing the checkpoint under
            way at once (BENCHMARKS.md, Session 16)."""
            while True:
                await asyncio.sleep(IDLE_EMIT_S)
                while not busy.locked() and time.monotonic() - last_batch_at[0] >= IDLE_EMIT_S:
                    now_ms = int(time.time() * 1000)
                    closing = {q: w for q, w in owned.items() if w.part.closable(now_ms)}
                    emitting = any(w.part.emissions_pending for _, w in owned.items())
                    if not (closing or emitting or checkpoints.under_way or (held and held.due())):
                        break
                    async with busy:
                        with collection_deferred():
                            done = await idle_pass(closing, engagement_partitions, alert_partitions, now_ms,
                                                   sender, urgent)
                    if not done:
                        break  # tried again after IDLE_EMIT_S
                    await asyncio.sleep(0)  # a batch waiting for `busy` takes it now

        async def idle_pass(closing: dict[int, OwnedWindows], engagement_partitions: int, alert_partitions: int,
                            now_ms: int, sender: BatchSender, urgent: BatchSender) -> bool:
            """Close the minutes of one of `closing`'s partitions, emit a batch's budget of what
            closed minutes have left, write a step of the checkpoint. False if that failed."""
            engagement: list[Record] = []
            budget = EMISSIONS_PER_BATCH
            try:
                if closing:
                    await urgent.send_all(names.alerts, alert_records(
                        closing, {q: [] for q in closing}, now_ms, alert_partitions, closes=1))
                for _, w in owned.items():
                    if w.part.emissions_pending:
                        budget -= _emit(w.part, records, budget, engagement_partitions, now_ms, engagement)
                await sender.send_all(names.engagement, engagement)
                metrics.ENGAGEMENT_UPDATES.inc(len(engagement))
                await checkpoints.advance(sender)
            except Exception as exc:  # the next batch meets the same error and fails the stage
                log.warning("windows: idle emission failed: %s", exc)
                return False
            return True

        idle = asyncio.ensure_future(emit_when_idle())
        try:
            await take_batches(stream, sender, urgent, gaps, engagement_partitions, alert_partitions, busy)
        finally:
            idle.cancel()

    async def take_batches(stream: Any, sender: BatchSender, urgent: BatchSender, gaps: PartitionReader,
                           engagement_partitions: int, alert_partitions: int, busy: asyncio.Lock) -> None:
        # Each message holds a whole store batch for one partition, already batched upstream: take
        # what has arrived and go (waiting for more would only add to the alert latency).
        async for batch in stream.noack_take(16, within=min(0.1, settings.batch_within_s)):
            async with busy:
                with collection_deferred():
                    await window_batch(batch, sender, urgent, gaps, engagement_partitions, alert_partitions)
                last_batch_at[0] = time.monotonic()

    def alert_records(states: dict[int, OwnedWindows], touched: dict[int, list[BucketKey]], now_ms: int,
                      alert_partitions: int, closes: int) -> list[Record]:
        """The alert changes of assessing each partition's touched open minutes and, in at most
        `closes` partitions, closing the minutes the watermark passed. A batch closes minutes in one
        partition, and the others close with the batches after (or when idle): every partition closes
        the same minute at once, and closing it in all of them (final assessments, learning) held a
        batch for 0.25-0.85 s, ahead of the alerts behind it (BENCHMARKS.md, Session 14)."""
        alerts: list[Record] = []
        for q, changed in touched.items():
            part, engine = states[q].part, states[q].engine
            close = closes > 0 and part.closable(now_ms)
            closes -= close
            for dim, key, rule, t in assess(part, engine, changed, now_ms, close):
                minutes = WINDOWS["5m"]
                evidence = combined(part.window(dim, key, t.assessment.interval_start_ms, minutes))
                record = alert_record(t, rule.name, dim, key, evidence, minutes, now_ms)
                alerts.append((partition_for_key(t.alert_id, alert_partitions), t.alert_id.encode(),
                               orjson.dumps(record)))
                metrics.ALERTS.labels(rule.name, t.status, t.severity).inc()
        return alerts

    async def window_batch(batch: list[Any], sender: BatchSender, urgent: BatchSender, gaps: PartitionReader,
                           engagement_partitions: int, alert_partitions: int) -> None:
        now_ms = int(time.time() * 1000)
        touched: dict[int, list[BucketKey]] = {}
        states: dict[int, OwnedWindows] = {}
        late = 0
        for event in batch:
            msg = event.message
            q = msg.partition
            w = states.get(q) or await owned.get(q)
            states[q] = w
            changed_here = touched.setdefault(q, [])
            messages = [(msg.offset, msg.value)]
            newest = w.last_offset
            if newest >= 0 and msg.offset > newest + 1:
                log.warning("contributions partition %d: %d..%d skipped by the consumer; reading them directly",
                            q, newest + 1, msg.offset - 1)
                messages = [*await gaps.read(q, newest + 1, msg.offset), *messages]
            for offset, value in messages:
                if offset <= newest:
                    continue
                for source, pack_offset, clocks, rows in orjson.loads(value):
                    raw_clocks = {int(r): int(ms) for r, ms in clocks.items()}
                    changed, dropped = w.part.apply(source, pack_offset, raw_clocks, rows, now_ms)
                    changed_here.extend(changed)
                    late += dropped
                w.last_offset = max(w.last_offset, offset)
                await asyncio.sleep(0)  # a big backlog message: let heartbeats through
        alerts = alert_records(states, touched, now_ms, alert_partitions, closes=1)
        # Alerts first: what the batch still has to do (engagement records, state writes) is most of
        # its work and none of it changes them. If the batch fails after this, its replay derives the
        # same changes under the same alert_ids.
        await urgent.send_all(names.alerts, alerts)
        engagement: list[Record] = []
        budget = EMISSIONS_PER_BATCH
        for q in touched:
            part, engine = states[q].part, states[q].engine
            budget -= _emit(part, records, budget, engagement_partitions, now_ms, engagement)
            part.prune(max(PRUNES_PER_BATCH, len(touched[q])))
            engine.forget_idle(part.closed_before)
            observe_window_state(q, len(part.buckets), sum(map(len, part.by_minute.values())),
                                 len(engine.states), len(engine.open))
        await sender.send_all(names.engagement, engagement)
        for event in batch:
            held.hold(event.message.partition, states[event.message.partition], event)
        await checkpoints.advance(sender)
        log.debug("windows batch: %d messages, %d engagement updates, %d alert changes, %d late, %.3fs",
                  len(batch), len(engagement), len(alerts), late, time.time() - now_ms / 1000)
        metrics.LATE_EVENTS.inc(late)
        metrics.ENGAGEMENT_UPDATES.inc(len(engagement))
        observe_faust_batch("windows", app.consumer, batch)


def _emit(part: WindowPartition, records: EngagementRecords, budget: int, partitions: int, now_ms: int,
          out: list[Record]) -> int:
    """Append the partition's due engagement records to `out` (see `take_emissions`); returns how
    many keys of closed minutes that was."""
    taken = part.take_emissions(max(0, budget))
    for dim, key, minute in taken:
        if not part.has_bucket(dim, key, minute):
            continue
        value = records.record_json(part, dim, key, minute, now_ms)
        k = f"{dim}\x1f{key}".encode()
        out.append((partition_for_bytes(k, partitions), k, value))
    return len(taken)
