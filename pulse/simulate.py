"""A pure, deterministic traffic simulator for `social.raw`, with its exact ground truth.

`simulate(config)` yields the messages a fleet of connectors would produce, in emit order, as the
exact bytes to send to Kafka. Nothing here touches Kafka, the network or the clock: the event-time
origin is `config.start_ms` and every random choice comes from one `random.Random(config.seed)`, so
the same config always yields the same bytes.

The traffic model
-----------------
* Events arrive as a Poisson process in event time. Its rate is `config.rate`, modulated by a
  sinusoidal day curve over the UTC hour of event time (x0.5 at 03:00, x1.5 at 15:00) when
  `config.diurnal`, plus the rate of each injected cascade.
* Kind mix of ordinary traffic: views > likes > comments > shares > votes ~ posts ~ replies >
  mentions > follows (posts ~4%). Posts, comments, replies and mentions carry text; likes, shares,
  views and votes do not; follows have neither text nor target.
* Engagement targets only posts already emitted, picked with preferential attachment: most picks
  copy the target of a recent engagement (rich get richer, so popularity is heavy-tailed) and the
  rest pick a recent post, biased to the newest. Comments target a post (`parent_id` = the post);
  replies target the post of an earlier comment (`parent_id` = that comment). Engagement happens on
  the platform of its post.
* Actors: per-platform pools with Pareto follower counts (a few accounts with millions), a few
  verified accounts (mostly the big ones), and heavy-tailed activity.
* Texts are assembled from pre-built fragments: English with emoji, slang and negations, some
  Spanish, French, German and Portuguese, hashtags (`#...`), @mentions, URLs, and brand names from
  `config.brands`, by name (`Acme`, `ACME`, `acme`) or by hashtag (`#acme`). No fragment contains a
  configured brand name as a word unless it was put there on purpose.
* Cascades (`config.viral_cascades`), cycling through: `viral_post` (a post by a big account whose
  likes, shares, comments and views accelerate sharply for a few minutes, after a quiet lead-in
  with some engagement), `negative_surge` (a burst of negative posts, mentions and comments naming
  one brand, and likes and shares of those posts) and `trending_hashtag` (the same with one
  hashtag, in ordinary texts). A surge's own posts get engagement only from the surge, so each
  spike ends when its profile does. The spikes are in `truth.spikes` as soon as `simulate` is called.
* Late events (`late_ratio`): delivered 1-10 minutes after their `occurred_at`. Duplicates
  (`duplicate_ratio`): the identical bytes re-sent 0-30 s after the original. Malformed messages
  (`malformed_ratio`, extra messages): bad JSON, unknown kind, missing `actor.id`, bad timestamp,
  missing `target_id`, a JSON value that is not an object, invalid UTF-8.

Memory is bounded whatever the run length: targets come from ring buffers of recent posts,
comments and engagements. Only the ground truth grows (with the number of distinct
(dimension, key, minute, kind) cells).

Ground truth
------------
`GroundTruth` counts each unique valid event exactly once, when it is emitted (so a consumer that
stops early still holds the truth of what it received), under every dimension it belongs to,
keyed by the UTC minute of `occurred_at` and the event kind:

* `platform` -> the platform; `author` -> `actor.id`;
* `post` -> `target_id`, or the event's own `id` for a post (mentions and follows have no post);
* `hashtag` -> the hashtags the simulator wrote in the event's text (what `#(\\w+)` finds there),
  lowercased, each once;
* `brand` -> the brands the simulator put in the text (by name or by hashtag), each once.

With `engagement_inherits_tags` (default, matching `schemas.event.ENGAGEMENT_KINDS`) likes,
shares, views and votes also count under the hashtags and brands of the post they act on.

`GroundTruth.to_json()` writes::

    {
      "format": "social-pulse-ground-truth/1",
      "config": {"seed": 42, "rate": 1000.0, "start": "2026-11-21T10:00:00.000Z", ...},
      "totals": {"messages": N, "unique_events": N, "duplicates": N, "malformed": N, "late": N,
                 "by_kind": {"view": N, ...}},
      "spikes": [{"dimension": "post", "key": "tw-p1", "kind": "viral_post",
                  "start": RFC 3339, "end": RFC 3339, "start_ms": int, "end_ms": int}, ...],
      "counts": [{"dimension": "hashtag", "key": "ai", "minute": "2026-11-21T10:03:00.000Z",
                  "kind": "like", "count": 17}, ...]
    }

`counts` rows are sorted by (dimension, key, minute, kind); `minute` is the start of the UTC
minute. Summing the rows of one (dimension, key, minute) over kinds gives `total` of the
`engagement_by_minute` view (follows count only in `total`); `GroundTruth.engagement_rows()` does
exactly that.
"""

from __future__ import annotations

import math
import random
import re
import zlib
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from heapq import heappop, heappush
from itertools import repeat
from typing import Any, Final, NamedTuple

import orjson

from schemas.event import KINDS, format_time_ms

__all__ = ["GroundTruth", "InjectedSpike", "SimulatedMessage", "SimulationConfig", "simulate"]

DEFAULT_PLATFORMS: Final = ("twitter", "facebook", "linkedin", "youtube", "reddit", "mastodon", "bluesky", "blog")
DEFAULT_BRANDS: Final = ("acme", "globex", "initech", "umbrella", "hooli")
TRUTH_FORMAT: Final = "social-pulse-ground-truth/1"
HASHTAG_RE: Final = re.compile(r"#(\w+)")

_MINUTE_MS: Final = 60_000
_SEGMENT_MS: Final = 250.0          # rates are re-evaluated every 250 ms of event time
_DIURNAL_AMPLITUDE: Final = 0.5
_DIURNAL_PEAK_HOUR: Final = 15.0
_LATE_MIN_MS: Final = 60_000
_LATE_MAX_MS: Final = 600_000
_DUPLICATE_MAX_DELAY_MS: Final = 30_000
_COPY_TARGET_P: Final = 0.85       # preferential attachment: share of picks copying a recent target
_WARMUP_POSTS: Final = 20          # until this many posts exist, ordinary engagement becomes posts
_RECENT_POSTS: Final = 20_000
_RECENT_TARGETS: Final = 5_000
_RECENT_COMMENTS: Final = 5_000
# Actors per platform drawn from (skewed: `rand() ** 2.5`, the first ones most active). 4,000 is
# what every benchmark before Session 13 ran with: at 10,000 events/s each active actor then acts
# many times a minute. Real audiences are wider (`actors_per_platform`, `pulse bench --actors`);
# beyond the first 4,000, actors are derived from their index (no per-actor state kept).
DEFAULT_ACTORS_PER_PLATFORM: Final = 4_000
_CASCADE_RING: Final = 200
_VOTE_PLATFORMS: Final = frozenset({"reddit", "youtube", "blog", "mastodon"})

# Ordinary traffic, in per mille. Votes on platforms without votes become likes.
_KIND_MIX: Final = (("view", 430), ("like", 260), ("comment", 80), ("share", 60), ("vote", 50),
                    ("post", 40), ("reply", 40), ("mention", 25), ("follow", 15))
