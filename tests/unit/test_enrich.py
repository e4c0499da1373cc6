"""Enrichment: text extraction, language, sentiment, watchlist, tiers and the Enricher (pure logic)."""

from __future__ import annotations

import random
import unicodedata
from collections import Counter
from pathlib import Path
from typing import Any

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

from schemas.event import ENGAGEMENT_KINDS, CanonicalEvent
from streams.enrich import Enricher, LanguageDetector, SentimentScorer, Watchlist
from streams.enrich.text import (
    extract_entities,
    extract_hashtags,
    extract_mentions,
    extract_urls,
    normalize_url,
)
from streams.enrich.tier import TIERS, author_tier
from streams.enrich.watchlist import BrandTerms

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE_WATCHLIST = ROOT / "deploy" / "watchlist.example.json"


# ------------------------------------------------------------------------------------- fixtures
@pytest.fixture(scope="module")
def detector() -> LanguageDetector:
    return LanguageDetector()          # loads the model once for the module (~1.3 s)


@pytest.fixture(scope="module")
def scorer() -> SentimentScorer:
    return SentimentScorer()


@pytest.fixture(scope="module")
def plain_scorer() -> SentimentScorer:
    return SentimentScorer(social_lexicon=False)


ACME: dict[str, Any] = {"brands": {
    "acme": {"keywords": ["acme", "acme rocket", "roadrunner trap"], "handles": ["acmecorp"],
             "hashtags": ["acme", "acmerockets"]},
    "globex": {"keywords": ["Globex Corporation", "globex"], "handles": ["@GlobexHQ"], "hashtags": ["#globex"]},
    "hooli": {"keywords": ["hooli"], "hashtags": ["nucleus"]},
}}


@pytest.fixture(scope="module")
def watchlist() -> Watchlist:
    return Watchlist.from_mapping(ACME)


def ev(kind: str = "post", text: str = "", **kw: Any) -> CanonicalEvent:
    return CanonicalEvent("twitter", kw.pop("id", "e1"), kind, 1_795_255_205_120, "u1", text=text, **kw)


class CountingLanguage:
    """Stub: no model; counts calls. (Not a subclass: the real one may be compiled, `make native`.)"""

    def __init__(self, answer: str = "en") -> None:
        self.calls: list[str] = []
        self.answer = answer

    def detect(self, text: str) -> str:
        self.calls.append(text)
        return self.answer


class CountingSentiment:
    """Stub: no VADER; counts calls."""

    def __init__(self, value: float = 0.5) -> None:
        self.calls: list[tuple[str, str]] = []
        self.value = value

    def score(self, text: str, lang: str = "") -> float:
        self.calls.append((text, lang))
        return self.value


def stub_enricher(wl: Watchlist | None = None) -> tuple[Enricher, CountingLanguage, CountingSentiment]:
    lang, sent = CountingLanguage(), CountingSentiment()
    return Enricher(wl if wl is not None else Watchlist.empty(), lang, sent), lang, sent


# ------------------------------------------------------------------------------------- hashtags
@pytest.mark.parametrize(("text", "want"), [
    ("Love #Python and #python and #PYTHON", ["python"]),
    ("#café au lait #日本 #España #fútbol", ["café", "日本", "españa", "fútbol"]),
    ("#हिन्दी दिवस #ภาษาไทย #عربي", ["हिन्दी", "ภาษาไทย", "عربي"]),
    ("We're #1! #2024 #100DaysOfCode #_ #__1 #a_b", ["100daysofcode", "a_b"]),
    ("C# and F# are fine, &#39; too, ##double, a#b", []),
    ("see http://x.com/#anchor and https://x.com/page#frag and www.x.org/#/route", []),
    ("#fun🔥 #wow! (#paren) #end.", ["fun", "wow", "paren", "end"]),
    ("#acme's new thing", ["acme"]),
    ("＃日本 fullwidth", ["日本"]),
    ("#Fußball", ["fußball"]),
    ("#", []),
    ("", []),
])
def test_hashtags(text: str, want: list[str]) -> None:
    assert extract_hashtags(text) == want


def test_hashtags_normalize_decomposed_accents() -> None:
    nfd = unicodedata.normalize("NFD", "#Café #café")
    assert extract_hashtags(nfd) == ["café"]
    assert unicodedata.is_normalized("NFC", extract_hashtags(nfd)[0])


