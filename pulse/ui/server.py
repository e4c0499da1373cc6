"""`pulse ui`: the live page and its JSON API (aiohttp), reading ClickHouse off the event loop.

The server runs its own event loop in a thread, so `pulse ui` and `pulse demo` (whose main thread
produces traffic) start it the same way. ClickHouse is read by one worker thread with one client
(clickhouse-driver clients are not thread-safe); the summary is cached briefly so any number of open
pages costs one set of queries per interval.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import logging
import threading
import time
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any

import orjson
from aiohttp import web
from clickhouse_driver import Client

from pulse.errors import PulseError
from pulse.ui import queries
from pulse.ui.shape import Windows
from sinks.clickhouse_client import connect
from streams.settings import Settings

STATIC = Path(__file__).resolve().parent / "static"
CACHE_S = 1.0
CLICKHOUSE_TIMEOUT_S = 5.0
UNKNOWN_DATABASE = 81  # ClickHouse error code

# The page loads only its own files and fetches only its own API: no inline script, no CDN.
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
                               "connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}


def describe_clickhouse_error(exc: Exception, url: str) -> str:
    from clickhouse_driver.errors import ServerException

    from pulse.cli import clickhouse_error

    if isinstance(exc, ServerException):  # the server's own words, not just "Code: 81."
        return f"ClickHouse at {url} refused (code {exc.code}): {str(exc.message).splitlines()[0][:200]}"
    translated = clickhouse_error(exc, url)
    if isinstance(translated, PulseError):
        return str(translated)
    first_line = str(exc).splitlines()[0][:200] if str(exc) else ""
    return f"reading ClickHouse at {url} failed: {type(exc).__name__}: {first_line}"


def check_clickhouse(settings: Settings) -> None:
    """At start: ClickHouse answers and has the views the page reads, or one line saying what to do."""
    ep = settings.clickhouse
    client = connect(ep, timeout_s=CLICKHOUSE_TIMEOUT_S)
    try:
        missing = queries.missing_views(client)
    except Exception as exc:
        if getattr(exc, "code", None) == UNKNOWN_DATABASE:
            raise PulseError(f"ClickHouse database {ep.database} does not exist; run `pulse migrate` first "
                             "(or set PULSE_CLICKHOUSE_URL)") from None
        raise PulseError(describe_clickhouse_error(exc, ep.safe_url())) from None
    finally:
        client.disconnect()
    if missing:
        raise PulseError(f"ClickHouse database {ep.database} lacks {', '.join(missing)}; run `pulse migrate` first")


class SummarySource:
    """Reads the summary in a worker thread; at most once per CACHE_S whatever the number of pages."""

    def __init__(self, settings: Settings) -> None:
        self._endpoint = settings.clickhouse
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="pulse-ui-clickhouse")
        self._client: Client | None = None
        self._lock = asyncio.Lock()
        self._cached: tuple[float, int, bytes] | None = None  # (monotonic time, HTTP status, body)

    def _read(self) -> tuple[int, bytes]:
        try:
            if self._client is None:
                self._client = connect(self._endpoint, timeout_s=CLICKHOUSE_TIMEOUT_S)
            summary = queries.fetch_summary(self._client, Windows(now=int(time.time())))
            return 200, orjson.dumps({"ok": True, **summary})
        except Exception as exc:
            # An outage is shown on the page (banner) and retried on the next poll with a new connection.
            if self._client is not None:
                with contextlib.suppress(Exception):
                    self._client.disconnect()
                self._client = None
            message = describe_clickhouse_error(exc, self._endpoint.safe_url())
            return 503, orjson.dumps({"ok": False, "error": message})

    async def summary(self) -> tuple[int, bytes]:
        async with self._lock:
            now = time.monotonic()
            if self._cached is None or now - self._cached[0] >= CACHE_S:
                status, body = await asyncio.get_running_loop().run_in_executor(self._executor, self._read)
                self._cached = (time.monotonic(), status, body)
            return self._cached[1], self._cached[2]

    def close(self) -> None:
        def _disconnect() -> None:
            if self._client is not None:
                self._client.disconnect()

        with contextlib.suppress(Exception):
            self._executor.submit(_disconnect).result(timeout=5)
        self._executor.shutdown(wait=False)


def make_app(source: SummarySource) -> web.Application:
    async def index(_: web.Request) -> web.StreamResponse:
        return web.FileResponse(STATIC / "index.html", headers=SECURITY_HEADERS)

    async def summary(_: web.Request) -> web.Response:
        status, body = await source.summary()
        return web.Response(body=body, status=status, content_type="application/json", headers=SECURITY_HEADERS)

    @web.middleware
    async def secure(request: web.Request, handler: Any) -> web.StreamResponse:
        response: web.StreamResponse = await handler(request)
        for name, value in SECURITY_HEADERS.items():
            response.headers.setdefault(name, value)
        return response

    app = web.Application(middlewares=[secure])
    app.router.add_get("/", index)
    app.router.add_get("/api/summary", summary)
    app.router.add_static("/static/", STATIC)
    return app


class UiServer:
    """The live page served from a background thread with its own event loop."""

    def __init__(self, settings: Settings, host: str, port: int) -> None:
        self.settings, self.host, self.port = settings, host, port
        self.url = ""
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._stopped: asyncio.Event | None = None

    def start(self) -> str:
        """Bind and serve; returns the page's URL, or raises PulseError (port taken, bad host)."""
        started: Future[str] = Future()
        self._thread = threading.Thread(target=self._run, args=(started,), name="pulse-ui", daemon=True)
        self._thread.start()
        self.url = started.result(timeout=30)
        return self.url

    def _run(self, started: Future[str]) -> None:
        self._loop = asyncio.new_event_loop()
        try:
            self._loop.run_until_complete(self._serve(started))
        except BaseException as exc:  # reported to start(); nothing else is waiting on this thread
            if not started.done():
                started.set_exception(exc)
        finally:
            self._loop.close()

    async def _serve(self, started: Future[str]) -> None:
        logging.getLogger("aiohttp.access").setLevel(logging.WARNING)
        source = SummarySource(self.settings)
        runner = web.AppRunner(make_app(source), access_log=None)
        await runner.setup()
        self._stopped = asyncio.Event()
        try:
            site = web.TCPSite(runner, self.host, self.port)
            try:
                await site.start()
            except OSError as exc:
                where = f"{self.host}:{self.port}"
                if exc.errno == errno.EADDRINUSE:
                    raise PulseError(f"port {where} is taken by another process; set PULSE_UI_PORT "
                                     "(or --port) to a free one") from None
                raise PulseError(f"cannot serve the live page on {where}: {exc.strerror or exc}; "
                                 "check PULSE_UI_HOST / PULSE_UI_PORT") from None
            host, port = runner.addresses[0][:2]
            shown = f"[{host}]" if ":" in str(host) else str(host)
            started.set_result(f"http://{shown}:{port}/")
            await self._stopped.wait()
        finally:
            await runner.cleanup()
            source.close()

    def stop(self) -> None:
        if self._loop is not None and self._stopped is not None and not self._loop.is_closed():
            with contextlib.suppress(RuntimeError):  # the loop closed in between
                self._loop.call_soon_threadsafe(self._stopped.set)
        if self._thread is not None:
            self._thread.join(timeout=10)


def run_ui(settings: Settings, host: str, port: int) -> None:
    """`pulse ui`: check ClickHouse, serve until SIGINT/SIGTERM."""
    import signal

    import click

    check_clickhouse(settings)
    server = UiServer(settings, host, port)
    url = server.start()
    click.echo(f"live page: {url}  (reading ClickHouse {settings.clickhouse.safe_url()}; Ctrl-C to stop)")
    done = threading.Event()
    previous = {sig: signal.signal(sig, lambda *_: done.set()) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        while not done.wait(1.0):
            pass
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        server.stop()
