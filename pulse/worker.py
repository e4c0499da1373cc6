"""`pulse worker`: one Faust worker running every agent of the pipeline."""

from __future__ import annotations

import gc
import logging

from pulse.preflight import check_clickhouse_migrated, check_kafka_topics
from streams.settings import Settings


def run_worker(settings: Settings) -> None:
    check_kafka_topics(settings)
    check_clickhouse_migrated(settings)
    import faust

    from streams.app import build_app

    if settings.metrics_port:
        from prometheus_client import start_http_server

        start_http_server(settings.metrics_port, addr=settings.metrics_host)
    (settings.data_dir / "workers" / settings.worker_id).mkdir(parents=True, exist_ok=True)
    app = build_app(settings)
    # Long-lived state (dedupe keys, table entries) would make every full GC pass walk it; the
    # pipeline creates no reference cycles on its hot path, so collect rarely.
    gc.freeze()
    gc.set_threshold(50_000, 50, 1000)
    logging.getLogger("faust").setLevel(settings.log_level.upper())
    worker = faust.Worker(app, loglevel=settings.log_level.upper(), quiet=True)
    worker.execute_from_commandline()
