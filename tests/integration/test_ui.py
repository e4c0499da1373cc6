"""`pulse ui` in a real headless Chromium, on a real pipeline run.

Simulated traffic (several platforms, duplicates, late and malformed messages) goes through a real
worker into ClickHouse; alert changes go through the alerts sink (produced to the test's social.alerts);
`pulse ui` runs as a subprocess; selenium drives Debian's chromium + chromedriver. The page must show
what ClickHouse holds, update without a reload, render hostile strings as text, keep the console clean,
and show a banner when ClickHouse stops answering. It also saves the README's screenshot, docs/ui.png.
"""

from __future__ import annotations

import os
import select
import shutil
import signal
import subprocess
import time
from collections.abc import Callable, Iterator
from typing import Any

import orjson
import pytest
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By

from pulse.simulate import GroundTruth, SimulationConfig, simulate
from tests.integration.conftest import PULSE, ROOT, Pipeline
from tests.unit.test_notify import make_alert

SCREENSHOT = ROOT / "docs" / "ui.png"
WATCHLIST = ROOT / "deploy" / "watchlist.example.json"
HOSTILE = '<img src=x onerror="window.__xss=1">'


def iso(ms: int) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(ms / 1000)) + f".{ms % 1000:03d}Z"


def alert(alert_id: str, *, key: str, severity: str, rule: str, dimension: str, observed: float,
          expected: float, opened_ms: int) -> bytes:
    record = make_alert(alert_id, key=key, severity=severity, rule=rule, dimension=dimension, observed=observed,
                        expected=expected)
    record.update(opened_at=iso(opened_ms), updated_at=iso(opened_ms + 60_000), emitted_at=iso(opened_ms + 60_100))
    return orjson.dumps(record)


def likes(target: str, n: int, tag: str) -> list[bytes]:
    now = iso(int(time.time() * 1000) - 2000)
    return [orjson.dumps({"platform": "generic", "id": f"{tag}-{i}", "kind": "like", "occurred_at": now,
                          "actor": {"id": f"fan-{i % 13}"}, "target_id": target}) for i in range(n)]


@pytest.fixture
def browser() -> Iterator[Any]:
    chromium, chromedriver = shutil.which("chromium"), shutil.which("chromedriver")
    if not chromium or not chromedriver:
        pytest.fail("chromium and chromedriver are not installed: `make setup` (deploy/dev/install-system-tools.sh)")
    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--window-size=1280,800", "--hide-scrollbars", "--force-device-scale-factor=1", "--lang=en-US"):
        options.add_argument(arg)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(options=options, service=Service(executable_path=chromedriver))
    # The viewport itself 1280 x 800 (--window-size counts the window, not the page): the screenshot's size.
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                           {"width": 1280, "height": 800, "deviceScaleFactor": 1, "mobile": False})
    try:
        yield driver
    finally:
        driver.quit()


def start_ui(pipeline: Pipeline) -> tuple[subprocess.Popen[str], str]:
    proc = subprocess.Popen([*PULSE, "ui", "--port", "0"], env=pipeline.env, cwd=ROOT, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, start_new_session=True)
    assert proc.stdout is not None
    ready, _, _ = select.select([proc.stdout], [], [], 30)
    line = proc.stdout.readline() if ready else ""
    if not line.startswith("live page: http://127.0.0.1:"):
        proc.kill()
        raise AssertionError(f"pulse ui did not start: {line!r} {proc.communicate(timeout=10)}")
    return proc, line.split()[2]


def wait_until(what: str, probe: Callable[[], Any], timeout: float = 20) -> Any:
    deadline = time.monotonic() + timeout
    last: Any = None
    while time.monotonic() < deadline:
        last = probe()
        if last:
            return last
        time.sleep(0.25)
    raise AssertionError(f"{what}: not seen within {timeout}s (last: {last!r})")


