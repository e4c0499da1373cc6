"""Stages of one `pulse worker` in child processes: `python -m pulse.stage_process route N | windows`.

A worker's stages would share one interpreter and so one core (the GIL). The route stage is
stateless (the first route process also runs the ClickHouse events sink, stateless too) and the
windows stage keeps its own state (its own Faust app and changelog); they talk to the rest only
through Kafka, so each can run in its own process. A child dies with its worker
(PR_SET_PDEATHSIG), so a SIGKILLed worker never leaves a stage consuming behind it.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import logging
import signal
import sys

from pulse.gc_tuning import tune_collector
from pulse.malloc_tuning import keep_freed_memory
from streams.settings import load_settings

_PR_SET_PDEATHSIG = 1


def die_with_parent() -> None:
    name = ctypes.util.find_library("c")
    if name is not None:
        ctypes.CDLL(name).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)


def run_route(index: int) -> None:
    from mode import Service, Worker

    from streams.agents.route import route_services
    from streams.app import app_id

    settings = load_settings()
    settings = settings.model_copy(update={"worker_id": f"{settings.worker_id}-route{index}"})
    if settings.metrics_port:
        from prometheus_client import start_http_server

        # The worker serves metrics_port; its windows child the next port, its route children the ones after.
        start_http_server(settings.metrics_port + 2 + index, addr=settings.metrics_host)
    for name in ("aiokafka", "kafka"):
        logging.getLogger(name).setLevel(settings.log_level.upper())
    services: list[Service] = [stage() for stage in route_services(settings, app_id(settings), first=index == 0)]
    tune_collector()
    keep_freed_memory()
    Worker(*services, loglevel=settings.log_level.upper(), quiet=True).execute_from_commandline()


def run_windows() -> None:
    from pulse.worker import run_worker

    settings = load_settings()
    run_worker(settings.model_copy(update={"worker_id": f"{settings.worker_id}-windows"}), role="windows")


if __name__ == "__main__":
    die_with_parent()
    if sys.argv[1:2] == ["windows"]:
        run_windows()
    else:
        run_route(int(sys.argv[2]) if len(sys.argv) > 2 else 0)