_VIRAL_MIX: Final = (("like", 400), ("share", 250), ("comment", 150), ("view", 120), ("reply", 80))
# Surges: text events plus likes and shares of the surge's own posts (which get no other engagement,
# so a surge ends when its profile says so).
_SURGE_MIX: Final = (("post", 300), ("mention", 250), ("comment", 150), ("like", 150), ("share", 150))
_TRENDING_MIX: Final = (("post", 400), ("comment", 200), ("mention", 100), ("like", 150), ("share", 150))
_PLATFORM_WEIGHTS: Final = {"twitter": 25, "facebook": 15, "reddit": 15, "youtube": 12, "linkedin": 8,
                            "bluesky": 8, "mastodon": 5, "blog": 3}
_PLATFORM_SHORT: Final = {"twitter": "tw", "facebook": "fb", "linkedin": "li", "youtube": "yt",
                          "reddit": "rd", "mastodon": "ma", "bluesky": "bs", "blog": "bl"}
_KIND_LETTER: Final = {"post": "p", "comment": "c", "reply": "r", "like": "l", "share": "s", "view": "v",
                       "mention": "m", "follow": "f", "vote": "o"}
_ENGAGEMENT_KINDS: Final = frozenset({"like", "share", "view", "vote"})

# ------------------------------------------------------------------------------------------ texts
_POST_EN: Final = (
    "Just shipped a new side project, feedback welcome 🚀",
    "Honestly the best coffee I've had all year ☕",
    "Can't believe how fast this week went by",
    "Not gonna lie, today was rough 😩",
    "This is not what I expected at all, and not in a good way",
    "Anyone else think the new season is kinda mid?",
    "Lowkey obsessed with this playlist 🎧",
    "Three hours on hold. THREE. smh",
    "Reminder: drink water and touch grass 🌱",
    "The sunset tonight was unreal 😍",
    "Why does every update break something? 🙄",
    "Big announcement coming tomorrow, stay tuned 👀",
    "Hot take: meetings should be emails",
    "Finally finished the marathon!!! 🏃‍♀️💯",
    "I don't hate it, but I don't love it either",
    "This thread is gold 😂😂",
    "Worst commute ever, trains cancelled again 😡",
    "Grateful for this community, you all are amazing ❤️",
    "Is it just me or is the app super slow today?",
    "New blog post: lessons from a year of remote work",
    "That game last night was insane 🔥🔥",
    "ngl this is the best thing I've read all week",
    "Not bad at all for a first attempt 👍",
    "bruh the wifi died mid-presentation 💀",
    "Reading list for the weekend, suggestions?",
    "Pretty disappointed with how this turned out",
    "Happy Friday everyone! 🎉",
    "The price went up again and the quality went down. No thanks",
    "Learning something new every day, love it",
    "No cap, this changed how I work",
    "Live in 10 minutes, come hang out 📺",
    "It isn't perfect but it's honest work",
    "Rain all week 🌧️ not complaining though",
    "Terrible customer experience today, really upset",
    "Some days you win, some days you learn",
    "Can we talk about how good this album is? 🎶",
)
_POST_FOREIGN: Final = (
    "¡Qué día tan increíble! ☀️",                                 # es
    "No me gusta nada este cambio, la verdad",
    "Mañana empieza el festival, ¿quién viene? 🎉",
    "Esto es lo peor que he visto en mucho tiempo 😡",
    "Franchement, c'est génial, merci à toute l'équipe",      # fr
    "Je ne suis pas du tout convaincu par cette annonce",
    "Encore une grève, le train est annulé 😩",
    "Quelle belle journée à Paris 😍",
    "Das ist wirklich nicht gut, sehr enttäuschend",           # de
    "Endlich Wochenende! 🍻",
    "Wer schaut heute Abend das Spiel? ⚽",
    "Ich finde die neue Version richtig super",
    "Que dia lindo hoje, bom demais ☀️",                         # pt
    "Não gostei nada do atendimento, péssimo",
    "Alguém mais achou esse episódio incrível? 🔥",
    "Vamos com tudo nessa semana! 💪",
)
_BRAND_TEMPLATES: Final = (
    "Just switched to {B} and honestly it's great",
    "{B} support fixed my issue in five minutes 👍",
    "Is {B} down for anyone else?",
    "Not impressed with the new {B} update tbh",
    "{B}'s new release is goated 🔥",
    "Thinking about trying {B}, any thoughts?",
    "ngl {B} isn't as bad as people say",
    "Why is {B} so expensive now? 🙄",
    "Shoutout to the {B} team, great job 🙌",
    "My {B} order arrived broken. Not happy",
    "Me encanta lo nuevo de {B} 😍",
    "{B} a encore augmenté ses prix, pas cool",
    "{B} ist einfach top, klare Empfehlung",
    "Comprei na {B} e chegou tudo certinho 👍",
)
_SURGE_TEMPLATES: Final = (
    "{B} just lost a customer. Never again 😡",
    "Absolutely furious with {B}, three weeks and still no refund",
    "{B} is a scam, do not buy",
    "Worst update ever {B}, everything is broken 👎",
    "Why is {B} charging me twice?? Not ok",
    "Cancelled my {B} account. Terrible service, zero support 😤",
    "{B} outage AGAIN... unacceptable",
    "Do NOT trust {B} with your data",
    "Can't believe {B} thinks this is acceptable, disgusting",
    "{B} customer service is a joke smh",
    "I'm done with {B}, not worth a single cent",
    "{B} es un desastre, nunca más 😡",
    "{B} c'est vraiment nul, service client inexistant",
    "{B} ist eine Katastrophe, nie wieder",
    "{B} é uma vergonha, péssimo atendimento",
)
_COMMENT_BODIES: Final = (
    "lol this", "So true 😂", "Not gonna lie, this is mid", "Couldn't agree more 💯",
    "This is terrible advice", "Thanks for sharing!", "wait what 😳", "Source?",
    "I don't think that's right", "Love this ❤️", "underrated take", "Hard disagree",
    "This made my day 😂", "Nah, not buying it", "Great point, hadn't thought of that",
    "Can confirm, same here", "ugh same 😩", "This is the way", "Not bad, not great",
    "Absolutely beautiful 😍", "who asked 🙄", "Big if true", "fr fr", "W take 🔥",
    "Jajaja qué bueno 😂", "Trop bien !", "Stimmt genau", "Kkkkk muito bom",
    "This needs more attention", "Please stop posting this 🙄",
)
_HASHTAGS: Final = (
    "AI", "MachineLearning", "Python", "startup", "tech", "news", "MondayMotivation", "travel",
    "foodie", "music", "gaming", "football", "climate", "crypto", "photography", "fitness",
    "WorldCup", "DevOps", "OpenSource", "design", "marketing", "TBT", "NowPlaying", "BreakingNews",
    "remotework", "books", "science", "art", "movies", "weekend", "coffee", "running", "fútbol",
    "España", "Paris", "Berlin", "Brasil", "jobs", "ux", "cloud",
)
_SURGE_HASHTAGS: Final = ("fail", "boycott", "customerservice", "scam", "refund", "outage")
_EMOJI_TAILS: Final = (" 🔥", " 😂", " 😍", " 👀", " 🙄", " 💯", " 😭", " 🚀", " 👍", " 👎", " 😡", " ❤️")
_URL_HOSTS: Final = ("example.com", "news.example.org", "blog.example.net", "youtu.be", "bit.ly",
                     "medium.com", "github.com", "substack.com")
