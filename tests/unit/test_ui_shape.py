"""The live page's pure parts: windows, zero-filled series, trending, alerts and dead letters, and the
static page's rule that data never reaches the DOM as HTML."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from pulse.ui import shape
from pulse.ui.shape import Windows, zero_filled

STATIC = Path(__file__).resolve().parents[2] / "pulse" / "ui" / "static"


def test_windows_align_to_minutes_and_complete_buckets() -> None:
    w = Windows(now=10_000_037)
    assert w.trend_start % 60 == 0
    assert w.trend_start == (10_000_037 // 60) * 60 - 59 * 60  # 60 minutes, the current one included
    assert w.throughput_end == 10_000_030  # the partial bucket [030, 040) is left out
    assert w.throughput_start == 10_000_030 - 300


def test_zero_filled_fills_gaps_sums_slots_and_ignores_outside_points() -> None:
    points = [(100, 2), (160, 3), (170, 4), (40, 9), (400, 9), (280, 1)]
    assert zero_filled(points, start=100, step=60, count=4) == [2, 7, 0, 1]
    assert zero_filled([], start=0, step=60, count=3) == [0, 0, 0]


def test_throughput_is_per_second_over_complete_buckets() -> None:
    w = Windows(now=1_000_005)  # end 1_000_000; start 999_700
    t = shape.throughput([(999_700, 50), (999_980, 100), (999_990, 200), (1_000_000, 999)], w)
    assert t["start"] == 999_700 and t["step_s"] == 10 and len(t["rates"]) == 30
    assert t["rates"][0] == 5.0 and t["rates"][-2:] == [10.0, 20.0]
    assert t["current"] == 10.0  # (0 + 100 + 200) / 30 s; the partial bucket (999 events) is not counted


def test_trending_keeps_every_dimension_top_keys_and_zero_filled_sparklines() -> None:
    w = Windows(now=6_000 * 60 + 5, trend_minutes=3)  # minutes 5998, 5999, 6000
    m = [5998 * 60, 5999 * 60, 6000 * 60]
    rows = [
        ("hashtag", "ai", 7, [(m[0], 2), (m[2], 5)]),
        ("hashtag", "zz", 7, [(m[1], 7)]),
        ("hashtag", "small", 1, [(m[1], 1)]),
        ("post", "p-1", 3, [(m[2], 3)]),
        ("unknown", "x", 99, [(m[2], 99)]),
    ]
    out = shape.trending(rows, w, top=2)
    assert list(out) == list(shape.DIMENSIONS)
    assert out["hashtag"] == [{"key": "ai", "events": 7, "series": [2, 0, 5]},
                              {"key": "zz", "events": 7, "series": [0, 7, 0]}]
    assert out["post"] == [{"key": "p-1", "events": 3, "series": [0, 0, 3]}]
    assert out["brand"] == [] and out["author"] == [] and out["platform"] == []


def test_open_alerts_most_severe_then_newest_first() -> None:
    def row(alert_id: str, severity: str, updated: int, lift: float | None = 2.0) -> tuple[object, ...]:
        return (alert_id, "volume_spike", "brand", "acme", severity, 1_000, updated, 120.456, 10.0, 0.99871, lift)

    alerts = shape.open_alerts([row("a", "info", 9_000), row("b", "critical", 1_000), row("c", "warning", 5_000),
                                row("d", "critical", 2_000, None)])
    assert [a["alert_id"] for a in alerts] == ["d", "b", "c", "a"]
    assert alerts[0]["lift"] is None and alerts[1]["lift"] == 2.0
    assert alerts[1]["observed"] == 120.46 and alerts[1]["score"] == 0.9987 and alerts[1]["opened_at"] == 1_000


def test_dead_letters_newest_first_as_plain_strings() -> None:
    letters = shape.dead_letters([(1_000, "value: not JSON", "<b>x", "", "raw", 0, 4),
                                  (2_000, "kind: unknown kind 'nope'", "{}", "", "raw", 1, 9)])
    assert [d["received_at"] for d in letters] == [2_000, 1_000]
    assert letters[1] == {"received_at": 1_000, "error": "value: not JSON", "raw": "<b>x", "raw_encoding": "",
                          "topic": "raw", "partition": 0, "offset": 4}


@pytest.mark.parametrize("name", ["index.html", "app.js", "app.css", "favicon.svg"])
def test_static_files_exist_and_load_nothing_from_elsewhere(name: str) -> None:
    text = (STATIC / name).read_text()
    assert not re.search(r"(src|href)\s*=\s*[\"']?(https?:)?//", text), "the page must work offline: no CDN"


def test_page_script_never_writes_html() -> None:
    script = (STATIC / "app.js").read_text()
    for sink in ("innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval("):
        assert sink not in script
    assert "<script" not in (STATIC / "index.html").read_text().replace('<script src="/static/app.js"', "")
