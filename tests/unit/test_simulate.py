"""The traffic simulator: deterministic, realistic enough, and its ground truth is exact."""

from __future__ import annotations

import dataclasses
import itertools
import os
import re
import statistics
import subprocess
import sys
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from functools import cached_property
from pathlib import Path
from typing import Any

import orjson
import pytest

import pulse.simulate as sim
from pulse.simulate import GroundTruth, SimulatedMessage, SimulationConfig, simulate
from schemas.event import KINDS, KINDS_WITHOUT_TARGET, dedupe_key
from streams.normalize import Rejection, normalize

START = 1_795_255_200_000                       # 2026-11-21T10:00:00.000Z
RFC3339_MS = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
TEXT_KINDS = {"post", "comment", "reply", "mention"}
ENGAGEMENT = {"like", "share", "view", "vote"}
ROOT = Path(__file__).resolve().parents[2]


def occurred_ms(value: str) -> int:
    return int(datetime.fromisoformat(value).timestamp() * 1000)


@dataclass
class Run:
    config: SimulationConfig
    messages: list[SimulatedMessage]
    truth: GroundTruth

    @cached_property
    def originals(self) -> list[tuple[SimulatedMessage, dict[str, Any]]]:
        """Valid, non-duplicate messages with their decoded objects."""
        return [(m, orjson.loads(m.value)) for m in self.messages if m.valid and not m.duplicate]


def run(config: SimulationConfig) -> Run:
    truth = GroundTruth()
    return Run(config, list(simulate(config, truth)), truth)


@pytest.fixture(scope="module")
def small() -> Run:
    """~22k unique events over 20 s of event time at 10:00 UTC."""
    return run(SimulationConfig(start_ms=START, rate=1000, duration_s=20, seed=7))


@pytest.fixture(scope="module")
def long() -> Run:
    """30 minutes at 50 events/s with all three cascade kinds."""
    return run(SimulationConfig(start_ms=START, rate=50, duration_s=1800, seed=11, viral_cascades=3))


# ----------------------------------------------------------------------------------- determinism
def test_same_seed_same_bytes() -> None:
    config = SimulationConfig(start_ms=START, rate=500, duration_s=10, seed=3)
    first, second = list(simulate(config)), list(simulate(config))
    assert first == second
    assert len(first) > 4000
    other = list(simulate(SimulationConfig(start_ms=START, rate=500, duration_s=10, seed=4)))
    assert [m.value for m in other[:100]] != [m.value for m in first[:100]]


def test_truth_is_deterministic_too() -> None:
    config = SimulationConfig(start_ms=START, rate=500, duration_s=10, seed=3)
    a, b = GroundTruth(), GroundTruth()
    for _ in simulate(config, a):
        pass
    for _ in simulate(config, b):
        pass
    assert a.to_json() == b.to_json()


def test_same_bytes_whatever_the_hash_seed() -> None:
    """No dependence on set/dict-of-str iteration order (PYTHONHASHSEED differs per process)."""
    code = ("import hashlib\nfrom pulse.simulate import SimulationConfig, GroundTruth, simulate\n"
            f"c = SimulationConfig(start_ms={START}, rate=300, duration_s=10, seed=5)\n"
            "t = GroundTruth(); h = hashlib.sha256()\n"
            "for m in simulate(c, t): h.update(m.value); h.update(str(m.emit_ms).encode())\n"
            "h.update(t.to_json()); print(h.hexdigest())\n")
    digests = set()
    for seed in ("1", "2"):
        env = {**os.environ, "PYTHONHASHSEED": seed, "PYTHONPATH": str(ROOT)}
        out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
        digests.add(out.stdout.strip())
    assert len(digests) == 1


