"""Faust agents: thin wiring from topics to the pure logic and the sinks."""

from __future__ import annotations

import faust

from streams.settings import Settings


def register_agents(app: faust.App, settings: Settings) -> None:
    from streams.agents.dead_letters import register_dead_letter_sink
    from streams.agents.route import register_router
    from streams.agents.store import register_store

    register_router(app, settings)
    register_store(app, settings)
    register_dead_letter_sink(app, settings)