def test_hashtags_keep_first_occurrence_order() -> None:
    assert extract_hashtags("#b #a #B #c #a") == ["b", "a", "c"]


# ------------------------------------------------------------------------------------- mentions
@pytest.mark.parametrize(("text", "want"), [
    ("hi @Alice and @bob_99, cc @ALICE", ["alice", "bob_99"]),
    ("mail a@b.com or first.last+tag@example.co.uk", []),
    (".@Acme why?", ["acme"]),
    ("thanks @bob. see you @carol!", ["bob", "carol"]),
    ("follow @alice.bsky.social and @bob@mastodon.social", ["alice.bsky.social", "bob@mastodon.social"]),
    ("read https://medium.com/@writer/post and medium.com/@other", []),
    ("meet @5 or @10", []),
    ("RT @news: big story", ["news"]),
    ("@@double and x@y", []),
    ("@josé ＠ユーザー", ["josé", "ユーザー"]),
    ("@acme's update", ["acme"]),
    ("@", []),
])
def test_mentions(text: str, want: list[str]) -> None:
    assert extract_mentions(text) == want


# ------------------------------------------------------------------------------------------ urls
@pytest.mark.parametrize(("text", "want"), [
    ("go to https://Example.COM/Path?a=1.", ["https://example.com/Path?a=1"]),
    ("(see www.foo.com/bar), ok", ["http://www.foo.com/bar"]),
    ("wiki https://en.wikipedia.org/wiki/Foo_(bar)) end", ["https://en.wikipedia.org/wiki/Foo_(bar)"]),
    ("https://x.com/a?utm_source=tw&id=7&UTM_Medium=s#top", ["https://x.com/a?id=7"]),
    ("https://x.com/a?utm_source=tw", ["https://x.com/a"]),
    ("HTTP://X.COM:80 and https://x.com:443/ and http://x.com:8080", ["http://x.com/", "https://x.com/",
                                                                    "http://x.com:8080/"]),
    ("dup https://x.com/a#one https://X.com/a#two https://x.com/a", ["https://x.com/a"]),
    ("🔥https://x.com/a🔥 'https://y.com/b' \"https://z.com/c\"", ["https://x.com/a", "https://y.com/b",
                                                                  "https://z.com/c"]),
    ("https://user@Host.com/p", ["https://user@host.com/p"]),
    ("broken http:// and https://[::1 and www. and www.x and ftp://x.com", []),
    ("really?! https://x.com/watch?v=abc!!!", ["https://x.com/watch?v=abc"]),
    ("no urls here, just a.b and example.com", []),
])
def test_urls(text: str, want: list[str]) -> None:
    assert extract_urls(text) == want


def test_normalize_url() -> None:
    assert normalize_url("WWW.Example.com") == "http://www.example.com/"
    assert normalize_url(" https://EXAMPLE.com./x?&a=1&&utm_x=2&b ") == "https://example.com/x?a=1&b"
    assert normalize_url("https://example.com/#frag") == "https://example.com/"
    assert normalize_url("mailto:a@b.com") is None
    assert normalize_url("at://did:plc:xyz/app.bsky.feed.post/1") is None
    assert normalize_url("https://") is None


def test_entities_in_one_text() -> None:
    text = ("Big news from @AcmeCorp 🚀 #Launch #acme: https://acme.example.com/r?utm_campaign=x#top "
            "(mail press@acme.example.com) #launch")
    assert extract_entities(text) == (["launch", "acme"], ["acmecorp"], ["https://acme.example.com/r"])
    assert extract_entities("") == ([], [], [])
    assert extract_entities("plain words only") == ([], [], [])


_TEXT_ALPHABET = st.sampled_from([*"ab #@:/.?=&_-()'1 ", "https://", "www.", "é", "日", "🔥", "\u0301", "utm_",
                                  "＃", "＠", "\n"])


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(_TEXT_ALPHABET, max_size=40).map("".join))
def test_extraction_properties(text: str) -> None:
    tags, mentions, urls = extract_entities(text)
    assert (tags, mentions, urls) == (extract_hashtags(text), extract_mentions(text), extract_urls(text))
    for lst in (tags, mentions, urls):
        assert len(lst) == len(set(lst))
    for tag in tags:
        assert tag == tag.lower() and "#" not in tag and tag.replace("_", "") and not tag.isdigit()
    for m in mentions:
        assert m == m.lower() and not m.startswith("@") and not m.isdigit()
    for u in urls:
        assert u.startswith(("http://", "https://")) and "#" not in u
        assert not any(p.lower().startswith("utm_") for p in u.partition("?")[2].split("&"))
        assert normalize_url(u) == u            # normalization is idempotent


