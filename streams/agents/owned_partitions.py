"""A stateful stage's state per owned input partition, rebuilt from its changelog on assignment."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from typing import Any, Generic, TypeVar

from streams.agents.changelog import Changelog

log = logging.getLogger(__name__)

S = TypeVar("S")


class OwnedPartitions(Generic[S]):
    """`get(p)` returns partition p's state, built by `build(p, entries)` from the changelog entries
    whose keys start with "p:" (prefix removed) the first time p is asked for after an assignment.
    `forget` drops the states of revoked partitions: another worker may write to them meanwhile."""

    def __init__(self, changelog: Changelog, build: Callable[[int, dict[str, Any]], S]) -> None:
        self._changelog = changelog
        self._build = build
        self._states: dict[int, S] = {}
        self._revocations = 0

    def loaded(self, partition: int) -> bool:
        return partition in self._states

    def items(self) -> Iterator[tuple[int, S]]:
        return iter(list(self._states.items()))

    async def get(self, partition: int) -> S:
        state = self._states.get(partition)
        if state is None:
            revocations = self._revocations
            prefix = f"{partition}:"
            entries = {key[len(prefix):]: value for key, value in (await self._changelog.load(partition)).items()
                       if isinstance(key, str) and key.startswith(prefix) and value is not None}
            state = self._build(partition, entries)
            log.info("%s partition %d: state rebuilt from %d entries", self._changelog.topic, partition, len(entries))
            # Revoked while loading: what was read may be stale by the time it is ours again.
            if revocations == self._revocations:
                self._states[partition] = state
        return state

    def forget(self, partitions: set[int]) -> None:
        self._revocations += 1
        for p in partitions:
            self._states.pop(p, None)