# ----------------------------------------------------------------------------------- wire format
def test_valid_messages_have_the_canonical_shape(small: Run) -> None:
    platforms = set(small.config.platforms)
    for m, obj in small.originals:
        assert isinstance(obj, dict)
        assert obj["platform"] in platforms
        assert isinstance(obj["id"], str) and obj["id"]
        assert obj["kind"] in KINDS
        assert RFC3339_MS.match(obj["occurred_at"]), obj["occurred_at"]
        actor = obj["actor"]
        assert isinstance(actor["id"], str) and actor["id"]
        assert isinstance(actor["handle"], str) and actor["handle"]
        assert isinstance(actor["followers"], int) and actor["followers"] >= 0
        assert isinstance(actor["verified"], bool)
        if obj["kind"] not in KINDS_WITHOUT_TARGET:
            assert isinstance(obj["target_id"], str) and obj["target_id"]
        else:
            assert "target_id" not in obj
        if obj["kind"] in TEXT_KINDS:
            assert isinstance(obj["text"], str) and obj["text"]
        else:
            assert "text" not in obj
        assert small.config.start_ms <= occurred_ms(obj["occurred_at"]) < small.config.end_ms
        assert m.value == orjson.dumps(obj)


def test_the_normalizer_accepts_every_valid_message_and_rejects_every_malformed_one(small: Run) -> None:
    reasons: Counter[str] = Counter()
    for m in small.messages:
        result = normalize(m.value, 1024 * 1024)
        if m.valid:
            assert not isinstance(result, Rejection), (result, m.value)
        else:
            assert isinstance(result, Rejection), m.value
            reasons[result.reason.split(":")[0]] += 1
    # bad JSON / not an object / not UTF-8 (value), unknown kind, missing actor.id, bad timestamp,
    # missing target_id: every family shows up.
    assert set(reasons) == {"value", "kind", "actor.id", "occurred_at", "target_id"}


def test_ids_are_unique_within_a_platform(small: Run) -> None:
    keys = [dedupe_key(obj["platform"], obj["id"]) for _m, obj in small.originals]
    assert len(keys) == len(set(keys))


def test_emit_order_is_non_decreasing(small: Run, long: Run) -> None:
    for r in (small, long):
        emits = [m.emit_ms for m in r.messages]
        assert emits == sorted(emits)


def test_duplicates_are_identical_bytes_resent_within_30_s(small: Run) -> None:
    first_emit: dict[bytes, int] = {}
    dups = 0
    for m in small.messages:
        if m.duplicate:
            dups += 1
            assert m.valid
            assert m.value in first_emit, "a duplicate came before its original"
            assert 0 <= m.emit_ms - first_emit[m.value] <= 30_000
        elif m.valid:
            assert m.value not in first_emit
            first_emit[m.value] = m.emit_ms
    assert dups > 0


def test_late_events_are_emitted_1_to_10_minutes_after_they_occurred(small: Run) -> None:
    late = 0
    for m, obj in small.originals:
        delay = m.emit_ms - occurred_ms(obj["occurred_at"])
        if m.late:
            late += 1
            assert 60_000 <= delay <= 600_000
        else:
            assert delay == 0
    assert late > 0


def test_ratios(small: Run) -> None:
    unique = sum(1 for m in small.messages if m.valid and not m.duplicate)
    assert 20_000 <= unique <= 30_000
    duplicates = sum(m.duplicate for m in small.messages) / unique
    late = sum(m.late for m in small.messages) / unique
    malformed = sum(not m.valid for m in small.messages) / unique
    assert duplicates == pytest.approx(0.03, abs=0.006)
    assert late == pytest.approx(0.02, abs=0.005)
    assert malformed == pytest.approx(0.005, abs=0.002)


def test_ratios_follow_the_config() -> None:
    config = SimulationConfig(start_ms=START, rate=1000, duration_s=10, duplicate_ratio=0.2, late_ratio=0.0,
                              malformed_ratio=0.0, viral_cascades=0)
    messages = list(simulate(config))
    unique = sum(1 for m in messages if m.valid and not m.duplicate)
    assert sum(m.duplicate for m in messages) / unique == pytest.approx(0.2, abs=0.02)
    assert not any(m.late or not m.valid for m in messages)


