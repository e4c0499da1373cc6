"""DurableRounds: what the store stage adds is made durable in order, in rounds that take everything
waiting, with a bound on what waits and the round's error raised to the stage."""

from __future__ import annotations

import asyncio

import pytest

from streams.agents.durable_rounds import DurableRounds


class Recorder:
    def __init__(self) -> None:
        self.rounds: list[list[int]] = []
        self.gate = asyncio.Event()
        self.gate.set()
        self.fail_on: int | None = None

    async def persist(self, items: list[int]) -> None:
        await self.gate.wait()
        if self.fail_on in items:
            raise OSError(f"item {self.fail_on} failed")
        self.rounds.append(items)


def test_a_round_takes_every_item_waiting_in_order() -> None:
    async def run() -> list[list[int]]:
        rec = Recorder()
        rec.gate.clear()  # the first round waits (a slow ClickHouse insert)
        rounds = DurableRounds(rec.persist, lambda _: 1, max_waiting=100)
        await rounds.add(1)
        await asyncio.sleep(0.01)  # the round for [1] has started and waits
        for i in (2, 3, 4):
            await rounds.add(i)
        rec.gate.set()
        await rounds.drained()
        await rounds.add(5)
        await rounds.close()
        return rec.rounds

    assert asyncio.run(run()) == [[1], [2, 3, 4], [5]]


def test_add_waits_while_too_much_is_waiting() -> None:
    async def run() -> tuple[bool, bool]:
        rec = Recorder()
        rec.gate.clear()
        rounds = DurableRounds(rec.persist, lambda n: n, max_waiting=10)
        await rounds.add(1)
        await asyncio.sleep(0.01)  # round [1] in progress, holding the gate
        await rounds.add(4)
        blocked = asyncio.ensure_future(rounds.add(6))  # 4 + 6 waiting: at the bound
        await asyncio.sleep(0.05)
        was_blocked = not blocked.done()
        rec.gate.set()  # the next round takes [4, 6]: room again
        await asyncio.wait_for(blocked, 1)
        await rounds.close()
        return was_blocked, rec.rounds == [[1], [4, 6]]

    assert asyncio.run(run()) == (True, True)


def test_a_failed_round_is_raised_to_the_stage_and_nothing_after_it_persists() -> None:
    async def run() -> list[list[int]]:
        rec = Recorder()
        rec.fail_on = 2
        rounds = DurableRounds(rec.persist, lambda _: 1, max_waiting=100)
        await rounds.add(1)
        await rounds.drained()
        await rounds.add(2)
        with pytest.raises(OSError, match="item 2 failed"):
            await rounds.drained()
        with pytest.raises(OSError, match="item 2 failed"):
            await rounds.add(3)
        await rounds.close()
        return rec.rounds

    assert asyncio.run(run()) == [[1]]


def test_drained_returns_only_once_the_round_in_progress_is_done() -> None:
    async def run() -> tuple[bool, list[list[int]]]:
        rec = Recorder()
        rec.gate.clear()
        rounds = DurableRounds(rec.persist, lambda _: 1, max_waiting=100)
        await rounds.add(1)
        drained = asyncio.ensure_future(rounds.drained())
        await asyncio.sleep(0.05)
        early = drained.done()
        rec.gate.set()
        await asyncio.wait_for(drained, 1)
        await rounds.close()
        return early, rec.rounds

    assert asyncio.run(run()) == (False, [[1]])


def test_rounds_are_paced_unless_the_bound_is_reached_or_someone_waits_for_durability() -> None:
    async def run() -> list[list[list[int]]]:
        rec = Recorder()
        seen = []
        # An interval no test run reaches: every round after the first starts only when hurried.
        rounds = DurableRounds(rec.persist, lambda n: n, max_waiting=10, min_interval_s=3600)
        await rounds.add(1)
        await asyncio.sleep(0.01)
        seen.append(list(rec.rounds))  # the first round starts at once
        await rounds.add(2)
        await rounds.add(3)
        await asyncio.sleep(0.01)
        seen.append(list(rec.rounds))  # paced: 2 and 3 wait
        await rounds.add(5)  # 2 + 3 + 5 reach the bound: a round at once
        seen.append(list(rec.rounds))
        await rounds.add(4)
        await rounds.drained()  # someone waits for durability: a round at once
        seen.append(list(rec.rounds))
        await rounds.close()
        return seen

    assert asyncio.run(run()) == [[[1]], [[1]], [[1], [2, 3, 5]], [[1], [2, 3, 5], [4]]]
