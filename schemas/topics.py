"""Topic names: the one place they are spelled. The contract names are in CONTRACT.md section 1."""

from __future__ import annotations

from dataclasses import dataclass

RAW = "social.raw"
EVENTS = "social.events"
ENGAGEMENT = "social.engagement"
ALERTS = "social.alerts"
DLQ = "social.dlq"
# Internal: valid raw events re-keyed by their dedupe key, so every copy of one (platform, id)
# reaches the same partition (and so the same worker) whatever partition the sender picked.
KEYED = "social.keyed"
# Internal: what each pack of unique events adds per (dimension, key, minute), partitioned by
# (dimension, key), so one windows task owns every update of a key.
CONTRIBUTIONS = "social.contributions"

# Internal, compacted: the state of the stateful stages, partition p holding the state of input
# partition p. Named as Faust named these tables' changelogs (app id, table name), so the state
# of a deployment that ran an earlier version is read as is.
DEDUPE_CHANGELOG = "social-pulse-dedupe-changelog"
WINDOWS_CHANGELOG = "social-pulse-windows-windows-changelog"

# Alert changes `pulse notify` could not deliver to a subscriber after its last retry, with the reason.
NOTIFY_DLQ = "social.notify.dlq"

CONTRACT_TOPICS = (RAW, EVENTS, ENGAGEMENT, ALERTS, DLQ)
INTERNAL_TOPICS = (KEYED, CONTRIBUTIONS)
STATE_TOPICS = (DEDUPE_CHANGELOG, WINDOWS_CHANGELOG)
NOTIFY_TOPICS = (NOTIFY_DLQ,)


@dataclass(frozen=True)
class TopicNames:
    """Topic names with the deployment's prefix applied."""

    prefix: str = ""

    def name(self, base: str) -> str:
        return f"{self.prefix}{base}"

    @property
    def raw(self) -> str:
        return self.name(RAW)

    @property
    def events(self) -> str:
        return self.name(EVENTS)

    @property
    def engagement(self) -> str:
        return self.name(ENGAGEMENT)

    @property
    def alerts(self) -> str:
        return self.name(ALERTS)

    @property
    def dlq(self) -> str:
        return self.name(DLQ)

    @property
    def notify_dlq(self) -> str:
        return self.name(NOTIFY_DLQ)

    @property
    def keyed(self) -> str:
        return self.name(KEYED)

    @property
    def contributions(self) -> str:
        return self.name(CONTRIBUTIONS)

    @property
    def dedupe_changelog(self) -> str:
        return self.name(DEDUPE_CHANGELOG)

    @property
    def windows_changelog(self) -> str:
        return self.name(WINDOWS_CHANGELOG)

    def state(self) -> list[str]:
        return [self.name(t) for t in STATE_TOPICS]

    def all(self) -> list[str]:
        return [self.name(t) for t in (*CONTRACT_TOPICS, *INTERNAL_TOPICS, *STATE_TOPICS, *NOTIFY_TOPICS)]