# ----------------------------------------------------------------------------------- causality
def test_engagement_targets_posts_already_emitted(small: Run, long: Run) -> None:
    for r in (small, long):
        posts: dict[str, str] = {}          # post id -> platform
        comments: dict[str, str] = {}       # comment id -> its post id
        for _m, obj in r.originals:
            kind = obj["kind"]
            if kind == "post":
                posts[obj["id"]] = obj["platform"]
                continue
            if kind in KINDS_WITHOUT_TARGET:
                continue
            target = obj["target_id"]
            assert posts.get(target) == obj["platform"], f"{kind} {obj['id']} acts on unseen post {target}"
            if kind == "comment":
                assert obj["parent_id"] == target
                comments[obj["id"]] = target
            elif kind == "reply":
                assert comments.get(obj["parent_id"]) == target, "reply to an unseen comment or another post"


# ----------------------------------------------------------------------------------- ground truth
def test_truth_totals_match_the_messages(small: Run) -> None:
    truth = small.truth
    assert truth.unique_events == sum(1 for m in small.messages if m.valid and not m.duplicate)
    assert truth.duplicates == sum(m.duplicate for m in small.messages)
    assert truth.malformed == sum(not m.valid for m in small.messages)
    assert truth.late == sum(m.late for m in small.messages)
    assert truth.messages == len(small.messages)
    assert sum(truth.by_kind().values()) == truth.unique_events


def recount(r: Run) -> Counter[tuple[str, str, int, str]]:
    """The ground truth, recomputed from the wire bytes alone."""
    brand_re = re.compile(r"(?<![0-9a-z])(" + "|".join(r.config.brands or ["(?!)"]) + r")(?![0-9a-z])")
    post_tags: dict[str, tuple[set[str], set[str]]] = {}
    out: Counter[tuple[str, str, int, str]] = Counter()
    for _m, obj in r.originals:
        kind = obj["kind"]
        minute = occurred_ms(obj["occurred_at"]) // 60_000 * 60
        text = obj.get("text") or ""
        tags = {h.lower() for h in re.findall(r"#(\w+)", text)}
        brands = set(brand_re.findall(text.lower()))
        if kind == "post":
            post_tags[obj["id"]] = (tags, brands)
        elif kind in ENGAGEMENT:
            tags, brands = post_tags[obj["target_id"]]
        keys = [("platform", obj["platform"]), ("author", obj["actor"]["id"])]
        post = obj["id"] if kind == "post" else obj.get("target_id")
        if post:
            keys.append(("post", post))
        keys += [("hashtag", t) for t in tags] + [("brand", b) for b in brands]
        for dimension, key in keys:
            out[(dimension, key, minute, kind)] += 1
    return out


def test_truth_counts_equal_a_recount_from_the_wire(small: Run, long: Run) -> None:
    for r in (small, long):
        assert r.truth.counts == recount(r)


def test_truth_without_inheritance_counts_only_the_events_own_text() -> None:
    config = SimulationConfig(start_ms=START, rate=500, duration_s=10, engagement_inherits_tags=False)
    truth = GroundTruth()
    for _ in simulate(config, truth):
        pass
    assert not any(d in ("hashtag", "brand") and kind in ENGAGEMENT for d, _k, _m, kind in truth.counts)
    assert any(d == "hashtag" for d, _k, _m, _kind in truth.counts)


def test_truth_follows_what_the_consumer_received() -> None:
    config = SimulationConfig(start_ms=START, rate=1000, duration_s=30)
    truth = GroundTruth()
    taken = list(itertools.islice(simulate(config, truth), 5000))
    assert truth.unique_events == sum(1 for m in taken if m.valid and not m.duplicate)
    assert sum(n for (d, _k, _m, _kind), n in truth.counts.items() if d == "platform") == truth.unique_events