# ------------------------------------------------------------------------------------- language
@pytest.mark.parametrize(("text", "want"), [
    ("Can't believe how fast this week went by", "en"),
    ("Is it just me or is the app super slow today?", "en"),
    ("Three hours on hold. THREE. smh", "en"),
    ("¡Qué día tan increíble! Mañana empieza el festival", "es"),
    ("No me gusta nada este cambio, la verdad", "es"),
    ("Franchement, c'est génial, merci à toute l'équipe", "fr"),
    ("Je ne suis pas du tout convaincu par cette annonce", "fr"),
    ("Das ist wirklich nicht gut, sehr enttäuschend", "de"),
    ("Wer schaut heute Abend das Spiel?", "de"),
    ("Que dia lindo hoje, bom demais", "pt"),
    ("Não gostei nada do atendimento, péssimo", "pt"),
    ("今日はいい天気ですね", "ja"),
    ("сегодня отличный день", "ru"),
])
def test_language_short_sentences(detector: LanguageDetector, text: str, want: str) -> None:
    assert detector.detect(text) == want


@pytest.mark.parametrize("text", [
    "", "lol", "So true 😂", "🔥🔥🔥", "@acme @globex #hooli https://x.com/a/b/c",
    "#MondayMotivation #coffee #travel #running", "12345 678 !!!", "日本",
])
def test_language_undetermined(detector: LanguageDetector, text: str) -> None:
    assert detector.detect(text) == "und"


def test_language_ignores_urls_mentions_hashtags(detector: LanguageDetector) -> None:
    noisy = "@jean_pierre #paris https://www.lemonde.fr/article/123 Quelle belle journée à Paris 😍 #soleil"
    assert detector.detect(noisy) == "fr"
    # Only two words of text once entities are gone: too little to say.
    assert detector.detect("@bob @carol #ThrowbackThursday #TBT https://x.com nice one") == "und"


def test_language_restriction_and_validation(detector: LanguageDetector) -> None:
    assert detector.languages is not None and "en" in detector.languages
    only = LanguageDetector(["de", "fr"], min_confidence=0.0)
    assert only.detect("this is clearly an english sentence here") in {"de", "fr"}
    assert detector.detect("this is clearly an english sentence here") == "en"   # other detector unaffected
    with pytest.raises(ValueError, match="xx"):
        LanguageDetector(["en", "xx"])
    with pytest.raises(ValueError, match="min_words"):
        LanguageDetector(min_words=0)


# ------------------------------------------------------------------------------------ sentiment
def test_sentiment_signs(scorer: SentimentScorer) -> None:
    assert scorer.score("I love this, best day ever!") > 0.5
    assert scorer.score("This is terrible, I hate it") < -0.5
    assert scorer.score("not good") < 0                     # negation
    assert scorer.score("this is not good at all") < 0
    assert scorer.score("not bad") > 0
    assert scorer.score("Acme is a scam, do not buy") < 0
    assert scorer.score("THIS IS GREAT!!!") > scorer.score("this is great") > 0   # caps and !!!
    assert scorer.score("Reading list for the weekend, suggestions?") == 0.0


@pytest.mark.parametrize(("text", "sign"), [
    ("😍", 1), ("😂", 1), ("🎉", 1), ("❤️", 1), ("❤", 1), ("🔥", 1), ("👍", 1), ("💯", 1),
    ("😡", -1), ("👎", -1), ("😢", -1), ("🤬", -1),
])
def test_sentiment_emoji_only(scorer: SentimentScorer, text: str, sign: int) -> None:
    assert scorer.score(text) * sign > 0


