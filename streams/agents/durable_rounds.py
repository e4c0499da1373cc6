"""Making a stage's decided work durable in rounds, in order, behind the stage's back.

The stage adds each decided slice and goes on deciding the next; one background task makes what
waits durable (ClickHouse insert, output topic, changelog) and acks it, taking *every* slice
waiting at the start of its round. Under light load a round is one slice; when ClickHouse is
slower than the input, rounds grow (fewer, larger inserts) instead of the stage waiting on each
insert. At most `max_waiting` units wait: beyond that the stage waits for a round (backpressure,
and what a crash can replay stays bounded).

Rounds start at most every `min_interval_s` (unless `max_waiting` is reached or someone waits for
everything to be durable): each round is a ClickHouse insert, and every insert is a part the
server writes, runs the materialized view over and merges later. At 10,000 events/s the store made
~7 inserts a second; ten seconds of that traffic cost the server ~2.2-2.8 s of CPU as 7 inserts a
second and ~0.8 s as one (BENCHMARKS.md, Session 8).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from typing import Any, Generic, TypeVar

T = TypeVar("T")


class DurableRounds(Generic[T]):
    def __init__(self, persist: Callable[[list[T]], Awaitable[None]], size: Callable[[T], int],
                 max_waiting: int, min_interval_s: float = 0.0) -> None:
        self._persist = persist
        self._size = size
        self._max_waiting = max_waiting
        self._min_interval_s = min_interval_s
        self._last_start = float("-inf")
        self._draining = 0  # callers waiting in drained(): no pacing while there are any
        self._hurry = asyncio.Event()  # ends a paced wait early
        self._waiting: list[T] = []
        self._waiting_size = 0
        self._in_round = False
        self._wake = asyncio.Event()
        self._progress = asyncio.Event()
        self._task: asyncio.Future[None] | None = None

    async def add(self, item: T) -> None:
        """Queue `item` for the next round; waits while `max_waiting` units are already waiting.
        Raises what made a round fail."""
        self._check()
        self._waiting.append(item)
        self._waiting_size += self._size(item)
        self._wake.set()
        if self._waiting_size >= self._max_waiting:
            self._hurry.set()
        while self._waiting_size >= self._max_waiting:
            await self._next_progress()

    async def drained(self) -> None:
        """Returns once everything added is durable. Raises what made a round fail."""
        self._check()
        self._draining += 1
        self._hurry.set()
        try:
            while self._waiting or self._in_round:
                await self._next_progress()
        finally:
            self._draining -= 1

    async def close(self) -> None:
        """Make what waits durable (unless a round failed), then stop."""
        try:
            if self._task is not None and not self._task.done():
                await self.drained()
        finally:
            if self._task is not None:
                self._task.cancel()

    def _check(self) -> None:
        if self._task is None:
            self._task = asyncio.ensure_future(self._run())
        elif self._task.done():
            self._task.result()  # raises the round's error

    async def _next_progress(self) -> None:
        assert self._task is not None
        self._progress.clear()
        progress = asyncio.ensure_future(self._progress.wait())
        waits: list[asyncio.Future[Any]] = [progress, self._task]
        try:
            await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
        finally:
            progress.cancel()
        if self._task.done():
            self._task.result()

    async def _run(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            while self._waiting:
                await self._pace()
                self._last_start = asyncio.get_running_loop().time()
                items, self._waiting, self._waiting_size = self._waiting, [], 0
                self._in_round = True
                self._progress.set()  # room for more
                try:
                    await self._persist(items)
                finally:
                    self._in_round = False
                self._progress.set()

    async def _pace(self) -> None:
        """Wait until `min_interval_s` after the last round started, unless hurried meanwhile."""
        delay = self._last_start + self._min_interval_s - asyncio.get_running_loop().time()
        if delay <= 0 or self._draining or self._waiting_size >= self._max_waiting:
            return
        self._hurry.clear()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._hurry.wait(), delay)
