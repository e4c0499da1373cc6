"""Faust agents: thin wiring from topics to the pure logic and the sinks."""

from __future__ import annotations

import faust

from streams.settings import Settings


def register_agents(app: faust.App, settings: Settings, role: str = "main") -> None:
    from streams.agents.alerts_sink import register_alerts_sink
    from streams.agents.route import route_services
    from streams.agents.store import register_store
    from streams.agents.windows import register_windows

    if role == "windows" or (role == "main" and not settings.windows_process):
        register_windows(app, settings)
        register_alerts_sink(app, settings)
    if role == "main":
        if settings.route_processes == 0:  # else they run in the route processes (pulse/stage_process.py)
            for stage in route_services(settings, app.conf.id, first=True):
                app.service(stage)
        register_store(app, settings)
