"""social.keyed → dedupe → enrich → `social.events` (which the events sink inserts into ClickHouse).

Per slice of packs: decide and enrich (state in memory) and send the slice's contributions to the
windows stage. Behind that, in rounds that take every slice decided meanwhile (DurableRounds):
produce to social.events, persist the dedupe records to the changelog, and only then ack the
packs, in slice order. A crash anywhere before the ack replays the packs; `DedupeState` re-emits
exactly the events those packs emitted, the events sink's rows collapse in ClickHouse, and the
windows stage skips contributions it has merged.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass
from typing import Any

import faust
import orjson

from schemas.event import CanonicalEvent
from schemas.topics import TopicNames
from streams import metrics
from streams.agents.changelog import Changelog
from streams.agents.collection import collection_deferred
from streams.agents.durable_rounds import DurableRounds
from streams.agents.outputs import agent_outputs
from streams.agents.owned_partitions import OwnedPartitions
from streams.agents.partition_reader import PartitionReader
from streams.agents.stage_metrics import observe_faust_batch
from streams.dedupe import DedupeState, PackRecord
from streams.detect.config import load_detector_config
from streams.enrich import Enricher
from streams.enrich.language import LanguageDetector
from streams.enrich.sentiment import SentimentScorer
from streams.enrich.watchlist import Watchlist
from streams.event_messages import event_messages
from streams.kafka_batch import BatchSender, Record
from streams.routing import partition_for_key, unpack
from streams.settings import Settings
from streams.windows.alerting import rule_measures
from streams.windows.contributions import SourcePack, contribution_messages

log = logging.getLogger(__name__)

# Live traffic arrives as many small packs, a backlog as few big ones: a take is bounded in packs,
# what is decoded at once in bytes (~4 MB of packs is ~13,000 events), and what waits to be made
# durable in events and packs (rounds grow up to that under a backlog).
MAX_PACKS_PER_TAKE = 256
MAX_SLICE_BYTES = 4 * 1024 * 1024
MAX_UNDURABLE_EVENTS = 30_000
# A round builds its social.events records this many at a time, letting the slices taken meanwhile
# be decided in between: after a 1M backlog, live rounds of ~38,000 events spent up to 2 s building
# and sending them in one go, and the contributions (the alert path) of everything taken waited.
EVENTS_PER_STEP = 2000
# Rounds start at most this often (unless MAX_UNDURABLE_EVENTS wait): each is a produce request per
# social.events partition and a changelog flush; social.events, and so ClickHouse, are that much behind.
ROUND_INTERVAL_S = 0.25
# Contributions of what was taken leave right after it is decided (social.events is behind, in
# rounds): a short take window is most of the store's share of the alert latency.
TAKE_WITHIN_S = 0.2


@dataclass
class DecidedSlice:
    batch: list[Any]  # the taken Faust events, acked once the slice is durable
    new: list[CanonicalEvent]
    duplicates: int


def slices_by_size(events: list[Any], max_bytes: int) -> list[list[Any]]:
    """Consecutive slices of taken Faust events whose message values add up to about `max_bytes`."""
    slices: list[list[Any]] = []
    current: list[Any] = []
    size = 0
    for event in events:
        current.append(event)
        size += len(event.message.value or b"")
        if size >= max_bytes:
            slices.append(current)
            current, size = [], 0
    if current:
        slices.append(current)
    return slices


def dedupe_state(horizon_ms: int, entries: dict[str, Any]) -> DedupeState:
    """A partition's DedupeState from its changelog entries (pack offset → PackRecord)."""
    state = DedupeState(horizon_ms)
    for offset, value in entries.items():
        if value:
            state.load(int(offset), PackRecord.from_json(value))
    return state


def build_enricher(settings: Settings) -> Enricher:
    watchlist = Watchlist.from_file(settings.watchlist_file) if settings.watchlist_file else Watchlist.empty()
    return Enricher(watchlist, LanguageDetector(), SentimentScorer())


