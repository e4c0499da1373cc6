"""The local ClickHouse server (chdb-core's real ClickHouse engine) on loopback."""

from __future__ import annotations

import sys

from pulse.devstack.process import ManagedProcess, port_open, wait_until
from pulse.errors import PulseError
from streams.settings import Settings


def clickhouse_process(settings: Settings) -> ManagedProcess:
    return ManagedProcess("clickhouse", settings.data_dir / "run")


def clickhouse_ready(settings: Settings) -> bool:
    """True when the server answers a query over the native protocol."""
    from clickhouse_driver import Client
    from clickhouse_driver.errors import Error

    ep = settings.clickhouse
    if not port_open(ep.host, ep.port):
        return False
    client = Client(host=ep.host, port=ep.port, user=ep.user, password=ep.password.get_secret_value(),
                    connect_timeout=2, send_receive_timeout=5)
    try:
        return bool(client.execute("SELECT 1") == [(1,)])
    except (Error, OSError, EOFError):
        return False
    finally:
        client.disconnect()


def start_clickhouse(settings: Settings) -> str:
    ep = settings.clickhouse
    proc = clickhouse_process(settings)
    if proc.pid() is not None:
        wait_until(lambda: clickhouse_ready(settings), proc, settings.dev_start_timeout_s, "ClickHouse")
        return f"clickhouse  already running (pid {proc.pid()}) on {ep.host}:{ep.port}"
    if ep.host not in ("127.0.0.1", "localhost", "::1"):
        raise PulseError(f"the local ClickHouse only binds to loopback, but PULSE_CLICKHOUSE_URL names {ep.host}; "
                         "use 127.0.0.1 or point the URL at your own server and skip `pulse dev up`")
    http = settings.dev_clickhouse_http_port
    for p, what in ((ep.port, "PULSE_CLICKHOUSE_URL=clickhouse://default:@127.0.0.1:<port>/pulse"),
                    (http, "PULSE_DEV_CLICKHOUSE_HTTP_PORT=<port>")):
        if port_open(ep.host, p):
            raise PulseError(f"port {ep.host}:{p} is taken by another process; stop it or set {what}")
    try:
        import chdb  # noqa: F401
    except ImportError as exc:
        raise PulseError("chdb-core is not installed; run `make setup` (or pip install 'social-pulse[devstack]')") \
            from exc
    home = (settings.data_dir / "clickhouse").resolve()
    home.mkdir(parents=True, exist_ok=True)
    host = "127.0.0.1" if ep.host == "localhost" else ep.host
    pid = proc.start([sys.executable, "-m", "pulse.devstack.chserver", str(home), str(ep.port), str(http), host],
                     cwd=home)
    wait_until(lambda: clickhouse_ready(settings), proc, settings.dev_start_timeout_s, "ClickHouse")
    return f"clickhouse  started (pid {pid}) on {ep.host}:{ep.port} (native), :{http} (http), data in {home}"


def clickhouse_status(settings: Settings) -> tuple[bool, str]:
    ep = settings.clickhouse
    pid = clickhouse_process(settings).pid()
    if pid is None:
        extra = " (but something else answers on that port)" if port_open(ep.host, ep.port) else ""
        return False, f"clickhouse  stopped{extra}"
    state = "ready" if clickhouse_ready(settings) else "starting or unhealthy"
    return True, f"clickhouse  running (pid {pid}) on {ep.host}:{ep.port}, {state}"
