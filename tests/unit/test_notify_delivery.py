"""One subscriber channel against a real HTTP server on loopback (no Kafka: dead letters go to a list)."""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import orjson
from aiohttp import web

from sinks.notify.alert import parse_alert
from sinks.notify.config import Subscriber
from sinks.notify.delivery import SubscriberChannel, Work
from sinks.notify.ledger import DEAD_LETTERED, DELIVERED, DeliveryLedger
from sinks.notify.progress import OffsetProgress
from sinks.notify.signing import SIGNATURE_HEADER, verify_signature
from tests.unit.test_notify import make_alert

Handler = Callable[[web.Request], Awaitable[web.Response]]


async def serve(handler: Handler) -> tuple[web.AppRunner, str]:
    app = web.Application()
    app.router.add_post("/hook", handler)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    return runner, f"http://127.0.0.1:{port}/hook"


def run_channel(tmp_path: Path, responses: list[int], max_attempts: int = 4,
                known: str | None = None) -> dict[str, Any]:
    """Deliver one change through a channel to a server answering `responses` in turn (then 200)."""
    seen: list[dict[str, Any]] = []
    dead: list[dict[str, Any]] = []

    async def handler(request: web.Request) -> web.Response:
        body = await request.read()
        seen.append({"body": body, "headers": dict(request.headers)})
        status = responses[len(seen) - 1] if len(seen) <= len(responses) else 200
        return web.Response(status=status, text="nope" if status >= 300 else "ok")

    async def dead_letter(record: dict[str, Any], key: str | None) -> None:
        dead.append(record)

    async def main() -> dict[str, Any]:
        runner, url = await serve(handler)
        ledger = DeliveryLedger(tmp_path / "ledger.sqlite3")
        try:
            sub = Subscriber(name="hook", kind="webhook", url=url, secret=b"k", max_attempts=max_attempts,
                             backoff_base_s=0.01, backoff_max_s=0.02, timeout_s=5)
            change = parse_alert(orjson.dumps(make_alert()))
            if known:
                ledger.record("hook", change.change_id, known, 0.0)
            stopping = asyncio.Event()
            progress = OffsetProgress()
            message = progress.track(("social.alerts", 0), 7, 1)
            channel = SubscriberChannel(sub, ledger, dead_letter, stopping, rng=random.Random(1))
            channel.put(Work(change, message, {"topic": "social.alerts", "partition": 0, "offset": 7}))
            task = asyncio.create_task(channel.run())
            for _ in range(500):
                if message.done:
                    break
                await asyncio.sleep(0.01)
            stopping.set()
            await asyncio.wait_for(task, 5)
            return {"seen": seen, "dead": dead, "done": message.done, "commit": progress.committable(),
                    "outcome": ledger.outcome("hook", change.change_id)}
        finally:
            ledger.close()
            await runner.cleanup()

    return asyncio.run(main())


def test_retries_until_delivered_and_signs_every_attempt(tmp_path: Path) -> None:
    out = run_channel(tmp_path, [500, 503])
    assert len(out["seen"]) == 3 and out["dead"] == []
    assert out["outcome"] == DELIVERED and out["done"] and out["commit"] == {("social.alerts", 0): 8}
    keys = {s["headers"]["Idempotency-Key"] for s in out["seen"]}
    assert keys == {"0123456789abcdef0123:opened:info"}
    for s in out["seen"]:
        assert verify_signature(b"k", s["body"], s["headers"][SIGNATURE_HEADER], now=time.time())


def test_gives_up_after_the_last_attempt_with_the_reason(tmp_path: Path) -> None:
    out = run_channel(tmp_path, [500] * 10, max_attempts=3)
    assert len(out["seen"]) == 3
    assert [d["reason"] for d in out["dead"]] == ["HTTP 500: nope after 3 attempt(s)"]
    assert out["dead"][0]["subscriber"] == "hook" and out["dead"][0]["source"]["offset"] == 7
    assert out["outcome"] == DEAD_LETTERED and out["done"]


def test_a_permanent_refusal_is_not_retried(tmp_path: Path) -> None:
    out = run_channel(tmp_path, [400], max_attempts=5)
    assert len(out["seen"]) == 1 and out["dead"][0]["reason"] == "HTTP 400: nope after 1 attempt(s)"


def test_a_change_the_ledger_knows_is_not_sent_again(tmp_path: Path) -> None:
    out = run_channel(tmp_path, [], known=DELIVERED)
    assert out["seen"] == [] and out["done"] and out["dead"] == []


def test_a_stop_during_backoff_leaves_the_change_unfinished(tmp_path: Path) -> None:
    """Stopped while waiting to retry: no outcome is recorded, so the change is sent after a restart."""
    async def handler(request: web.Request) -> web.Response:
        return web.Response(status=500)

    async def main() -> tuple[bool, str | None]:
        runner, url = await serve(handler)
        ledger = DeliveryLedger(tmp_path / "ledger.sqlite3")
        try:
            sub = Subscriber(name="hook", kind="slack", url=url, max_attempts=5, backoff_base_s=30,
                             backoff_max_s=30)
            change = parse_alert(orjson.dumps(make_alert()))
            stopping = asyncio.Event()
            message = OffsetProgress().track(("t", 0), 0, 1)

            async def never(record: dict[str, Any], key: str | None) -> None:
                raise AssertionError("not dead-lettered")

            channel = SubscriberChannel(sub, ledger, never, stopping, rng=random.Random(3))
            channel.put(Work(change, message, {}))
            task = asyncio.create_task(channel.run())
            await asyncio.sleep(0.5)
            stopping.set()
            await asyncio.wait_for(task, 5)
            return message.done, ledger.outcome("hook", change.change_id)
        finally:
            ledger.close()
            await runner.cleanup()

    assert asyncio.run(main()) == (False, None)
