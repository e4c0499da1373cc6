"""`pulse worker`: one worker of the pipeline, its stages in up to three processes.

The main process runs the store stage (dedupe, enrich, social.events); by default the route stage
(with the ClickHouse events and dead-letter sinks) and the windows stage (windows, spike alerts,
alerts sink) run in child processes it supervises, so a worker uses more than one core.
"""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import threading
import time

from pulse.gc_tuning import tune_collector
from pulse.malloc_tuning import keep_freed_memory
from pulse.native import build_in_use
from pulse.preflight import check_clickhouse_migrated, check_kafka_topics
from streams.settings import Settings

log = logging.getLogger(__name__)


class StageChildren:
    """Keeps the worker's stage processes alive for the worker's lifetime."""

    def __init__(self, commands: list[list[str]], worker_id: str) -> None:
        self._commands = commands
        self._env = dict(os.environ, PULSE_WORKER_ID=worker_id)
        self._procs: list[subprocess.Popen[bytes] | None] = [None] * len(commands)
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._supervise, name="stage-children", daemon=True)

    def start(self) -> None:
        if self._commands:
            self._thread.start()

    def _supervise(self) -> None:
        # Spawned from this long-lived thread: PR_SET_PDEATHSIG fires when the spawning thread ends.
        restarts = 0
        while not self._stopping.is_set():
            for i, proc in enumerate(self._procs):
                if proc is None or proc.poll() is not None:
                    if proc is not None and proc.returncode in (0, -signal.SIGTERM, -signal.SIGINT):
                        return  # stopped on purpose (the worker's process group is shutting down)
                    if proc is not None:
                        restarts += 1
                        log.error("stage process %s exited with %s; restarting it", self._commands[i][-1],
                                  proc.returncode)
                        time.sleep(min(30.0, 0.5 * 2 ** min(restarts, 6)))
                    if not self._stopping.is_set():
                        self._procs[i] = subprocess.Popen(self._commands[i], env=self._env)
            self._stopping.wait(1.0)

    def stop(self) -> None:
        self._stopping.set()
        if self._thread.is_alive():
            self._thread.join(timeout=5)
        for proc in self._procs:
            if proc is not None and proc.poll() is None:
                proc.terminate()
        for proc in self._procs:
            if proc is not None:
                try:
                    proc.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    proc.kill()


def stage_commands(settings: Settings) -> list[list[str]]:
    base = [sys.executable, "-m", "pulse.stage_process"]
    commands = [[*base, "route", str(i)] for i in range(settings.route_processes)]
    if settings.windows_process:
        commands.append([*base, "windows"])
    return commands


def run_worker(settings: Settings, role: str = "main") -> None:
    """role "main": the worker (spawns its stage children); "windows": the windows stage child."""
    if role == "main":
        build = build_in_use()
        check_kafka_topics(settings)
        check_clickhouse_migrated(settings)
        log.info("%d pipeline modules compiled (make native)", len(build.compiled))
    import faust

    from streams.app import build_app

    if settings.metrics_port:
        from prometheus_client import start_http_server

        start_http_server(settings.metrics_port + (1 if role == "windows" else 0), addr=settings.metrics_host)
    (settings.data_dir / "workers" / settings.worker_id).mkdir(parents=True, exist_ok=True)
    app = build_app(settings, role)
    tune_collector()
    keep_freed_memory()
    # aiokafka logs every produced message at debug level: profiled at ~10% of the windows process
    # when a handler let debug through, so its loggers follow the configured level explicitly.
    for name in ("faust", "aiokafka", "kafka"):
        logging.getLogger(name).setLevel(settings.log_level.upper())
    children = StageChildren(stage_commands(settings) if role == "main" else [], settings.worker_id)
    children.start()
    try:
        faust.Worker(app, loglevel=settings.log_level.upper(), quiet=True).execute_from_commandline()
    finally:
        children.stop()