def texts(driver: Any, css: str) -> list[str]:
    # Read in one script, not element by element: the page re-renders every 2 s, and an element
    # found before a re-render is stale after it (a flake seen in CI).
    found = driver.execute_script(
        "return Array.from(document.querySelectorAll(arguments[0]), e => e.textContent)", css)
    return [str(t) for t in found]


def test_live_page_shows_the_run_updates_and_survives_an_outage(pipeline: Pipeline, browser: Any) -> None:
    pipeline.migrate()
    now_ms = int(time.time() * 1000)
    # 15 minutes of traffic ending at the current minute: sparklines have a shape.
    start_ms = (now_ms // 60_000 - 15) * 60_000
    truth = GroundTruth()
    config = SimulationConfig(seed=11, rate=8.0, duration_s=15 * 60, start_ms=start_ms, malformed_ratio=0.01)
    pipeline.produce([m.value for m in simulate(config, truth)])
    pipeline.produce([
        alert("a" * 20, key="acme", severity="critical", rule="volume_spike", dimension="brand", observed=412,
              expected=38.5, opened_ms=now_ms - 240_000),
        alert("b" * 20, key=HOSTILE, severity="warning", rule="viral_post", dimension="post", observed=96,
              expected=12, opened_ms=now_ms - 120_000),
    ], topic="social.alerts")
    pipeline.start_worker("w1", PULSE_WATCHLIST_FILE=str(WATCHLIST))
    pipeline.wait_for_unique_events(truth.unique_events)
    pipeline.wait_for("dead letters", lambda: pipeline.scalar("SELECT count() FROM {db}.dead_letters"),
                      truth.malformed)
    pipeline.produce([HOSTILE.encode()])  # the newest dead letter, so the page lists it
    pipeline.wait_for("the hostile dead letter", lambda: pipeline.scalar("SELECT count() FROM {db}.dead_letters"),
                      truth.malformed + 1)
    pipeline.wait_for("the produced alerts", lambda: pipeline.scalar(
        "SELECT count() FROM {db}.alerts_latest WHERE alert_id IN ('aaaaaaaaaaaaaaaaaaaa', 'bbbbbbbbbbbbbbbbbbbb')"), 2)
    top_hashtag, top_post = (pipeline.query(
        "SELECT key FROM {db}.engagement_by_minute WHERE dimension = %(d)s "
        "AND minute >= toStartOfMinute(now()) - INTERVAL 59 MINUTE "
        "GROUP BY key ORDER BY sum(total) DESC, key LIMIT 1", {"d": d})[0][0] for d in ("hashtag", "post"))
    reasons = {r[0] for r in pipeline.query("SELECT error FROM {db}.dead_letters")}

    ui, url = start_ui(pipeline)
    try:
        browser.get(url)
        browser.execute_script("window.__sameDocument = true")  # gone if the page reloads
        wait_until("the trending hashtag", lambda: texts(
            browser, "[data-dimension='hashtag'] .trend-row:first-of-type .key") == [top_hashtag])
        assert texts(browser, "[data-dimension='post'] .trend-row:first-of-type .key") == [top_post]
        assert browser.find_elements(By.CSS_SELECTOR, "[data-dimension='hashtag'] .trend-row svg path.line")
        for dimension in ("brand", "platform", "author"):
            assert texts(browser, f"[data-dimension='{dimension}'] .trend-row .key"), dimension
        assert texts(browser, "#events") == [f"{truth.unique_events:,}"]

        # The detector may open alerts of its own on the simulator's injected spikes: ours are among them,
        # the most severe first.
        rows = browser.execute_script(
            "return Array.from(document.querySelectorAll('#alerts tbody tr'), tr =>"
            " [tr.getAttribute('data-alert-id'), Array.from(tr.querySelectorAll('td'), td => td.textContent)])")
        cells = {str(alert_id): [str(t) for t in tds] for alert_id, tds in rows}
        assert cells["a" * 20][:6] == ["critical", "volume_spike", "brand", "acme", "412", "38.5"]
        assert cells["b" * 20][:6] == ["warning", "viral_post", "post", HOSTILE, "96", "12"]
        rank = {"critical": 0, "warning": 1, "info": 2}
        severities = [rank[c[0]] for c in cells.values()]
        assert severities == sorted(severities)

        shown = texts(browser, "#dead-letters td.reason")
        assert shown and set(shown) <= reasons and any(s.startswith("value: not JSON") for s in shown)
        assert HOSTILE in texts(browser, "#dead-letters td.raw")
        # Hostile strings are text: no element was created from them and nothing ran.
        assert not browser.find_elements(By.CSS_SELECTOR, "#alerts img, #dead-letters img")
        assert browser.execute_script("return window.__xss") is None

        SCREENSHOT.parent.mkdir(exist_ok=True)
        browser.save_screenshot(str(SCREENSHOT))
        assert SCREENSHOT.stat().st_size < 400_000

        # More traffic: the page follows without a reload.
        before = texts(browser, "[data-dimension='post'] .trend-row:first-of-type .total")
        pipeline.produce(likes(top_post, 300, "more"))
        total = truth.unique_events + 300
        wait_until("the new event count", lambda: texts(browser, "#events") == [f"{total:,}"], timeout=40)
        wait_until("the top post's count", lambda: texts(
            browser, "[data-dimension='post'] .trend-row:first-of-type .total") != before)
        assert browser.execute_script("return window.__sameDocument") is True

        errors = [e for e in browser.get_log("browser") if e["level"] == "SEVERE"]
        assert errors == [], errors

        # ClickHouse stops answering for this page (its database is gone): a banner, no crash.
        pipeline.ch.execute(f"DROP DATABASE {pipeline.database}")
        banner = wait_until("the outage banner", lambda: browser.find_element(By.ID, "banner").is_displayed()
                            and browser.find_element(By.ID, "banner").text)
        assert f"ClickHouse at {pipeline.settings.clickhouse.safe_url()} refused" in banner, banner
        assert texts(browser, "#events") == [f"{total:,}"]  # the last data received stays
        assert ui.poll() is None
        # ... and answers again (an empty database): the banner goes.
        pipeline.migrate()
        wait_until("the banner gone", lambda: not browser.find_element(By.ID, "banner").is_displayed())
        wait_until("the new state", lambda: texts(browser, "#events") == ["0"])
    finally:
        os.killpg(ui.pid, signal.SIGTERM)
        _, err = ui.communicate(timeout=20)
    assert ui.returncode == 0 and "Traceback" not in err, err


def test_ui_one_line_errors(pipeline: Pipeline) -> None:
    unmigrated = pipeline.pulse("ui", "--port", "0", check=False, timeout=60)
    assert unmigrated.returncode == 1
    assert unmigrated.stderr.strip().splitlines() == [
        f"pulse: error: ClickHouse database {pipeline.database} does not exist; run `pulse migrate` first "
        "(or set PULSE_CLICKHOUSE_URL)"]

    pipeline.migrate()
    ui, url = start_ui(pipeline)
    try:
        port = url.rstrip("/").rsplit(":", 1)[1]
        taken = pipeline.pulse("ui", "--port", port, check=False, timeout=60)
        assert taken.returncode == 1
        assert taken.stderr.strip().splitlines() == [
            f"pulse: error: port 127.0.0.1:{port} is taken by another process; set PULSE_UI_PORT (or --port) "
            "to a free one"]
    finally:
        os.killpg(ui.pid, signal.SIGTERM)
        ui.communicate(timeout=20)

    env = dict(pipeline.env, PULSE_CLICKHOUSE_URL="clickhouse://default:@127.0.0.1:1/pulse")
    down = subprocess.run([*PULSE, "ui", "--port", "0"], env=env, cwd=ROOT, capture_output=True, text=True,
                          timeout=60, check=False)
    assert down.returncode == 1
    assert down.stderr.strip().splitlines() == [
        "pulse: error: ClickHouse at clickhouse://default@127.0.0.1:1/pulse is unreachable; start it with "
        "`pulse dev up` or set PULSE_CLICKHOUSE_URL"]