_URL_PATHS: Final = ("articles", "p", "watch", "posts", "story", "r", "blog")
_SYLLABLES: Final = ("al", "ben", "cor", "dan", "el", "fi", "gra", "hol", "ix", "jo", "ka", "lu", "mi",
                     "no", "or", "pa", "qui", "ra", "sa", "to", "ul", "vi", "wen", "xa", "yo", "zu")
_HANDLE_SUFFIXES: Final = ("", "", "", "_dev", "writes", "_fit", "travels", "_music", "codes", "art", "_x")

PostRec = tuple[str, str, tuple[str, ...], tuple[str, ...]]   # id, platform, hashtags, brands
CommentRec = tuple[str, PostRec]                                # comment id, its post
Fragment = tuple[str, tuple[str, ...], tuple[str, ...]]         # text, hashtags, brands
# An event: JSON object, kind, platform, actor id, post key, hashtags, brands, post/comment to
# register as a target once emitted.
Event = tuple[dict[str, Any], str, str, str, str, tuple[str, ...], tuple[str, ...],
              PostRec | None, CommentRec | None]
# A message held back (late original or duplicate): emit ms, sequence, bytes, the event (None for a
# duplicate), occurred ms, the cascade ring the event joins once emitted.
_Delayed = tuple[int, int, bytes, Event | None, int, list[Any] | None]


# ------------------------------------------------------------------------------------------- API
@dataclass(frozen=True, kw_only=True)
class SimulationConfig:
    """What to simulate. Only `start_ms` (event time of the first event) is required."""

    start_ms: int
    seed: int = 42
    rate: float = 1000.0               # mean events per second, before diurnal modulation
    duration_s: float = 60.0           # event-time span: every occurred_at lies in [start, start + duration)
    platforms: tuple[str, ...] = DEFAULT_PLATFORMS
    duplicate_ratio: float = 0.03      # re-sent messages (identical bytes) per unique event
    late_ratio: float = 0.02           # events delivered 1-10 minutes after their occurred_at
    malformed_ratio: float = 0.005     # extra malformed messages per unique event
    viral_cascades: int = 2            # injected spikes: viral_post, negative_surge, trending_hashtag, ...
    diurnal: bool = True
    brands: tuple[str, ...] = DEFAULT_BRANDS
    max_events: int | None = None      # stop after this many unique valid events (None: duration only)
    engagement_inherits_tags: bool = True  # likes/shares/views/votes count under their post's tags
    actors_per_platform: int = DEFAULT_ACTORS_PER_PLATFORM

    def __post_init__(self) -> None:
        if not self.rate > 0 or math.isinf(self.rate):
            raise ValueError(f"rate: must be a positive number of events per second, got {self.rate}")
        if not self.duration_s > 0 or math.isinf(self.duration_s):
            raise ValueError(f"duration_s: must be positive, got {self.duration_s}")
        for name in ("duplicate_ratio", "late_ratio", "malformed_ratio"):
            value = getattr(self, name)
            if not 0.0 <= value < 1.0:
                raise ValueError(f"{name}: must be in [0, 1), got {value}")
        if not self.platforms or any(not p or p != p.lower() for p in self.platforms):
            raise ValueError("platforms: need at least one non-empty, lowercase platform name")
        if len(set(self.platforms)) != len(self.platforms):
            raise ValueError("platforms: names must be distinct")
        if any(not b or not b.isalnum() or b != b.lower() for b in self.brands):
            raise ValueError("brands: each brand must be a non-empty lowercase alphanumeric word")
        if self.viral_cascades < 0:
            raise ValueError(f"viral_cascades: must be >= 0, got {self.viral_cascades}")
        if self.actors_per_platform < 1:
            raise ValueError(f"actors_per_platform: must be >= 1, got {self.actors_per_platform}")
        if self.max_events is not None and self.max_events < 0:
            raise ValueError(f"max_events: must be >= 0, got {self.max_events}")

    @property
    def end_ms(self) -> int:
        return self.start_ms + round(self.duration_s * 1000)


class SimulatedMessage(NamedTuple):
    """One message to produce. Immutable (a NamedTuple: 2-3x cheaper to build than a frozen dataclass)."""

    value: bytes          # exactly what is produced to Kafka (no key)
    emit_ms: int          # when (simulated wall time) it is produced; messages come in emit order
    valid: bool           # False for malformed messages
    duplicate: bool       # True when this is a re-send of an earlier message (identical bytes)
    late: bool = False    # True when emitted 1-10 minutes after its occurred_at


# Builds a SimulatedMessage from a full 5-tuple without the NamedTuple's Python-level __new__ (hot path).
_new_message: Callable[[type[SimulatedMessage], tuple[bytes, int, bool, bool, bool]], SimulatedMessage] = \
    tuple.__new__


@dataclass
class InjectedSpike:
    dimension: str        # "post" | "hashtag" | "brand"
    key: str
    start_ms: int         # the surge runs over [start_ms, end_ms) of event time
    end_ms: int
    kind: str             # "viral_post" | "negative_surge" | "trending_hashtag"

    def to_dict(self) -> dict[str, Any]:
        return {"dimension": self.dimension, "key": self.key, "kind": self.kind,
                "start": format_time_ms(self.start_ms), "end": format_time_ms(self.end_ms),
                "start_ms": self.start_ms, "end_ms": self.end_ms}


_PLURAL: Final = {"post": "posts", "comment": "comments", "reply": "replies", "like": "likes",
                  "share": "shares", "view": "views", "mention": "mentions", "vote": "votes"}


CountKey = tuple[str, str, int, str]   # (dimension, key, minute start in epoch seconds, kind)