def test_max_events() -> None:
    truth = GroundTruth()
    messages = list(simulate(SimulationConfig(start_ms=START, rate=1e6, duration_s=3600, max_events=1234), truth))
    assert truth.unique_events == 1234
    assert sum(1 for m in messages if m.valid and not m.duplicate) == 1234


def test_truth_json_shape_and_round_trip(small: Run) -> None:
    data = small.truth.to_json()
    doc = orjson.loads(data)
    assert doc["format"] == "social-pulse-ground-truth/1"
    assert doc["config"]["seed"] == 7 and doc["config"]["start"] == "2026-11-21T10:00:00.000Z"
    assert set(doc["totals"]) == {"messages", "unique_events", "duplicates", "malformed", "late", "by_kind"}
    assert doc["totals"]["unique_events"] == small.truth.unique_events
    for spike in doc["spikes"]:
        assert set(spike) == {"dimension", "key", "kind", "start", "end", "start_ms", "end_ms"}
    rows = doc["counts"]
    assert set(rows[0]) == {"dimension", "key", "minute", "kind", "count"}
    assert all(RFC3339_MS.match(r["minute"]) and r["minute"].endswith(":00.000Z") for r in rows)
    assert sum(r["count"] for r in rows) == sum(small.truth.counts.values())
    back = GroundTruth.from_json(data)
    assert back.counts == small.truth.counts
    assert back.spikes == small.truth.spikes
    assert back.to_json() == data


def test_engagement_rows_sum_the_kinds(small: Run) -> None:
    rows = small.truth.engagement_rows()
    platform_total = sum(r["total"] for r in rows if r["dimension"] == "platform")
    assert platform_total == small.truth.unique_events
    for r in rows[:200]:
        kinds = ("posts", "comments", "replies", "likes", "shares", "views", "mentions", "votes")
        assert sum(r[k] for k in kinds) <= r["total"]


# ----------------------------------------------------------------------------------- cascades
def minute_of(ms: int) -> int:
    return ms // 60_000 * 60


def test_spikes_are_injected_and_recorded(long: Run) -> None:
    spikes = long.truth.spikes
    assert [s.kind for s in spikes] == ["viral_post", "negative_surge", "trending_hashtag"]
    assert [s.dimension for s in spikes] == ["post", "brand", "hashtag"]
    for s in spikes:
        assert long.config.start_ms <= s.start_ms < s.end_ms <= long.config.end_ms
        assert s.end_ms - s.start_ms >= 120_000      # "a few minutes"
        assert any(d == s.dimension and k == s.key for d, k, _m, _kind in long.truth.counts)


def test_spike_keys_surge_during_the_spike(long: Run) -> None:
    for s in long.truth.spikes:
        series = long.truth.minute_totals(s.dimension, s.key)
        # Whole minutes only: the spike's own minutes vs the minutes before it.
        during = [series.get(m, 0) for m in range(minute_of(s.start_ms) + 60, minute_of(s.end_ms), 60)]
        before = [n for m, n in series.items() if m < minute_of(s.start_ms)]
        assert before, f"{s.kind}: no baseline before the spike"
        assert statistics.mean(during) > 5 * statistics.mean(before), (s, during, before)
        after = [series.get(m, 0) for m in range(minute_of(s.end_ms) + 120, minute_of(long.config.end_ms), 60)]
        if after:   # and it ends
            assert statistics.mean(after) < 2 * statistics.mean(before) + 5, (s, after, before)


def test_viral_post_engagement_accelerates(long: Run) -> None:
    viral = long.truth.spikes[0]
    by_kind: Counter[str] = Counter()
    for (d, k, minute, kind), n in long.truth.counts.items():
        if d == "post" and k == viral.key and viral.start_ms <= minute * 1000 < viral.end_ms:
            by_kind[kind] += n
    assert by_kind["share"] > 100 and by_kind["comment"] > 50 and by_kind["like"] > 100
    series = long.truth.minute_totals("post", viral.key)
    first = minute_of(viral.start_ms)
    assert series[first + 60] > 3 * series[first]