def test_sentiment_social_overlay(scorer: SentimentScorer, plain_scorer: SentimentScorer) -> None:
    # Plain VADER reads 🔥 as "fire" (negative) and "sick" as negative: a hype post scores negative.
    assert plain_scorer.score("That game last night was insane 🔥🔥") < 0
    assert scorer.score("That game last night was insane 🔥🔥") > 0
    # "this is sick 🔥🔥": ambiguous slang; only assert the overlay moves it up, not its sign.
    assert plain_scorer.score("this is sick 🔥🔥") < scorer.score("this is sick 🔥🔥")
    assert plain_scorer.score("😡") == 0.0 and scorer.score("😡") < 0
    assert scorer.score("Acme's new release is goated 🔥") > 0


def test_sentiment_negation_does_not_flip_emoji(scorer: SentimentScorer) -> None:
    assert scorer.score("Acme just lost a customer. Never again 😡") < 0
    assert scorer.score("I am not happy 😢") < 0


def test_sentiment_non_english_scores_emoji_only(scorer: SentimentScorer) -> None:
    assert scorer.score("Die Party war toll") < 0                # as English: "die" is very negative
    assert scorer.score("Die Party war toll", "de") == 0.0        # German: no emoji, no score
    assert scorer.score("Me encanta lo nuevo de Acme 😍", "es") == scorer.score("😍")
    assert scorer.score("Acme ist eine Katastrophe, nie wieder 😡", "de") < 0
    for english_or_unknown in ("en", "en-GB", "en_us", "und", "zxx", "qme", ""):
        assert scorer.score("not good", english_or_unknown) < 0


def test_sentiment_empty_and_cache() -> None:
    s = SentimentScorer(cache_size=8)
    assert s.score("") == 0.0
    assert s.cache_info().misses == 0                     # empty text never reaches the cache or VADER
    first = s.score("What a great day 😍")
    assert s.score("What a great day 😍") == first
    info = s.cache_info()
    assert (info.hits, info.misses) == (1, 1)
    for i in range(20):
        s.score(f"text number {i}")
    assert s.cache_info().currsize == 8                    # bounded


_VADER = SentimentIntensityAnalyzer()
_WORDS = st.sampled_from(["good", "bad", "not", "very", "the", "app", "is", "LOVE", "hate", "but", "no", "kind",
                          "of", ":)", ":(", "!!!", "?", "wow,", "meh.", "xyzzy", "isn't", "great!", "LOL", "sort"])


@settings(max_examples=300, deadline=None)
@given(st.lists(_WORDS, max_size=12).map(" ".join))
def test_sentiment_shortcuts_match_vader(plain_scorer: SentimentScorer, text: str) -> None:
    # ASCII, emoji-free text with VADER's own lexicon: the neutral short-cut and cache change nothing.
    assert plain_scorer.score(text) == _VADER.polarity_scores(text)["compound"]


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=60))
def test_sentiment_range(scorer: SentimentScorer, text: str) -> None:
    assert -1.0 <= scorer.score(text) <= 1.0
    assert -1.0 <= scorer.score(text, "fr") <= 1.0


# ------------------------------------------------------------------------------------ watchlist
@pytest.mark.parametrize(("text", "want"), [
    ("I love Acme", ["acme"]),
    ("Acme's new release", ["acme"]),
    ("ACME!!! why", ["acme"]),
    ("#acme is trending", ["acme"]),               # keyword right after '#'
    ("ping @acme please", ["acme"]),
    ("the acme-rocket launch", ["acme"]),
    ("visit acme.com today", ["acme"]),
    ("welcome to Acmeville", []),
    ("megaacme and acme2 and acme_support", []),
    ("caught in a Roadrunner Trap again", ["acme"]),
    ("roadrunner traps are not the keyword", []),
    ("globex corporation and hooli", ["globex", "hooli"]),
    ("hooli hooli HOOLI", ["hooli"]),
    ("", []),
])
def test_watchlist_keywords_on_word_boundaries(watchlist: Watchlist, text: str, want: list[str]) -> None:
    assert watchlist.match(text.lower(), [], []) == want


def test_watchlist_handles_and_hashtags(watchlist: Watchlist) -> None:
    assert watchlist.match("", ["acmerockets"], []) == ["acme"]
    assert watchlist.match("", ["nucleus", "globex"], []) == ["globex", "hooli"]
    assert watchlist.match("", [], ["acmecorp"]) == ["acme"]
    assert watchlist.match("", [], ["globexhq"]) == ["globex"]     # configured as "@GlobexHQ"
    assert watchlist.match("", ["unrelated"], ["someone"]) == []
    text = "Thanks @AcmeCorp for the #AcmeRockets demo"
    tags, mentions, _ = extract_entities(text)
    assert watchlist.match(text.lower(), tags, mentions) == ["acme"]