class GroundTruth:
    """Exact per-minute counts of the unique valid events a simulation emitted (see module doc).

    `counts` maps (dimension, key, minute start in epoch seconds, kind) to a number of unique events.
    Events are recorded cheaply as columns and folded into `counts` (at C speed) when it is read.
    """

    def __init__(self, *, counts: dict[CountKey, int] | None = None, unique_events: int = 0,
                 duplicates: int = 0, malformed: int = 0, late: int = 0,
                 spikes: list[InjectedSpike] | None = None, config: dict[str, Any] | None = None) -> None:
        self._counts: Counter[CountKey] = Counter(counts or {})
        self.unique_events = unique_events
        self.duplicates = duplicates
        self.malformed = malformed
        self.late = late
        self.spikes: list[InjectedSpike] = list(spikes or [])
        self.config: dict[str, Any] = dict(config or {})
        # Recorded, not yet folded into `_counts`: one entry per event in each column.
        self._minutes: list[int] = []
        self._kinds: list[str] = []
        self._platforms: list[str] = []
        self._authors: list[str] = []
        self._posts: list[str] = []          # "" when the event has no post
        self._tagged: list[tuple[int, str, tuple[str, ...], tuple[str, ...]]] = []

    def __repr__(self) -> str:
        return (f"GroundTruth(unique_events={self.unique_events}, duplicates={self.duplicates}, "
                f"malformed={self.malformed}, late={self.late}, spikes={self.spikes!r})")

    def record(self, minute_s: int, kind: str, platform: str, author: str, post: str,
               hashtags: tuple[str, ...] = (), brands: tuple[str, ...] = ()) -> None:
        """Count one unique valid event (`post` "" when it has none)."""
        self._minutes.append(minute_s)
        self._kinds.append(kind)
        self._platforms.append(platform)
        self._authors.append(author)
        self._posts.append(post)
        if hashtags or brands:
            self._tagged.append((minute_s, kind, hashtags, brands))
        self.unique_events += 1

    def _fold(self) -> None:
        counts, minutes, kinds = self._counts, self._minutes, self._kinds
        if minutes:
            counts.update(zip(repeat("platform"), self._platforms, minutes, kinds, strict=False))
            counts.update(zip(repeat("author"), self._authors, minutes, kinds, strict=False))
            counts.update(zip(repeat("post"), self._posts, minutes, kinds, strict=False))
            if "" in self._posts:
                for minute in set(minutes):
                    for kind in set(kinds):
                        counts.pop(("post", "", minute, kind), None)
            for column in (minutes, kinds, self._platforms, self._authors, self._posts):
                column.clear()
        # Tags repeat (events on one post share its tuples): group first, at C speed.
        for (minute, kind, hashtags, brands), n in Counter(self._tagged).items():
            for tag in hashtags:
                counts[("hashtag", tag, minute, kind)] += n
            for brand in brands:
                counts[("brand", brand, minute, kind)] += n
        self._tagged.clear()

    @property
    def counts(self) -> dict[CountKey, int]:
        self._fold()
        return self._counts

    @property
    def messages(self) -> int:
        return self.unique_events + self.duplicates + self.malformed

    def by_kind(self) -> dict[str, int]:
        """Unique events per kind (every event counts once under its platform)."""
        out: dict[str, int] = {}
        for (dimension, _key, _minute, kind), n in self.counts.items():
            if dimension == "platform":
                out[kind] = out.get(kind, 0) + n
        return dict(sorted(out.items()))

    def minute_totals(self, dimension: str, key: str) -> dict[int, int]:
        """minute start (epoch seconds) -> unique events of all kinds, for one (dimension, key)."""
        out: dict[int, int] = {}
        for (d, k, minute, _kind), n in self.counts.items():
            if d == dimension and k == key:
                out[minute] = out.get(minute, 0) + n
        return dict(sorted(out.items()))

    def engagement_rows(self) -> list[dict[str, Any]]:
        """Rows shaped like the `engagement_by_minute` view (minute as epoch seconds), sorted."""
        rows: dict[tuple[str, str, int], dict[str, Any]] = {}
        for (dimension, key, minute, kind), n in self.counts.items():
            row = rows.get((dimension, key, minute))
            if row is None:
                row = {"dimension": dimension, "key": key, "minute": minute}
                row.update(dict.fromkeys(_PLURAL.values(), 0))
                row["total"] = 0
                rows[(dimension, key, minute)] = row
            if kind in _PLURAL:
                row[_PLURAL[kind]] += n
            row["total"] += n
        return [rows[k] for k in sorted(rows)]

    def to_json(self) -> bytes:
        counts = [{"dimension": d, "key": k, "minute": format_time_ms(m * 1000), "kind": kind, "count": n}
                  for (d, k, m, kind), n in sorted(self.counts.items())]
        return orjson.dumps({
            "format": TRUTH_FORMAT,
            "config": self.config,
            "totals": {"messages": self.messages, "unique_events": self.unique_events,
                       "duplicates": self.duplicates, "malformed": self.malformed, "late": self.late,
                       "by_kind": self.by_kind()},
            "spikes": [s.to_dict() for s in self.spikes],
            "counts": counts,
        })

    @classmethod
    def from_json(cls, data: bytes | str) -> GroundTruth:
        """Read what `to_json` wrote."""
        doc = orjson.loads(data)
        if not isinstance(doc, dict) or doc.get("format") != TRUTH_FORMAT:
            raise ValueError(f"not a ground-truth document (expected format {TRUTH_FORMAT!r})")
        totals = doc["totals"]
        truth = cls(unique_events=totals["unique_events"], duplicates=totals["duplicates"],
                    malformed=totals["malformed"], late=totals["late"], config=doc.get("config", {}))
        for row in doc["counts"]:
            minute = int(datetime.fromisoformat(row["minute"]).timestamp())
            truth._counts[(row["dimension"], row["key"], minute, row["kind"])] = row["count"]
        truth.spikes = [InjectedSpike(s["dimension"], s["key"], s["start_ms"], s["end_ms"], s["kind"])
                        for s in doc["spikes"]]
        return truth


def simulate(config: SimulationConfig, truth: GroundTruth | None = None) -> Iterator[SimulatedMessage]:
    """Yield the simulated messages in emit order; fill `truth` (if given) as they are emitted."""
    return _Simulation(config, truth).run()


# ------------------------------------------------------------------------------------- internals
def _config_summary(config: SimulationConfig) -> dict[str, Any]:
    return {
        "seed": config.seed, "rate": config.rate, "duration_s": config.duration_s,
        "start": format_time_ms(config.start_ms), "start_ms": config.start_ms,
        "platforms": list(config.platforms), "brands": list(config.brands),
        "duplicate_ratio": config.duplicate_ratio, "late_ratio": config.late_ratio,
        "malformed_ratio": config.malformed_ratio, "viral_cascades": config.viral_cascades,
        "diurnal": config.diurnal, "max_events": config.max_events,
        "engagement_inherits_tags": config.engagement_inherits_tags,
    }


def _table(weights: tuple[tuple[str, int], ...]) -> list[str]:
    """A lookup table: a uniform index into it picks a kind with the given per-mille weights."""
    out: list[str] = []
    for kind, w in weights:
        out.extend([kind] * w)
    return out


def _mentions_brand(text: str, brand_res: list[tuple[str, re.Pattern[str]]]) -> list[str]:
    return [b for b, rx in brand_res if rx.search(text)]


def _tags(text: str) -> tuple[str, ...]:
    return tuple(dict.fromkeys(h.lower() for h in HASHTAG_RE.findall(text)))