def register_store(app: faust.App, settings: Settings) -> None:
    names = TopicNames(settings.topic_prefix)
    keyed_topic = app.topic(names.keyed, value_serializer="raw", key_serializer="raw")
    # Keys "partition:offset" of a pack, values its PackRecord.
    changelog = Changelog(settings, names.dedupe_changelog)
    horizon_ms = settings.dedupe_horizon_s * 1000
    states = OwnedPartitions(changelog, lambda _, entries: dedupe_state(horizon_ms, entries))
    enricher = build_enricher(settings)
    measures = rule_measures(load_detector_config(settings.detector_config_file))

    @app.on_partitions_revoked.connect
    async def _on_revoked(sender: Any, /, *args: Any, signal: Any, **kwargs: Any) -> None:
        # Another worker may own these partitions next and write to their state: rebuild on return.
        revoked = args[0] if args else kwargs.get("revoked", set())
        states.forget({tp.partition for tp in revoked if tp.topic == names.keyed})

    @app.agent(keyed_topic, name="store")
    async def store(stream: Any) -> None:
        outputs = agent_outputs(settings, f"{app.conf.id}-store", names.keyed, changelog)
        async with outputs as (sender, urgent, gaps):
            await store_batches(stream, sender, urgent, gaps)

    async def store_batches(stream: Any, sender: BatchSender, urgent: BatchSender, gaps: PartitionReader) -> None:
        events_partitions = await sender.partitions(names.events)
        contribution_partitions = await sender.partitions(names.contributions)

        async def make_durable(slices: list[DecidedSlice]) -> None:
            """One round: social.events for every slice waiting, the dedupe records written so far,
            then the acks, in slice order."""
            with collection_deferred():
                await make_round_durable(slices)

        async def make_round_durable(slices: list[DecidedSlice]) -> None:
            started = time.perf_counter()
            new = [ev for s in slices for ev in s.new]
            now_ms = int(time.time() * 1000)
            if new:
                records: list[Record] = []
                for i in range(0, len(new), EVENTS_PER_STEP):
                    records.extend(event_messages(new[i:i + EVENTS_PER_STEP], events_partitions, now_ms))
                    await asyncio.sleep(0)  # slices taken meanwhile are decided in between (the alert path)
                await sender.send_all(names.events, records)
            stored = time.perf_counter()
            await changelog.flush(sender)
            log.debug("store round: %d slices, %d new events, stored %.3fs, changelog %.3fs", len(slices),
                      len(new), stored - started, time.perf_counter() - stored)
            for s in slices:
                metrics.DUPLICATES.inc(s.duplicates)
                observe_faust_batch("store", app.consumer, s.batch)
                for event in s.batch:
                    event.ack()

        # Packs vary from a few events (live traffic) to thousands (a backlog): take many, and decide
        # them in slices of bounded size, so a backlog never decodes more than a slice at once. Each
        # decided slice sends its contributions at once (the alert path never waits for ClickHouse;
        # contributions leave strictly in slice order, which the windows stage's per-source offsets
        # rely on) and is made durable and acked by the rounds behind.
        rounds = DurableRounds(make_durable, lambda s: len(s.new) + len(s.batch), MAX_UNDURABLE_EVENTS,
                               ROUND_INTERVAL_S)
        within = min(TAKE_WITHIN_S, settings.batch_within_s)
        try:
            async for taken in stream.noack_take(MAX_PACKS_PER_TAKE, within=within):
                for batch in slices_by_size(taken, MAX_SLICE_BYTES):
                    if not all(states.loaded(e.message.partition) for e in batch):
                        # A partition (re)assigned: its state is read from the changelog, which must
                        # first hold what the slices in flight write.
                        await rounds.drained()
                    with collection_deferred():
                        decided = await decide(batch, urgent, gaps, contribution_partitions)
                    await rounds.add(decided)
        finally:
            await rounds.close()

    async def decide(batch: list[Any], urgent: BatchSender, gaps: PartitionReader,
                     contribution_partitions: int) -> DecidedSlice:
        """Dedupe and enrich the slice, queue its dedupe records, and send its contributions (with
        the alert path's own producer)."""
        new: list[CanonicalEvent] = []
        source_packs: list[SourcePack] = []
        touched: dict[int, DedupeState] = {}
        duplicates = 0
        decide_started = time.perf_counter()
        for event in batch:
            msg = event.message
            state = touched.get(msg.partition) or await states.get(msg.partition)
            touched[msg.partition] = state
            missing = state.missing_before(msg.offset)
            packs = [(msg.offset, msg.value)]
            if missing:
                log.warning("partition %d: packs %d..%d were skipped by the consumer; reading them directly",
                            msg.partition, missing.start, missing.stop - 1)
                packs = [*await gaps.read(msg.partition, missing.start, missing.stop), *packs]
            for offset, value in packs:
                state.open_pack(offset)
                pack_new: list[CanonicalEvent] = []
                clocks, events = unpack(value)
                for ev in events:
                    if not state.admit(ev, offset):
                        duplicates += 1
                        continue
                    enricher.enrich(ev, state.inherited(ev, offset))
                    state.remember_post(ev, offset)
                    pack_new.append(ev)
                new.extend(pack_new)
                source_packs.append((msg.partition, offset, clocks, pack_new))
        # The slice's dedupe records, taken before the next slice opens packs; flushed by the next
        # round. (Durable before the outputs is fine: a redelivered pack re-emits what its record says.)
        for partition, state in touched.items():
            for offset, record in state.close_batch().items():
                changelog.put(partition, f"{partition}:{offset}", record.to_json())
            for offset in state.expire():
                changelog.delete(partition, f"{partition}:{offset}")
        decided = time.perf_counter()
        # What the packs add to each (dimension, key, minute), for the windows stage. A redelivered
        # pack sends the same rows under the same (partition, offset): windows skip them.
        contributions = contribution_messages(source_packs, measures, contribution_partitions,
                                              lambda key: partition_for_key(key, contribution_partitions))
        await urgent.send_all(names.contributions, [(q, None, orjson.dumps(v)) for q, v in contributions.items()])
        log.debug("store slice: %d packs, %d new events, decided in %.3fs, contributions %.3fs", len(batch),
                  len(new), decided - decide_started, time.perf_counter() - decided)
        return DecidedSlice(batch, new, duplicates)