def test_watchlist_unicode_and_special_keywords() -> None:
    wl = Watchlist.from_mapping({"brands": {
        "sony": {"keywords": ["ソニー"]}, "cafe": {"keywords": ["Café Nero"]},
        "cpp": {"keywords": ["c++"]}, "dotnet": {"keywords": [".net"]},
    }})
    assert wl.match("ソニーの新製品", [], []) == ["sony"]                 # no spaces in Japanese
    assert wl.match(unicodedata.normalize("NFC", "café nero!"), [], []) == ["cafe"]
    assert wl.match("cafe nero", [], []) == []                          # no accent folding
    assert wl.match("café neroville", [], []) == []
    assert wl.match("i write c++ and .net", [], []) == ["cpp", "dotnet"]
    assert wl.match("asp.net core", [], []) == ["dotnet"]                # edge '.' needs no boundary


def test_watchlist_shared_terms_and_overlaps() -> None:
    wl = Watchlist.from_mapping({"brands": {
        "b": {"keywords": ["rocket"], "hashtags": ["space"]},
        "a": {"keywords": ["acme rocket", "rocket"], "hashtags": ["space"]},
    }})
    assert wl.brands == ("a", "b")
    assert wl.match("the acme rocket", [], []) == ["a", "b"]
    assert wl.match("", ["space"], []) == ["a", "b"]
    assert wl.terms("a") == BrandTerms(("acme rocket", "rocket"), (), ("space",))


def test_watchlist_normalizes_terms() -> None:
    wl = Watchlist.from_mapping({"brands": {"x": {"keywords": ["  Big   Brand ", "big brand"], "handles": ["@BigBrand"],
                                                  "hashtags": ["＃BigBrand", "#bigbrand"]}}})
    assert wl.terms("x") == BrandTerms(("big brand",), ("bigbrand",), ("bigbrand",))
    assert wl.match("love big brand", [], []) == ["x"]


def test_watchlist_empty() -> None:
    wl = Watchlist.empty()
    assert len(wl) == 0 and not wl and wl.brands == ()
    assert wl.match("acme anything", ["acme"], ["acme"]) == []
    assert Watchlist.from_mapping({"brands": {}}).match("x", [], []) == []


def test_example_watchlist_file() -> None:
    wl = Watchlist.from_file(EXAMPLE_WATCHLIST)
    assert {"acme", "globex", "initech", "umbrella", "hooli"} <= set(wl.brands)
    assert 6 <= len(wl) <= 12
    for brand in ("acme", "globex", "initech", "umbrella", "hooli"):   # the simulator writes names and #names
        assert wl.match(f"just switched to {brand}, it's great", [], []) == [brand]
        assert wl.match("", [brand], []) == [brand]
        assert wl.match(f"{brand.upper()}'s update".lower(), [], []) == [brand]