class _TextBank:
    """Pre-built text fragments with the hashtags and brands each one carries."""

    def __init__(self, rng: random.Random, brands: tuple[str, ...], handles: list[str]) -> None:
        brand_res = [(b, re.compile(rf"(?<![0-9a-z]){re.escape(b)}(?![0-9a-z])")) for b in brands]

        def clean(texts: tuple[str, ...]) -> list[Fragment]:
            # Fragments meant to carry no brand must not name one by accident (e.g. a brand "art").
            return [(t, _tags(t), ()) for t in texts if not _mentions_brand(t.lower(), brand_res)]

        self.hashtags = [h for h in _HASHTAGS if not any(b in h.lower() for b in brands)] or ["news"]
        self.handles = handles
        post_en, post_foreign, comments = clean(_POST_EN), clean(_POST_FOREIGN), clean(_COMMENT_BODIES)
        hosts = [h for h in _URL_HOSTS if not any(b in h for b in brands)] or ["example.invalid"]
        paths = [p for p in _URL_PATHS if not any(b in p for b in brands)] or ["x"]
        self.urls = [f"https://{rng.choice(hosts)}/{rng.choice(paths)}/{rng.randrange(10**5, 10**8)}"
                     for _ in range(256)]

        def branded(templates: tuple[str, ...], n: int, only: str = "") -> list[Fragment]:
            out: list[Fragment] = []
            for _ in range(n):
                brand = only or rng.choice(brands)
                shown = rng.choice((brand.capitalize(), brand.capitalize(), brand, brand.upper()))
                text = rng.choice(templates).replace("{B}", shown)
                if _mentions_brand(text.lower(), brand_res) == [brand]:
                    out.append((text, _tags(text), (brand,)))
            return out or [(f"{brand.capitalize()}.", (), (brand,))]

        brand_bodies = branded(_BRAND_TEMPLATES, 400) if brands else []
        # Post bodies: ~82% English, ~8% other languages, ~10% naming a brand.
        self.post_bodies: list[Fragment] = []
        for _ in range(2000):
            u = rng.random()
            pool = brand_bodies if u < 0.10 and brand_bodies else post_foreign if u < 0.18 else post_en
            self.post_bodies.append(rng.choice(pool))
        # Comment bodies: short reactions, some longer takes, a few naming a brand.
        self.comment_bodies: list[Fragment] = []
        for _ in range(2000):
            u = rng.random()
            pool = brand_bodies if u < 0.04 and brand_bodies else post_en if u < 0.25 else comments
            self.comment_bodies.append(rng.choice(pool))
        self.surge_bodies = {b: branded(_SURGE_TEMPLATES, 120, b) for b in brands}
        self.post_tails = [self._tail(rng, brands, 0.35, 0.30, 0.06, 0.15) for _ in range(1500)]
        self.comment_tails = [self._tail(rng, brands, 0.70, 0.10, 0.01, 0.17) for _ in range(1500)]
        self.surge_tails: list[Fragment] = []
        for _ in range(500):
            parts = [f" #{t}" for t in rng.sample(_SURGE_HASHTAGS, rng.randrange(0, 3))]
            if rng.random() < 0.3:
                parts.append(rng.choice((" 😡", " 👎", " 🤬", " 😤")))
            text = "".join(parts)
            self.surge_tails.append((text, _tags(text), ()))

    def _tail(self, rng: random.Random, brands: tuple[str, ...], p_empty: float, p_tags: float,
              p_brand_tag: float, p_emoji: float) -> Fragment:
        """A text ending: nothing, hashtags, a brand hashtag, emoji, or (the remainder) a URL."""
        u = rng.random()
        if u < p_empty:
            return ("", (), ())
        if u < p_empty + p_tags:
            tags = rng.sample(self.hashtags, rng.choice((1, 1, 2, 2, 3)))
            text = "".join(f" #{t}" for t in tags)
            if rng.random() < 0.3:
                text += rng.choice(_EMOJI_TAILS)
            return (text, _tags(text), ())
        if u < p_empty + p_tags + p_brand_tag and brands:
            brand = rng.choice(brands)
            tags = [brand, *rng.sample(self.hashtags, rng.randrange(0, 2))]
            rng.shuffle(tags)
            text = "".join(f" #{t}" for t in tags)
            return (text, _tags(text), (brand,))
        if u < p_empty + p_tags + p_brand_tag + p_emoji:
            return (rng.choice(_EMOJI_TAILS) * rng.choice((1, 1, 2, 3)), (), ())
        text = " " + rng.choice(self.urls)
        if rng.random() < 0.5:
            text = " via @" + rng.choice(self.handles) + text
        return (text, (), ())


def _handle(rand: Callable[[], float], brands: tuple[str, ...]) -> str:
    syl, n_syl, suffixes = _SYLLABLES, len(_SYLLABLES), _HANDLE_SUFFIXES
    while True:
        h = syl[int(rand() * n_syl)] + syl[int(rand() * n_syl)]
        if rand() < 0.3:
            h += syl[int(rand() * n_syl)]
        h += suffixes[int(rand() * len(suffixes))]
        if rand() < 0.4:
            h += str(1 + int(rand() * 999))
        if not any(b in h for b in brands):
            return h


def _tail_actor(short: str, i: int) -> dict[str, Any]:
    """Actor number `i` of a platform beyond the pool built up front: the same every time (derived
    from the index, not drawn), with Pareto followers like the pool's and rarely verified."""
    h = zlib.crc32(f"{short}-u{i}".encode())
    u = ((h & 0xFFFF) + 0.5) / 65536.0
    followers = min(150_000_000, int(50 * (u ** (-1 / 0.9) - 1)))
    return {"id": f"{short}-u{i}", "handle": f"{short}user{i}", "followers": followers,
            "verified": followers > 10_000 and (h >> 16) % 10 == 0}


class _Cascade:
    """One injected surge: a rate profile over event time plus what its events look like."""

    __slots__ = ("author", "base", "comments", "created", "dimension", "end", "key", "kind", "lead", "mix",
                 "peak", "plateau_end", "platform", "post", "posts", "ramp_end", "start", "tag")

    def __init__(self, kind: str, dimension: str, key: str, start: float, duration: float, lead: float,
                 base: float, peak: float, mix: list[str]) -> None:
        self.kind, self.dimension, self.key = kind, dimension, key
        self.start, self.end, self.lead = start, start + duration, lead
        self.ramp_end = start + 0.4 * duration
        self.plateau_end = start + 0.7 * duration
        self.base, self.peak, self.mix = base, peak, mix
        self.created = False
        self.post: PostRec | None = None
        self.posts: list[PostRec] = []         # bounded: the cascade's own recent posts
        self.comments: list[CommentRec] = []   # bounded: comments on the cascade's post
        self.tag = ""
        self.platform = ""
        self.author: dict[str, Any] = {}

    def rate(self, t: float) -> float:
        """Events per second at event time t (ms)."""
        if t < self.start:
            return self.base if t >= self.start - self.lead else 0.0
        if t < self.ramp_end:   # accelerating: exponential growth towards the peak
            x = (t - self.start) / (self.ramp_end - self.start)
            return self.base + (self.peak - self.base) * math.expm1(4.0 * x) / math.expm1(4.0)
        if t < self.plateau_end:
            return self.peak
        if t < self.end:
            x = (self.end - t) / (self.end - self.plateau_end)
            return self.base + (self.peak - self.base) * x * x
        return self.base if t < self.end + self.lead else 0.0


