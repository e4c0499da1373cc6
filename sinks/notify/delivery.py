"""One subscriber's delivery loop: its own queue, HTTP session and task, so a slow or failing
subscriber only ever delays itself.

Changes are delivered one at a time, in the order read (a resolution never overtakes its opening).
Before each delivery the ledger is asked whether this subscriber already has an outcome for the
change; after it, the outcome is recorded before the next one starts and before the message may be
committed. A stop request lets the attempt in flight finish (bounded by the timeout) and starts no
new one: what was not finished is read again after a restart.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import aiohttp

from sinks.notify.alert import AlertChange
from sinks.notify.backoff import retry_after_delay, retry_delay, retryable_status
from sinks.notify.config import Subscriber
from sinks.notify.dead_letters import undelivered_record
from sinks.notify.ledger import DEAD_LETTERED, DELIVERED, DeliveryLedger
from sinks.notify.payloads import build_request
from sinks.notify.progress import PendingMessage
from streams.metrics import (
    NOTIFY_ALREADY_DONE,
    NOTIFY_DELIVERIES,
    NOTIFY_FAILURES,
    NOTIFY_QUEUED,
    NOTIFY_RETRIES,
    NOTIFY_SECONDS,
)

log = logging.getLogger("pulse.notify")

DeadLetterSend = Callable[[dict[str, Any], str | None], Awaitable[None]]


@dataclass(frozen=True)
class Work:
    change: AlertChange
    message: PendingMessage
    where: dict[str, Any]  # topic, partition, offset of the social.alerts message


@dataclass(frozen=True)
class Attempt:
    ok: bool
    retryable: bool
    reason: str
    retry_after: str | None = None


class SubscriberChannel:
    def __init__(self, sub: Subscriber, ledger: DeliveryLedger, dead_letter: DeadLetterSend,
                 stopping: asyncio.Event, clock: Callable[[], float] = time.time,
                 rng: random.Random | None = None) -> None:
        self.sub = sub
        self._ledger = ledger
        self._dead_letter = dead_letter
        self._stopping = stopping
        self._clock = clock
        self._rng = rng or random.Random()
        self._queue: asyncio.Queue[Work] = asyncio.Queue()
        self._session: aiohttp.ClientSession | None = None
        for metric in (NOTIFY_DELIVERIES, NOTIFY_RETRIES, NOTIFY_FAILURES, NOTIFY_ALREADY_DONE):
            metric.labels(sub.name)  # exported as 0 from the start, so rates and alerts see every subscriber

    def put(self, work: Work) -> None:
        self._queue.put_nowait(work)
        NOTIFY_QUEUED.labels(self.sub.name).set(self._queue.qsize())

    def queued(self) -> int:
        return self._queue.qsize()

    async def run(self) -> None:
        timeout = aiohttp.ClientTimeout(total=self.sub.timeout_s)
        async with aiohttp.ClientSession(timeout=timeout) as session:
            self._session = session
            while not self._stopping.is_set():
                work = await self._next()
                if work is None:
                    return
                if not await self._handle(work):
                    return  # stopping: the change stays unfinished and is read again after a restart
                NOTIFY_QUEUED.labels(self.sub.name).set(self._queue.qsize())

    async def _next(self) -> Work | None:
        if not self._queue.empty():
            return self._queue.get_nowait()
        getter = asyncio.ensure_future(self._queue.get())
        stop = asyncio.ensure_future(self._stopping.wait())
        await asyncio.wait((getter, stop), return_when=asyncio.FIRST_COMPLETED)
        stop.cancel()
        if getter.done():
            return getter.result()
        getter.cancel()
        return None

    async def _handle(self, work: Work) -> bool:
        """Deliver or dead-letter `work`; False when a stop request interrupted it."""
        name, change = self.sub.name, work.change
        if self._ledger.outcome(name, change.change_id) is not None:
            NOTIFY_ALREADY_DONE.labels(name).inc()
            work.message.finish()
            return True
        attempts = 0
        while True:
            attempts += 1
            result = await self._attempt(change)
            if result.ok:
                self._ledger.record(name, change.change_id, DELIVERED, self._clock())
                NOTIFY_DELIVERIES.labels(name).inc()
                work.message.finish()
                return True
            if not result.retryable or attempts >= self.sub.max_attempts:
                break
            NOTIFY_RETRIES.labels(name).inc()
            delay = retry_delay(attempts, self.sub.backoff_base_s, self.sub.backoff_max_s, self._rng.uniform)
            hinted = retry_after_delay(result.retry_after, self.sub.backoff_max_s)
            if hinted is not None:
                delay = max(delay, hinted)
            log.warning("notify: %s: %s %s: attempt %d failed (%s); retrying in %.2fs", name, change.alert_id,
                        change.transition, attempts, result.reason, delay)
            if await self._stop_within(delay):
                return False
        reason = f"{result.reason} after {attempts} attempt(s)"
        log.error("notify: %s: %s %s: giving up (%s); sent to the notify dead-letter topic", name,
                  change.alert_id, change.transition, reason)
        record = undelivered_record(self.sub, change, reason, attempts, self._clock(), work.where)
        if not await self._send_dead_letter(record, change.alert_id):
            return False
        self._ledger.record(name, change.change_id, DEAD_LETTERED, self._clock())
        NOTIFY_FAILURES.labels(name).inc()
        work.message.finish()
        return True

    async def _attempt(self, change: AlertChange) -> Attempt:
        assert self._session is not None
        request = build_request(self.sub, change, self._clock())  # signed afresh: the timestamp is now
        started = time.monotonic()
        try:
            async with self._session.post(request.url, data=request.body, headers=request.headers,
                                          allow_redirects=False) as response:
                text = (await response.text(errors="replace"))[:200]
                status = response.status
                retry_after = response.headers.get("Retry-After")
        except TimeoutError:
            return Attempt(False, True, f"timeout after {self.sub.timeout_s:g}s")
        except aiohttp.ClientError as exc:
            # The type only: aiohttp's messages include the host, and a URL may carry a token.
            return Attempt(False, True, f"connection failed ({type(exc).__name__})")
        finally:
            NOTIFY_SECONDS.labels(self.sub.name).observe(time.monotonic() - started)
        if 200 <= status < 300:
            return Attempt(True, False, "")
        detail = " ".join(text.split())
        return Attempt(False, retryable_status(status), f"HTTP {status}" + (f": {detail}" if detail else ""),
                       retry_after)

    async def _send_dead_letter(self, record: dict[str, Any], key: str | None) -> bool:
        """Kafka down is no reason to drop a change: retry until it is written or a stop is requested."""
        failures = 0
        while True:
            try:
                await self._dead_letter(record, key)
                return True
            except Exception as exc:  # the producer's errors vary by version; all mean "not written"
                failures += 1
                delay = min(30.0, 0.5 * 2 ** min(failures, 6))
                log.warning("notify: %s: writing the dead letter failed (%s); retrying in %.1fs", self.sub.name,
                            type(exc).__name__, delay)
                if await self._stop_within(delay):
                    return False

    async def _stop_within(self, seconds: float) -> bool:
        try:
            await asyncio.wait_for(self._stopping.wait(), timeout=seconds)
        except TimeoutError:
            return False
        return True