@pytest.mark.parametrize(("doc", "message"), [
    ([], "top level must be an object"),
    ({}, "missing the 'brands' object"),
    ({"brands": []}, "'brands' must be an object"),
    ({"brands": {}, "brand": {}}, "unknown top-level field 'brand'"),
    ({"brands": {"acme": ["acme"]}}, "brand 'acme': must be an object"),
    ({"brands": {"acme": {"keywords": "acme"}}}, "brand 'acme': field 'keywords' must be a list of strings, got str"),
    ({"brands": {"acme": {"keywords": ["acme", 3]}}}, "brand 'acme': field 'keywords' item 1 must be a string"),
    ({"brands": {"acme": {"handles": ["  "]}}}, "brand 'acme': field 'handles' item 0 is empty"),
    ({"brands": {"acme": {"keyword": ["acme"]}}}, "brand 'acme': unknown field 'keyword'"),
    ({"brands": {"acme": {}}}, "brand 'acme': no keywords, handles or hashtags"),
    ({"brands": {"acme": {"keywords": [], "_note": "x"}}}, "brand 'acme': no keywords"),
    ({"brands": {"acme": {"hashtags": ["acme rockets"]}}}, "brand 'acme': field 'hashtags' item 0 .* not a hashtag"),
    ({"brands": {"acme": {"hashtags": ["2024"]}}}, "brand 'acme': field 'hashtags' item 0"),
    ({"brands": {"acme": {"handles": ["acme corp"]}}}, "brand 'acme': field 'handles' item 0 .* not a handle"),
    ({"brands": {"acme": {"keywords": ["!!!"]}}}, "brand 'acme': field 'keywords' item 0 .* no letter or digit"),
    ({"brands": {"": {"keywords": ["x"]}}}, "brand name '' must be a non-empty string"),
    ({"brands": {" acme": {"keywords": ["x"]}}}, "brand name ' acme'"),
])
def test_watchlist_validation(doc: Any, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        Watchlist.from_mapping(doc)


def test_watchlist_comments_are_ignored() -> None:
    wl = Watchlist.from_mapping({"_comment": "hi", "brands": {"_disabled": {"bogus": 1},
                                                              "acme": {"_why": "x", "keywords": ["acme"]}}})
    assert wl.brands == ("acme",)


def test_watchlist_file_errors(tmp_path: Path) -> None:
    bad_json = tmp_path / "bad.json"
    bad_json.write_text("{not json")
    with pytest.raises(ValueError, match=r"bad\.json: invalid JSON"):
        Watchlist.from_file(bad_json)
    bad_shape = tmp_path / "shape.json"
    bad_shape.write_bytes(orjson.dumps({"brands": {"acme": {"hashtags": "acme"}}}))
    with pytest.raises(ValueError, match=r"shape\.json: watchlist brand 'acme': field 'hashtags'"):
        Watchlist.from_file(bad_shape)
    with pytest.raises(FileNotFoundError):
        Watchlist.from_file(tmp_path / "missing.json")
    good = tmp_path / "good.json"
    good.write_bytes(orjson.dumps(ACME))
    assert Watchlist.from_file(str(good)).brands == ("acme", "globex", "hooli")


def test_watchlist_scales_to_thousands_of_terms() -> None:
    """5,000 brands x 3 keywords against 10,000 texts: one automaton; correctness, not timing."""
    rng = random.Random(20261121)
    n_brands = 5_000
    brands = {f"brand{i:04d}": {"keywords": [f"zork{i}", f"quux{i} pro", f"{i}wid{i}get"]} for i in range(n_brands)}
    wl = Watchlist.from_mapping({"brands": brands})
    assert len(wl) == n_brands
    filler = ["the", "new", "launch", "is", "great", "zork", "widget", "quux", "today", "lol", "🔥", "#tag"]
    checked = 0
    for _ in range(10_000):
        named = rng.sample(range(n_brands), rng.choice((0, 0, 1, 1, 2, 3)))
        words = rng.choices(filler, k=rng.randrange(3, 15))
        for i in named:
            kw = rng.choice(brands[f"brand{i:04d}"]["keywords"])
            words.insert(rng.randrange(len(words) + 1), rng.choice((kw, kw.upper(), f"{kw}'s", f"({kw})")))
        # Near misses that must not match: glued prefixes/suffixes, and a keyword's first word alone.
        decoy = rng.randrange(n_brands)
        near_misses = (f"zork{decoy}ville", f"mega{decoy}zork", f"zork{decoy}_x", f"quux{decoy}", f"zork{decoy}0")
        words.insert(rng.randrange(len(words) + 1), rng.choice(near_misses))
        text = " ".join(words).lower()
        expected = sorted(f"brand{i:04d}" for i in named)
        if f"zork{decoy}0" in text.split():      # zork{decoy}0 is the keyword of brand decoy*10 when it exists
            extra = decoy * 10
            if extra < n_brands:
                expected = sorted({*expected, f"brand{extra:04d}"})
        assert wl.match(text, [], []) == expected, text
        checked += 1
    assert checked == 10_000


# ----------------------------------------------------------------------------------------- tier
@pytest.mark.parametrize(("followers", "tier"), [
    (-5, "nano"), (0, "nano"), (999, "nano"), (1_000, "micro"), (9_999, "micro"), (10_000, "mid"),
    (99_999, "mid"), (100_000, "macro"), (999_999, "macro"), (1_000_000, "mega"), (250_000_000, "mega"),
])
def test_author_tier(followers: int, tier: str) -> None:
    assert author_tier(followers, False) == tier
    assert author_tier(followers, True) == tier          # verification does not change the tier
    assert tier in TIERS


# ------------------------------------------------------------------------------------- enricher
def test_enrich_post_fills_everything(detector: LanguageDetector, scorer: SentimentScorer) -> None:
    enricher = Enricher(Watchlist.from_mapping(ACME), detector, scorer)
    event = ev("post", "Honestly the new Acme rocket is amazing!!! Thanks @GlobexHQ #Launch #nucleus 😍 "
                       "https://Acme.example.com/r?utm_source=x&id=1",
               actor_followers=25_000, url="https://twitter.com/u1/status/1#x")
    enricher.enrich(event)
    assert event.hashtags == ["launch", "nucleus"]
    assert event.mentions == ["globexhq"]
    assert event.urls == ["https://acme.example.com/r?id=1", "https://twitter.com/u1/status/1"]
    assert event.lang == "en"
    assert event.sentiment > 0.5
    assert event.brands == ["acme", "globex", "hooli"]
    assert event.author_tier == "mid"


def test_enrich_keeps_given_lang_and_uses_it_for_sentiment() -> None:
    enricher, lang, sent = stub_enricher()
    event = ev("post", "Ich finde Acme richtig super", lang="de")
    enricher.enrich(event)
    assert event.lang == "de" and lang.calls == []
    assert sent.calls == [("Ich finde Acme richtig super", "de")]
    detected = ev("post", "some text here")
    enricher.enrich(detected)
    assert detected.lang == "en" and lang.calls == ["some text here"]


def test_enrich_without_text_skips_language_and_sentiment() -> None:
    enricher, lang, sent = stub_enricher(Watchlist.from_mapping(ACME))
    for kind in ("like", "share", "view", "vote", "follow"):
        event = ev(kind, "", actor_followers=2_000_000, target_id="p1", sentiment=0.7, hashtags=["stale"])
        enricher.enrich(event)
        assert (event.hashtags, event.mentions, event.urls, event.brands) == ([], [], [], [])
        assert event.sentiment == 0.0 and event.lang == "" and event.author_tier == "mega"
    assert lang.calls == [] and sent.calls == []


def test_enrich_inherits_post_attributes() -> None:
    enricher, _, _ = stub_enricher(Watchlist.from_mapping(ACME))
    post_tags, post_brands = ["launch", "acme"], ["acme", "hooli"]
    like = ev("like", target_id="p1")
    enricher.enrich(like, (post_tags, post_brands))
    assert like.hashtags == ["launch", "acme"] and like.brands == ["acme", "hooli"]
    assert like.hashtags is not post_tags and like.brands is not post_brands
    comment = ev("comment", "so true #Acme #tbt, ask @globexhq", target_id="p1")
    enricher.enrich(comment, (post_tags, post_brands))
    assert comment.hashtags == ["acme", "tbt", "launch"]          # own first, then inherited, no duplicates
    assert comment.brands == ["acme", "globex", "hooli"]          # union, sorted
    assert (post_tags, post_brands) == (["launch", "acme"], ["acme", "hooli"])   # inputs untouched
    empty = ev("like", target_id="p1")
    enricher.enrich(empty, ([], []))
    assert (empty.hashtags, empty.brands) == ([], [])


def test_enrich_is_idempotent(detector: LanguageDetector, scorer: SentimentScorer) -> None:
    enricher = Enricher(Watchlist.from_mapping(ACME), detector, scorer)
    event = ev("comment", "Not impressed with the new Acme update tbh #fail https://x.com/a", target_id="p1")
    enricher.enrich(event, (["fail", "news"], ["hooli"]))
    first = (event.hashtags, event.mentions, event.urls, event.lang, event.sentiment, event.brands, event.author_tier)
    enricher.enrich(event, (["fail", "news"], ["hooli"]))
    assert (event.hashtags, event.mentions, event.urls, event.lang, event.sentiment, event.brands,
            event.author_tier) == first
    assert event.sentiment < 0 and event.brands == ["acme", "hooli"]


def test_enrich_event_url_field() -> None:
    enricher, _, _ = stub_enricher()
    same = ev("post", "look https://x.com/a?utm_medium=s", url="https://X.com/a#frag")
    enricher.enrich(same)
    assert same.urls == ["https://x.com/a"]
    other = ev("post", "", url=" at://did:plc:abc/app.bsky.feed.post/1 ")
    enricher.enrich(other)
    assert other.urls == ["at://did:plc:abc/app.bsky.feed.post/1"]


def test_enrich_matches_decomposed_text() -> None:
    enricher, _, _ = stub_enricher(Watchlist.from_mapping({"brands": {"cafe": {"keywords": ["café nero"]}}}))
    event = ev("post", unicodedata.normalize("NFD", "Café Nero again"))
    enricher.enrich(event)
    assert event.brands == ["cafe"]


def test_enrich_batch_calls_lookup_in_order_after_earlier_events() -> None:
    enricher, _, _ = stub_enricher(Watchlist.from_mapping(ACME))
    post = ev("post", "Acme day #launch", id="p1")
    like = ev("like", id="l1", target_id="p1")
    orphan = ev("like", id="l2", target_id="p-unknown")
    batch = [post, like, orphan]
    by_id = {e.id: e for e in batch if e.kind == "post"}
    seen: list[str] = []

    def lookup(event: CanonicalEvent) -> tuple[list[str], list[str]] | None:
        seen.append(event.id)
        target = by_id.get(event.target_id) if event.kind in ENGAGEMENT_KINDS else None
        return (target.hashtags, target.brands) if target is not None else None

    enricher.enrich_batch(batch, lookup)
    assert seen == ["p1", "l1", "l2"]
    assert (like.hashtags, like.brands) == (["launch"], ["acme"])
    assert (orphan.hashtags, orphan.brands) == ([], [])


def test_enricher_builds_default_parts() -> None:
    enricher = Enricher(Watchlist.empty())
    assert isinstance(enricher.language, LanguageDetector) and isinstance(enricher.sentiment, SentimentScorer)
    event = ev("post", "What a wonderful day with my friends")
    enricher.enrich(event)
    assert event.lang == "en" and event.sentiment > 0


def test_enrich_agrees_with_simulator_ground_truth(detector: LanguageDetector, scorer: SentimentScorer) -> None:
    """Hashtag and brand counts of enriched simulated traffic equal the simulator's exact ground truth."""
    from pulse.simulate import GroundTruth, SimulationConfig, simulate
    from streams.normalize import Rejection, normalize

    truth = GroundTruth()
    events: dict[str, CanonicalEvent] = {}
    for message in simulate(SimulationConfig(start_ms=1_795_255_200_000, rate=1000, duration_s=20, seed=11), truth):
        event = normalize(message.value, 1 << 20)
        if not isinstance(event, Rejection):
            events.setdefault(event.key, event)
    enricher = Enricher(Watchlist.from_file(EXAMPLE_WATCHLIST), detector, scorer)
    posts: dict[tuple[str, str], CanonicalEvent] = {}
    for event in events.values():            # posts first: late posts may arrive after their likes
        if event.kind == "post":
            enricher.enrich(event)
            posts[(event.platform, event.id)] = event

    def lookup(event: CanonicalEvent) -> tuple[list[str], list[str]] | None:
        post = posts.get((event.platform, event.target_id)) if event.kind in ENGAGEMENT_KINDS else None
        return (post.hashtags, post.brands) if post is not None else None

    enricher.enrich_batch([e for e in events.values() if e.kind != "post"], lookup)
    got: Counter[tuple[str, str, int, str]] = Counter()
    for event in events.values():
        minute = event.occurred_at_ms // 60_000 * 60
        got.update(("hashtag", tag, minute, event.kind) for tag in event.hashtags)
        got.update(("brand", brand, minute, event.kind) for brand in event.brands)
    want = Counter({k: n for k, n in truth.counts.items() if k[0] in ("hashtag", "brand")})
    assert want and got == want
    texts = [e for e in events.values() if e.text]
    langs = Counter(e.lang for e in texts)
    assert langs.most_common(1)[0][0] == "en" and {"es", "fr", "de", "pt"} <= set(langs)
    assert all(-1.0 <= e.sentiment <= 1.0 for e in texts)
    assert all(e.sentiment == 0.0 and e.lang == "" for e in events.values() if not e.text)