def _ring_add(ring: list[Any], item: Any, size: int, counter: int) -> None:
    if len(ring) < size:
        ring.append(item)
    else:
        ring[counter % size] = item


class _Simulation:
    def __init__(self, config: SimulationConfig, truth: GroundTruth | None) -> None:
        self.config = config
        self.truth = truth
        self.rng = rng = random.Random(config.seed)
        self.rand = rng.random
        platforms = config.platforms
        self.short = {p: _PLATFORM_SHORT.get(p, p) for p in platforms}
        self.letters = {p: {k: f"{self.short[p]}-{letter}" for k, letter in _KIND_LETTER.items()}
                        for p in platforms}
        weights = [_PLATFORM_WEIGHTS.get(p, 5) for p in platforms]
        self.platform_table: list[str] = []
        for p, w in zip(platforms, weights, strict=True):
            self.platform_table.extend([p] * max(1, round(1000 * w / sum(weights))))
        self.votes_ok = {p: p in _VOTE_PLATFORMS for p in platforms}
        # Actors: Pareto followers; the big accounts are mostly verified.
        self.actors: dict[str, list[dict[str, Any]]] = {}
        handles: list[str] = []
        for p in platforms:
            pool = []
            for i in range(min(DEFAULT_ACTORS_PER_PLATFORM, config.actors_per_platform)):
                followers = min(150_000_000, int(50 * (rng.paretovariate(0.9) - 1)))
                p_verified = 0.7 if followers > 100_000 else 0.1 if followers > 10_000 else 0.003
                handle = _handle(rng.random, config.brands)
                handles.append(handle)
                pool.append({"id": f"{self.short[p]}-u{i}", "handle": handle, "followers": followers,
                             "verified": rng.random() < p_verified})
            self.actors[p] = pool
        self.bank = _TextBank(rng, config.brands, handles[:2000])
        self.kind_table = _table(_KIND_MIX)
        self.posts: list[PostRec] = []
        self.n_posts = 0
        self.targets: list[PostRec] = []
        self.n_targets = 0
        self.comments: list[CommentRec] = []
        self.n_comments = 0
        self.next_id = 1
        self.next_bad = 1
        self.cascades = self._plan_cascades()

    # -------------------------------------------------------------------------- planning
    def _new_id(self, platform: str, kind: str) -> str:
        n = self.next_id
        self.next_id = n + 1
        return f"{self.letters[platform][kind]}{n:x}"

    def _plan_cascades(self) -> list[_Cascade]:
        config, rng = self.config, self.rng
        n = config.viral_cascades
        kinds = ["viral_post", "negative_surge", "trending_hashtag"] if config.brands else \
            ["viral_post", "trending_hashtag"]
        dur_ms = config.end_ms - config.start_ms
        duration = min(300_000.0, max(0.2 * dur_ms, min(10_000.0, 0.5 * dur_ms)))
        out: list[_Cascade] = []
        for i in range(n):
            kind = kinds[i % len(kinds)]
            lead = duration if kind == "viral_post" else 0.0
            lo = config.start_ms + min(lead, max(0.0, dur_ms - duration))
            hi = max(lo, config.end_ms - duration)
            slot = (hi - lo) / n
            start = float(lo + slot * (i + 0.5 + rng.uniform(-0.15, 0.15)))
            end = min(start + duration, float(config.end_ms))
            if kind == "viral_post":
                platform = rng.choice(self.platform_table)
                author = max(self.actors[platform][:200], key=lambda a: int(a["followers"]))
                post_id = self._new_id(platform, "post")
                c = _Cascade(kind, "post", post_id, start, duration, lead, 0.004 * config.rate,
                             0.25 * config.rate, _table(_VIRAL_MIX))
                c.platform, c.author = platform, author
            elif kind == "negative_surge":
                brand = rng.choice(config.brands)
                c = _Cascade(kind, "brand", brand, start, duration, 0.0, 0.0, 0.3 * config.rate,
                             _table(_SURGE_MIX))
            else:
                tag = rng.choice(self.bank.hashtags)
                c = _Cascade(kind, "hashtag", tag.lower(), start, duration, 0.0, 0.0, 0.2 * config.rate,
                             _table(_TRENDING_MIX))
                c.tag = tag
            out.append(c)
            if self.truth is not None:
                self.truth.spikes.append(InjectedSpike(c.dimension, c.key, round(start), round(end), kind))
        return out

    # -------------------------------------------------------------------------- targets
    def _pick_target(self) -> PostRec:
        rand = self.rand
        targets = self.targets
        if targets and rand() < _COPY_TARGET_P:
            target = targets[int(rand() * len(targets))]
        else:
            posts = self.posts
            n = len(posts)
            back = int(n * rand() ** 3)          # 0 = newest
            target = posts[(self.n_posts - 1 - back) % n]
        _ring_add(targets, target, _RECENT_TARGETS, self.n_targets)
        self.n_targets += 1
        return target

    def _actor(self, platform: str) -> dict[str, Any]:
        i = int(self.config.actors_per_platform * self.rand() ** 2.5)
        pool = self.actors[platform]
        return pool[i] if i < len(pool) else _tail_actor(self.short[platform], i)

    # -------------------------------------------------------------------------- events
    def _text(self, bodies: list[Fragment], tails: list[Fragment]) -> Fragment:
        rand = self.rand
        body = bodies[int(rand() * len(bodies))]
        tail = tails[int(rand() * len(tails))]
        if not tail[0]:
            return body
        tags = tuple(dict.fromkeys(body[1] + tail[1])) if body[1] and tail[1] else body[1] or tail[1]
        brands = tuple(dict.fromkeys(body[2] + tail[2])) if body[2] and tail[2] else body[2] or tail[2]
        return (body[0] + tail[0], tags, brands)

    def _post(self, ts: str, platform: str, text: Fragment, actor: dict[str, Any],
              post_id: str | None = None) -> Event:
        pid = post_id or self._new_id(platform, "post")
        obj: dict[str, Any] = {"platform": platform, "id": pid, "kind": "post", "occurred_at": ts,
                               "actor": actor, "text": text[0]}
        if self.rand() < 0.2:
            obj["url"] = self.bank.urls[int(self.rand() * len(self.bank.urls))]
        rec: PostRec = (pid, platform, text[1], text[2])
        return (obj, "post", platform, actor["id"], pid, text[1], text[2], rec, None)

    def _comment(self, ts: str, target: PostRec, text: Fragment) -> Event:
        platform = target[1]
        actor = self._actor(platform)
        cid = self._new_id(platform, "comment")
        obj = {"platform": platform, "id": cid, "kind": "comment", "occurred_at": ts, "actor": actor,
               "target_id": target[0], "parent_id": target[0], "text": text[0]}
        return (obj, "comment", platform, actor["id"], target[0], text[1], text[2], None, (cid, target))

    def _reply(self, ts: str, parent: CommentRec, text: Fragment) -> Event:
        target = parent[1]
        platform = target[1]
        actor = self._actor(platform)
        rid = self._new_id(platform, "reply")
        obj = {"platform": platform, "id": rid, "kind": "reply", "occurred_at": ts, "actor": actor,
               "target_id": target[0], "parent_id": parent[0], "text": text[0]}
        return (obj, "reply", platform, actor["id"], target[0], text[1], text[2], None, None)

    def _mention(self, ts: str, platform: str, text: Fragment) -> Event:
        actor = self._actor(platform)
        handle = self.bank.handles[int(self.rand() * len(self.bank.handles))]
        obj = {"platform": platform, "id": self._new_id(platform, "mention"), "kind": "mention",
               "occurred_at": ts, "actor": actor, "text": f"@{handle} {text[0]}"}
        return (obj, "mention", platform, actor["id"], "", text[1], text[2], None, None)

    def _engage(self, ts: str, kind: str, target: PostRec) -> Event:
        platform = target[1]
        if kind == "vote" and not self.votes_ok[platform]:
            kind = "like"
        actor = self._actor(platform)
        obj = {"platform": platform, "id": self._new_id(platform, kind), "kind": kind, "occurred_at": ts,
               "actor": actor, "target_id": target[0]}
        if self.config.engagement_inherits_tags:
            return (obj, kind, platform, actor["id"], target[0], target[2], target[3], None, None)
        return (obj, kind, platform, actor["id"], target[0], (), (), None, None)

    def _base_event(self, ts: str, kind: str) -> Event:
        """An event of ordinary traffic (the hot engagement path is inlined in `run`)."""
        rand = self.rand
        if kind in _ENGAGEMENT_KINDS:
            if len(self.posts) >= _WARMUP_POSTS:
                return self._engage(ts, kind, self._pick_target())
            kind = "post"
        if kind == "reply":
            if self.comments:
                parent = self.comments[int(rand() * len(self.comments))]
                return self._reply(ts, parent, self._text(self.bank.comment_bodies, self.bank.comment_tails))
            kind = "comment"
        if kind == "comment":
            if self.posts:
                return self._comment(ts, self._pick_target(),
                                     self._text(self.bank.comment_bodies, self.bank.comment_tails))
            kind = "post"
        platform = self.platform_table[int(rand() * len(self.platform_table))]
        if kind == "post":
            return self._post(ts, platform, self._text(self.bank.post_bodies, self.bank.post_tails),
                              self._actor(platform))
        if kind == "mention":
            return self._mention(ts, platform, self._text(self.bank.post_bodies, self.bank.post_tails))
        actor = self._actor(platform)   # follow: no target, no text
        obj = {"platform": platform, "id": self._new_id(platform, "follow"), "kind": "follow",
               "occurred_at": ts, "actor": actor}
        return (obj, "follow", platform, actor["id"], "", (), (), None, None)

    def _cascade_event(self, c: _Cascade, ts: str) -> tuple[Event, list[Any] | None]:
        """One event of a cascade, and the cascade ring it joins once emitted (if any)."""
        rand = self.rand
        bank = self.bank
        if c.kind == "viral_post":
            if c.post is None:
                ev = self._post(ts, c.platform, self._text(bank.post_bodies, bank.post_tails), c.author, c.key)
                c.post = ev[7]
                return ev, None
            kind = c.mix[int(rand() * len(c.mix))]
            if kind == "reply" and c.comments:
                parent = c.comments[int(rand() * len(c.comments))]
                return self._reply(ts, parent, self._text(bank.comment_bodies, bank.comment_tails)), None
            if kind in ("reply", "comment"):
                return self._comment(ts, c.post, self._text(bank.comment_bodies, bank.comment_tails)), c.comments
            return self._engage(ts, kind, c.post), None
        kind = c.mix[int(rand() * len(c.mix))]
        if kind in _ENGAGEMENT_KINDS:
            if c.posts:
                return self._engage(ts, kind, c.posts[int(rand() * len(c.posts))]), None
            kind = "post"
        text: Fragment
        if c.kind == "negative_surge":
            bodies = bank.surge_bodies[c.key]
            body = bodies[int(rand() * len(bodies))]
            tail = bank.surge_tails[int(rand() * len(bank.surge_tails))]
            text = (body[0] + tail[0], tuple(dict.fromkeys(body[1] + tail[1])), body[2])
        else:   # trending_hashtag
            body = bank.post_bodies[int(rand() * len(bank.post_bodies))]
            text = (f"{body[0]} #{c.tag}", tuple(dict.fromkeys((*body[1], c.key))), body[2])
        if kind == "comment" and (c.posts or self.posts):
            target = c.posts[int(rand() * len(c.posts))] if c.posts else self._pick_target()
            return self._comment(ts, target, text), None
        platform = self.platform_table[int(rand() * len(self.platform_table))]
        if kind == "mention":
            return self._mention(ts, platform, text), None
        return self._post(ts, platform, text, self._actor(platform)), c.posts

    def _malformed(self, ts: str, occ: int) -> bytes:
        rand = self.rand
        platform = self.platform_table[int(rand() * len(self.platform_table))]
        bad_id = f"bad-{self.next_bad}"
        self.next_bad += 1
        actor = self._actor(platform)
        good: dict[str, Any] = {"platform": platform, "id": bad_id, "kind": "like", "occurred_at": ts,
                                "actor": actor, "target_id": f"{self.short[platform]}-p0"}
        which = int(rand() * 7)
        if which == 0:      # bad JSON: truncated
            raw = orjson.dumps(good)
            return raw[: len(raw) // 2]
        if which == 1:      # unknown kind
            good["kind"] = self.rng.choice(("retweet", "reaction", "clap", "", "LIKE"))
        elif which == 2:    # missing actor.id
            good["actor"] = self.rng.choice(({k: v for k, v in actor.items() if k != "id"},
                                             {**actor, "id": ""}, {**actor, "id": None}))
        elif which == 3:    # bad timestamp
            good["occurred_at"] = self.rng.choice((
                ts[:19], ts.replace("T", " ")[:19], "21/11/2026 10:00", "not a timestamp", occ,
                ts[:11] + "25:61:00Z"))
        elif which == 4:    # engagement without target_id
            del good["target_id"]
        elif which == 5:    # not an object
            return self.rng.choice((b"[1, 2, 3]", b'"hello"', b"null", b"42", orjson.dumps([good])))
        else:               # invalid UTF-8 inside otherwise fine JSON
            good["kind"] = "post"
            del good["target_id"]
            good["text"] = "caf\x00"
            return orjson.dumps(good).replace(b"\\u0000", b"\xe9 cr\xe8me")
        return orjson.dumps(good)

    # -------------------------------------------------------------------------- main loop
    def _count(self, ev: Event, occ_ms: int) -> None:
        if self.truth is not None:
            self.truth.record(occ_ms // _MINUTE_MS * 60, ev[1], ev[2], ev[3], ev[4], ev[5], ev[6])

    def _register(self, ev: Event, sink: list[Any] | None) -> None:
        """An emitted post or comment becomes something later events may act on: ordinary ones for
        everyone, a cascade's own ones (`sink`) only for that cascade."""
        if sink is not None:
            item = ev[7] or ev[8]
            if item is not None:
                _ring_add(sink, item, _CASCADE_RING, int(self.rand() * _CASCADE_RING))
        elif ev[7] is not None:
            _ring_add(self.posts, ev[7], _RECENT_POSTS, self.n_posts)
            self.n_posts += 1
        elif ev[8] is not None:
            _ring_add(self.comments, ev[8], _RECENT_COMMENTS, self.n_comments)
            self.n_comments += 1

    def run(self) -> Iterator[SimulatedMessage]:
        config, truth, rand, log = self.config, self.truth, self.rand, math.log
        dumps = orjson.dumps
        Message, new_message = SimulatedMessage, _new_message
        counting = truth is not None
        tr = truth if truth is not None else GroundTruth()
        tr.config = _config_summary(config)
        rec_minute, rec_kind, rec_platform = tr._minutes.append, tr._kinds.append, tr._platforms.append
        rec_author, rec_post, rec_tagged = tr._authors.append, tr._posts.append, tr._tagged.append
        late_ratio, dup_ratio, bad_ratio = config.late_ratio, config.duplicate_ratio, config.malformed_ratio
        inherit = config.engagement_inherits_tags
        end = float(config.end_ms)
        max_events = config.max_events if config.max_events is not None else -1
        cascades = self.cascades
        kind_table, n_kinds = self.kind_table, len(self.kind_table)
        posts, targets, letters, votes_ok = self.posts, self.targets, self.letters, self.votes_ok
        heap: list[_Delayed] = []
        seq = 0
        generated = 0
        t = float(config.start_ms)
        seg_end = t
        base_rate = 0.0
        total_rate = 0.0
        active: list[tuple[float, _Cascade]] = []
        ts_second = -1
        ts_prefix = ""
        while generated != max_events:
            if t >= seg_end:
                # Re-evaluate the piecewise-constant rates for the next segment.
                seg_end = t + _SEGMENT_MS
                if len(tr._minutes) > 250_000:
                    tr._fold()   # bound the recorded-but-unfolded columns
                base_rate = config.rate
                if config.diurnal:
                    hour = (t / 3_600_000.0) % 24.0
                    base_rate *= 1.0 + _DIURNAL_AMPLITUDE * math.cos(
                        2 * math.pi * (hour - _DIURNAL_PEAK_HOUR) / 24.0)
                total_rate = base_rate
                active = []
                for c in cascades:
                    r = c.rate(t)
                    if r > 0:
                        total_rate += r
                        active.append((total_rate, c))
            step = -log(1.0 - rand()) * 1000.0 / total_rate
            if t + step > seg_end:   # memoryless: restart the clock at the segment boundary
                t = seg_end
                if t >= end:
                    break
                continue
            t += step
            if t >= end:
                break
            occ = int(t)
            while heap and heap[0][0] <= occ:
                yield self._release(heappop(heap))
            second = occ // 1000
            if second != ts_second:
                ts_second = second
                ts_prefix = format_time_ms(second * 1000)[:-4]
            ts = f"{ts_prefix}{occ % 1000:03d}Z"
            if bad_ratio and rand() < bad_ratio:
                tr.malformed += 1
                yield Message(self._malformed(ts, occ), occ, False, False)
            generated += 1
            u = rand() * total_rate
            if u < base_rate:
                kind = kind_table[int(rand() * n_kinds)]
                if kind in _ENGAGEMENT_KINDS and len(posts) >= _WARMUP_POSTS:
                    # Hot path (~85% of events), inlined: a like, share, view or vote on a recent post.
                    if targets and rand() < _COPY_TARGET_P:
                        target = targets[int(rand() * len(targets))]
                    else:
                        back = int(len(posts) * rand() ** 3)     # 0 = newest
                        target = posts[(self.n_posts - 1 - back) % len(posts)]
                    if len(targets) < _RECENT_TARGETS:
                        targets.append(target)
                    else:
                        targets[self.n_targets % _RECENT_TARGETS] = target
                    self.n_targets += 1
                    platform = target[1]
                    if kind == "vote" and not votes_ok[platform]:
                        kind = "like"
                    actor = self._actor(platform)
                    n = self.next_id
                    self.next_id = n + 1
                    post_id = target[0]
                    value = dumps({"platform": platform, "id": f"{letters[platform][kind]}{n:x}", "kind": kind,
                                   "occurred_at": ts, "actor": actor, "target_id": post_id})
                    late = late_ratio and rand() < late_ratio
                    if late:
                        emit = occ + _LATE_MIN_MS + int(rand() * (_LATE_MAX_MS - _LATE_MIN_MS))
                        seq += 1
                        ev: Event = ({}, kind, platform, actor["id"], post_id, target[2] if inherit else (),
                                     target[3] if inherit else (), None, None)
                        heappush(heap, (emit, seq, value, ev, occ, None))
                    else:
                        emit = occ
                        if counting:   # GroundTruth.record, inlined
                            minute = occ // _MINUTE_MS * 60
                            rec_minute(minute)
                            rec_kind(kind)
                            rec_platform(platform)
                            rec_author(actor["id"])
                            rec_post(post_id)
                            if inherit and (target[2] or target[3]):
                                rec_tagged((minute, kind, target[2], target[3]))
                            tr.unique_events += 1
                        yield new_message(Message, (value, occ, True, False, False))
                    if dup_ratio and rand() < dup_ratio:
                        seq += 1
                        heappush(heap, (emit + int(rand() * (_DUPLICATE_MAX_DELAY_MS + 1)), seq, value, None, occ,
                                        None))
                    continue
                forced_on_time = False
                sink: list[Any] | None = None
                ev = self._base_event(ts, kind)
            else:
                cascade = next((c for cum, c in active if u < cum), active[-1][1])
                forced_on_time = not cascade.created   # the viral post itself is never late
                cascade.created = True
                ev, sink = self._cascade_event(cascade, ts)
            value = dumps(ev[0])
            if late_ratio and not forced_on_time and rand() < late_ratio:
                emit = occ + _LATE_MIN_MS + int(rand() * (_LATE_MAX_MS - _LATE_MIN_MS))
                seq += 1
                heappush(heap, (emit, seq, value, ev, occ, sink))
            else:
                emit = occ
                if counting:
                    self._count(ev, occ)
                self._register(ev, sink)
                yield new_message(Message, (value, occ, True, False, False))
            if dup_ratio and rand() < dup_ratio:
                seq += 1
                heappush(heap, (emit + int(rand() * (_DUPLICATE_MAX_DELAY_MS + 1)), seq, value, None, occ, None))
        while heap:
            yield self._release(heappop(heap))

    def _release(self, item: _Delayed) -> SimulatedMessage:
        emit, _seq, value, ev, occ, sink = item
        truth = self.truth
        if ev is None:
            if truth is not None:
                truth.duplicates += 1
            return SimulatedMessage(value, emit, True, True)
        if truth is not None:
            self._count(ev, occ)
            truth.late += 1
        self._register(ev, sink)
        return SimulatedMessage(value, emit, True, False, late=True)


assert set(_KIND_LETTER) == KINDS
