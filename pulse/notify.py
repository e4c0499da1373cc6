"""`pulse notify`: the command around sinks.notify.service.NotifyService (checks, lock, signals, metrics)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal

from aiokafka.errors import KafkaError

from pulse.errors import PulseError
from pulse.preflight import kafka_unreachable, require_kafka_reachable
from pulse.state_lock import lock_state_file
from sinks.notify.config import NotifyConfig
from sinks.notify.ledger import DeliveryLedger
from sinks.notify.service import NotifyService, ledger_path
from streams.settings import Settings

log = logging.getLogger("pulse.notify")


async def serve(settings: Settings, config: NotifyConfig) -> None:
    require_kafka_reachable(settings)
    path = ledger_path(settings)
    lock = lock_state_file(path, "the delivery ledger", "pulse notify")
    try:
        ledger = DeliveryLedger(path)
    except Exception as exc:  # sqlite3.Error, OSError: an unusable data folder or file
        lock.close()
        raise PulseError(f"cannot open the delivery ledger {path}: {exc}; check PULSE_DATA_DIR") from exc
    service = NotifyService(settings, config, ledger)
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, service.stopping.set)
    try:
        try:
            missing = await service.start()
        except (KafkaError, OSError) as exc:
            raise kafka_unreachable(settings, exc) from exc
        if missing:
            raise PulseError(f"topic {missing[0]} does not exist; run `pulse migrate` first")
        names = ", ".join(f"{s.name} ({s.kind})" for s in config.subscribers)
        log.warning("notify: delivering %s to %s", service.names.alerts, names)
        try:
            await service.run()
        except KafkaError as exc:
            raise PulseError(f"Kafka at {settings.kafka_bootstrap} failed ({type(exc).__name__}); uncommitted "
                             "alert changes are delivered after a restart") from exc
    finally:
        with contextlib.suppress(Exception):
            await service.close()
        ledger.close()
        lock.close()


def run_notify(settings: Settings, config: NotifyConfig) -> None:
    """Run until SIGTERM or SIGINT, then stop cleanly (see NotifyService.run)."""
    logging.basicConfig(level=settings.log_level.upper(), format="%(asctime)s %(levelname)s %(message)s")
    for name in ("aiokafka", "kafka"):
        logging.getLogger(name).setLevel(logging.CRITICAL)
    if settings.notify_metrics_port:
        from prometheus_client import start_http_server

        try:
            start_http_server(settings.notify_metrics_port, addr=settings.metrics_host)
        except OSError as exc:
            raise PulseError(f"port {settings.metrics_host}:{settings.notify_metrics_port} is taken "
                             f"({exc.strerror}); set PULSE_NOTIFY_METRICS_PORT") from None
    asyncio.run(serve(settings, config))