def test_negative_surge_texts_are_negative(long: Run) -> None:
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    surge = long.truth.spikes[1]
    analyzer = SentimentIntensityAnalyzer()
    inside: list[float] = []
    outside: list[float] = []
    for _m, obj in long.originals:
        text = obj.get("text") or ""
        if surge.key not in text.lower() or obj["kind"] not in ("post", "mention"):
            continue
        score = analyzer.polarity_scores(text)["compound"]
        t = occurred_ms(obj["occurred_at"])
        (inside if surge.start_ms + 60_000 <= t < surge.end_ms - 60_000 else outside).append(score)
    assert len(inside) > 100
    assert statistics.mean(inside) < -0.3
    assert statistics.mean(inside) < statistics.mean(outside) - 0.2


# ----------------------------------------------------------------------------------- realism
def test_kind_mix(small: Run) -> None:
    kinds = small.truth.by_kind()
    total = sum(kinds.values())
    assert kinds["view"] > kinds["like"] > max(kinds["share"], kinds["comment"]) > kinds["post"]
    assert 0.03 <= kinds["post"] / total <= 0.06
    assert {"reply", "mention", "follow", "vote"} <= set(kinds)


def test_post_popularity_is_heavy_tailed(long: Run) -> None:
    per_post = Counter(obj["target_id"] for _m, obj in long.originals if obj["kind"] in ENGAGEMENT)
    counts = sorted(per_post.values(), reverse=True)
    top = counts[: max(1, len(counts) // 100)]
    top10 = counts[: max(1, len(counts) // 10)]
    assert sum(top) > 0.15 * sum(counts)            # the top 1% of posts get well over 1% of engagement
    assert sum(top10) > 0.4 * sum(counts)
    assert counts[0] > 50 * statistics.median(counts)


def test_actors_are_heavy_tailed_with_a_few_verified(small: Run) -> None:
    actors = {obj["actor"]["id"]: obj["actor"] for _m, obj in small.originals}
    followers = sorted(a["followers"] for a in actors.values())
    assert followers[-1] > 1000 * max(1, statistics.median(followers))
    verified = sum(a["verified"] for a in actors.values()) / len(actors)
    assert 0 < verified < 0.05
    activity = Counter(obj["actor"]["id"] for _m, obj in small.originals)
    assert activity.most_common(1)[0][1] > 10 * statistics.median(activity.values())


def test_a_wider_audience_has_more_distinct_actors_and_the_same_truth() -> None:
    """`actors_per_platform` beyond the pool built up front: actors derived from their index, the
    same on every run, counted by the ground truth like the others; fewer actors than the pool: at
    most that many per platform."""
    def distinct_per_minute(r: Run) -> float:
        per_minute: dict[int, set[str]] = {}
        for _m, obj in r.originals:
            per_minute.setdefault(occurred_ms(obj["occurred_at"]) // 60_000, set()).add(obj["actor"]["id"])
        return statistics.fmean(len(a) for a in per_minute.values()) / (len(r.originals) / len(per_minute))

    config = SimulationConfig(start_ms=START, rate=2000, duration_s=60, seed=7)
    narrow, wide = run(config), run(dataclasses.replace(config, actors_per_platform=400_000))
    assert distinct_per_minute(narrow) < 0.3  # 4,000 per platform: each active actor acts many times
    assert distinct_per_minute(wide) > 0.6  # most actors act once a minute
    assert wide.truth.counts == recount(wide)
    assert [m.value for m in simulate(wide.config)] == [m.value for m in wide.messages]
    tail = [obj["actor"] for _m, obj in wide.originals if int(obj["actor"]["id"].rsplit("-u", 1)[1]) >= 4000]
    assert tail and all(a["handle"] and a["followers"] >= 0 for a in tail)
    few = run(SimulationConfig(start_ms=START, rate=500, duration_s=10, seed=7, actors_per_platform=3))
    per_platform = Counter(obj["platform"] for obj in {o["actor"]["id"]: o for _m, o in few.originals}.values())
    assert max(per_platform.values()) <= 3


def test_texts_carry_hashtags_mentions_urls_brands_emoji_and_other_languages(long: Run) -> None:
    texts = [obj["text"] for _m, obj in long.originals if "text" in obj]

    def share(pred: Callable[[str], bool]) -> float:
        return sum(1 for t in texts if pred(t)) / len(texts)

    assert share(lambda t: "#" in t) > 0.2
    assert share(lambda t: "@" in t) > 0.05
    assert share(lambda t: "https://" in t) > 0.03
    assert share(lambda t: any(b in t.lower() for b in long.config.brands)) > 0.1
    assert share(lambda t: any(f"#{b}" in t.lower() for b in long.config.brands)) > 0.01
    assert share(lambda t: re.search("[\U0001F300-\U0001FAFF]", t) is not None) > 0.1
    assert share(lambda t: re.search("[áéíóúñçãõüöäß¿¡]", t) is not None) > 0.02
    assert share(lambda t: re.search(r"\b(not|don't|isn't|no)\b", t, re.I) is not None) > 0.05
    assert any("url" in obj for _m, obj in long.originals)


def test_diurnal_rhythm() -> None:
    def unique(hour: int) -> int:
        start = START - 10 * 3_600_000 + hour * 3_600_000
        config = SimulationConfig(start_ms=start, rate=300, duration_s=20, viral_cascades=0)
        return sum(1 for m in simulate(config) if m.valid and not m.duplicate)

    peak, trough = unique(15), unique(3)
    assert peak / trough == pytest.approx(3.0, rel=0.15)
    flat = SimulationConfig(start_ms=START - 7 * 3_600_000, rate=300, duration_s=20, viral_cascades=0, diurnal=False)
    assert sum(1 for m in simulate(flat) if m.valid and not m.duplicate) == pytest.approx(6000, rel=0.05)


def test_memory_stays_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("_RECENT_POSTS", "_RECENT_TARGETS", "_RECENT_COMMENTS"):
        monkeypatch.setattr(sim, name, 50)
    config = SimulationConfig(start_ms=START, rate=2000, duration_s=10)
    state = sim._Simulation(config, None)
    messages = list(state.run())
    assert len(messages) > 15_000
    assert len(state.posts) <= 50 and len(state.targets) <= 50 and len(state.comments) <= 50
    assert all(len(c.posts) <= 200 and len(c.comments) <= 200 for c in state.cascades)


@pytest.mark.parametrize("bad", [
    {"rate": 0}, {"duration_s": -1}, {"duplicate_ratio": 1.0}, {"late_ratio": -0.1}, {"platforms": ()},
    {"brands": ("Acme",)}, {"viral_cascades": -1}, {"max_events": -5}, {"platforms": ("x", "x")},
    {"actors_per_platform": 0},
])
def test_config_is_validated(bad: dict[str, Any]) -> None:
    with pytest.raises(ValueError, match=next(iter(bad))):
        SimulationConfig(start_ms=START, **bad)


def test_no_brands_and_custom_platforms() -> None:
    config = SimulationConfig(start_ms=START, rate=500, duration_s=30, brands=(), platforms=("generic",),
                              viral_cascades=2)
    truth = GroundTruth()
    messages = list(simulate(config, truth))
    assert {orjson.loads(m.value)["platform"] for m in messages if m.valid} == {"generic"}
    assert not any(d == "brand" for d, _k, _m, _kind in truth.counts)
    assert [s.kind for s in truth.spikes] == ["viral_post", "trending_hashtag"]
    assert truth.counts == recount(Run(config, messages, truth))

