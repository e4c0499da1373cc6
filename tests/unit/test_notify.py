"""The pure parts of `pulse notify`: alert parsing, filters, signatures, payloads, backoff, config,
offset progress, dead-letter records, and the ledger file."""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import jsonschema
import orjson
import pytest

from schemas.contracts import topic_schema
from sinks.notify.alert import AlertChange, parse_alert
from sinks.notify.backoff import retry_after_delay, retry_delay, retryable_status
from sinks.notify.config import Subscriber, load_notify_config
from sinks.notify.dead_letters import source, undelivered_record, unreadable_record
from sinks.notify.filters import AlertFilter
from sinks.notify.ledger import DEAD_LETTERED, DELIVERED, DeliveryLedger
from sinks.notify.payloads import alert_link, alertmanager_body, build_request, slack_body, webhook_body
from sinks.notify.progress import OffsetProgress
from sinks.notify.signing import SIGNATURE_HEADER, signature_header, verify_signature

ROOT = Path(__file__).resolve().parents[2]
NOW = 1_795_300_000.0  # 2026-11-21T22:26:40Z, after the sample alert


def make_alert(alert_id: str = "0123456789abcdef0123", *, rule: str = "volume_spike", dimension: str = "brand",
               key: str = "acme", transition: str = "opened", severity: str = "info", observed: float = 120.0,
               expected: float = 10.0) -> dict[str, Any]:
    """An alert record shaped like streams.windows.records.alert_record's (checked against the schema)."""
    status = "resolved" if transition == "resolved" else "open"
    record = {
        "alert_id": alert_id, "rule": rule, "dimension": dimension, "key": key, "transition": transition,
        "status": status, "severity": severity, "opened_at": "2026-11-21T10:00:00.000Z",
        "updated_at": "2026-11-21T10:04:12.345Z",
        "interval": {"start": "2026-11-21T10:04:00.000Z", "end": "2026-11-21T10:05:00.000Z"},
        "observed": observed, "expected": expected, "score": 0.9987,
        "lift": round(observed / expected, 2) if expected else None,
        "evidence_window": {"start": "2026-11-21T10:00:00.000Z", "end": "2026-11-21T10:05:00.000Z", "total": 300},
        "top_posts": [{"key": "p-1", "events": 80}, {"key": "p-2", "events": 12}],
        "top_authors": [{"key": "u-1", "events": 5}],
        "sample_texts": ["acme <launch> & more"], "platforms": {"twitter": 200, "reddit": 100},
        "sentiment": {"negative": 3, "neutral": 50, "positive": 20}, "emitted_at": "2026-11-21T10:04:12.400Z",
    }
    jsonschema.validate(record, topic_schema("social.alerts"))
    return record


def change(**kw: Any) -> AlertChange:
    return parse_alert(orjson.dumps(make_alert(**kw)))


def webhook(secret: bytes = b"s3cret", **kw: Any) -> Subscriber:
    return Subscriber(name="hook", kind="webhook", url="http://127.0.0.1:1/hook", secret=secret, **kw)


# ---------------------------------------------------------------- alert parsing
def test_parse_alert_keeps_the_record_and_names_the_change() -> None:
    c = change(transition="escalated", severity="warning")
    assert c.change_id == "0123456789abcdef0123:escalated:warning"
    assert c.record["observed"] == 120.0


@pytest.mark.parametrize(("value", "field"), [
    (b"{not json", "value: not JSON"),
    (b"[1]", "not a JSON object"),
    (None, "tombstone"),
    (orjson.dumps({**make_alert(), "alert_id": 5}), "alert_id"),
    (orjson.dumps({k: v for k, v in make_alert().items() if k != "key"}), "key"),
    (orjson.dumps({**make_alert(), "transition": "reopened"}), "transition"),
    (orjson.dumps({**make_alert(), "severity": "page"}), "severity"),
])
def test_parse_alert_names_what_is_wrong(value: bytes | None, field: str) -> None:
    with pytest.raises(ValueError, match=field):
        parse_alert(value)


# ---------------------------------------------------------------- filters
@pytest.mark.parametrize(("flt", "kw", "expected"), [
    (AlertFilter(), {}, True),
    (AlertFilter(dimensions=("brand",)), {"dimension": "brand"}, True),
    (AlertFilter(dimensions=("brand",)), {"dimension": "hashtag"}, False),
    (AlertFilter(keys=("ac*",)), {"key": "acme"}, True),
    (AlertFilter(keys=("ac*",)), {"key": "zacme"}, False),
    (AlertFilter(keys=("x", "a?me")), {"key": "acme"}, True),
    (AlertFilter(keys=("[ab]cme",)), {"key": "ccme"}, False),
    (AlertFilter(keys=("ACME",)), {"key": "acme"}, False),  # keys are case-sensitive
    (AlertFilter(rules=("viral_post",)), {"rule": "volume_spike"}, False),
    (AlertFilter(rules=("viral_post",)), {"rule": "viral_post"}, True),
    (AlertFilter(min_severity="warning"), {"severity": "info"}, False),
    (AlertFilter(min_severity="warning"), {"severity": "warning"}, True),
    (AlertFilter(min_severity="warning"), {"severity": "critical"}, True),
    (AlertFilter(min_severity="critical"), {"severity": "warning", "transition": "resolved"}, False),
    (AlertFilter(dimensions=("brand",), keys=("acme",), rules=("volume_spike",), min_severity="warning"),
     {"severity": "critical"}, True),
])
def test_filters(flt: AlertFilter, kw: dict[str, Any], expected: bool) -> None:
    assert flt.matches(change(**kw)) is expected


# ---------------------------------------------------------------- signatures
def test_signature_verifies_and_rejects_tampering() -> None:
    body = webhook_body(change())
    header = signature_header(b"s3cret", body, int(NOW))
    assert header.startswith(f"t={int(NOW)},v1=") and len(header.split("v1=")[1]) == 64
    assert verify_signature(b"s3cret", body, header, now=NOW + 10)
    assert not verify_signature(b"other", body, header, now=NOW)
    assert not verify_signature(b"s3cret", body + b" ", header, now=NOW)
    # The timestamp is signed: moving it invalidates the signature.
    forged = header.replace(f"t={int(NOW)}", f"t={int(NOW) + 1}")
    assert not verify_signature(b"s3cret", body, forged, now=NOW)


def test_signature_outside_the_tolerance_is_a_replay() -> None:
    body = b"{}"
    header = signature_header(b"k", body, int(NOW))
    assert verify_signature(b"k", body, header, now=NOW + 299)
    assert not verify_signature(b"k", body, header, now=NOW + 301)
    assert not verify_signature(b"k", body, header, now=NOW - 301)
    assert verify_signature(b"k", body, header, now=NOW + 1000, tolerance_s=2000)


@pytest.mark.parametrize("header", ["", "v1=abc", "t=abc,v1=00", "t=1,t=2,v1=00", "garbage"])
def test_malformed_signature_headers_fail(header: str) -> None:
    assert not verify_signature(b"k", b"{}", header, now=1.0)


def test_any_of_several_signatures_may_match_during_secret_rotation() -> None:
    body = b'{"a":1}'
    old = signature_header(b"old", body, 100).split(",")[1]
    new = signature_header(b"new", body, 100)
    assert verify_signature(b"old", body, f"{new},{old}", now=100)
    assert verify_signature(b"new", body, f"{new},{old}", now=100)


# ---------------------------------------------------------------- requests and payloads
def test_webhook_request_signs_the_exact_body_and_carries_the_idempotency_key() -> None:
    c = change(transition="escalated", severity="critical")
    req = build_request(webhook(), c, NOW)
    assert orjson.loads(req.body) == c.record
    assert req.headers["Idempotency-Key"] == f"{c.alert_id}:escalated:critical"
    assert req.headers["Content-Type"] == "application/json"
    assert verify_signature(b"s3cret", req.body, req.headers[SIGNATURE_HEADER], now=NOW)
    assert req.url == "http://127.0.0.1:1/hook"


def test_slack_message_says_what_how_much_and_links() -> None:
    c = change(dimension="post", key="p-<9>", rule="viral_post", severity="warning", observed=240, expected=12.5)
    payload = orjson.loads(slack_body(c, "https://grafana.example/d/pulse?orgId=1"))
    text = payload["text"]
    assert "*Opened* [warning] viral post on post `p-&lt;9&gt;`" in text
    assert "observed 240 vs expected 12.5 (19.2× normal)" in text
    assert "top posts: p-1 (80), p-2 (12)" in text
    link = "https://grafana.example/d/pulse?orgId=1&alert_id=0123456789abcdef0123&rule=viral_post&dimension=post&key=p-%3C9%3E"
    assert f"<{link}|open in dashboard>" in text
    assert "<" not in text.replace(f"<{link}|", "")  # user text is escaped; only the link is markup


def test_slack_message_without_expectation_or_link() -> None:
    text = orjson.loads(slack_body(change(expected=0.0, transition="resolved"), None))["text"]
    assert "(nothing expected)" in text and "Resolved" in text and "open in dashboard" not in text
    assert alert_link(None, change()) is None


def test_alertmanager_opened_alert_fires_until_the_ttl() -> None:
    alerts = orjson.loads(alertmanager_body(change(), NOW, 3600, (("team", "social"),), "http://g/d"))
    assert len(alerts) == 1
    a = alerts[0]
    assert a["labels"] == {"team": "social", "alertname": "volume_spike", "rule": "volume_spike",
                           "dimension": "brand", "key": "acme", "severity": "info",
                           "alert_id": "0123456789abcdef0123"}
    assert a["startsAt"] == "2026-11-21T10:00:00.000Z"
    assert a["endsAt"] == "2026-11-21T23:26:40.000Z"  # NOW + 1 h, in the future
    assert a["annotations"]["lift"] == "12" and "observed 120 vs expected 10" in a["annotations"]["description"]
    assert a["generatorURL"].startswith("http://g/d?alert_id=")
    assert all(isinstance(v, str) for v in a["annotations"].values())


def test_alertmanager_escalation_resolves_the_lower_severities() -> None:
    alerts = orjson.loads(alertmanager_body(change(transition="escalated", severity="critical"), NOW, 3600))
    by_severity = {a["labels"]["severity"]: a["endsAt"] for a in alerts}
    assert by_severity == {"info": "2026-11-21T10:04:12.345Z", "warning": "2026-11-21T10:04:12.345Z",
                           "critical": "2026-11-21T23:26:40.000Z"}


def test_alertmanager_resolution_ends_every_severity_up_to_the_last() -> None:
    alerts = orjson.loads(alertmanager_body(change(transition="resolved", severity="warning"), NOW, 3600))
    assert {a["labels"]["severity"]: a["endsAt"] for a in alerts} == {
        "info": "2026-11-21T10:04:12.345Z", "warning": "2026-11-21T10:04:12.345Z"}


def test_alertmanager_request_goes_to_the_v2_api() -> None:
    sub = Subscriber(name="am", kind="alertmanager", url="http://127.0.0.1:9093/")
    req = build_request(sub, change(), NOW)
    assert req.url == "http://127.0.0.1:9093/api/v2/alerts" and SIGNATURE_HEADER not in req.headers


# ---------------------------------------------------------------- backoff
def test_backoff_is_exponential_capped_full_jitter() -> None:
    top = lambda low, high: high  # noqa: E731 - the largest wait the schedule allows
    assert [retry_delay(n, 0.5, 5.0, top) for n in range(1, 7)] == [0.5, 1.0, 2.0, 4.0, 5.0, 5.0]
    assert retry_delay(3, 0.5, 5.0, lambda low, high: low) == 0.0
    rng = random.Random(7)
    delays = [retry_delay(n, 1.0, 60.0, rng.uniform) for n in range(1, 9)]
    again = random.Random(7)
    assert delays == [retry_delay(n, 1.0, 60.0, again.uniform) for n in range(1, 9)]  # same seed, same schedule
    assert all(0.0 <= d <= min(60.0, 2.0 ** (n - 1)) for n, d in enumerate(delays, 1))
    assert len(set(delays)) == len(delays)  # jittered, not lock-step


def test_retry_after_and_which_statuses_retry() -> None:
    assert retry_after_delay("3", 60) == 3.0 and retry_after_delay("600", 60) == 60.0
    assert retry_after_delay(None, 60) is None and retry_after_delay("Wed, 21 Oct 2026 07:28:00 GMT", 60) is None
    assert [s for s in (200, 301, 400, 401, 404, 408, 409, 422, 425, 429, 500, 502, 503) if retryable_status(s)] \
        == [408, 425, 429, 500, 502, 503]


# ---------------------------------------------------------------- offset progress
def test_commit_only_past_messages_every_subscriber_finished() -> None:
    p, tp = OffsetProgress(), ("social.alerts", 0)
    m0, m1 = p.track(tp, 10, 2), p.track(tp, 11, 1)
    p.track(tp, 12, 0)                # routed to no subscriber
    assert p.committable() == {}
    m1.finish()                      # a later message done first: the gap at 10 holds the commit
    assert p.committable() == {}
    m0.finish()
    assert p.committable() == {}     # one of its two subscribers only
    m0.finish()
    assert p.committable() == {tp: 13}   # 10, 11 and the unrouted 12
    p.committed({tp: 13})
    assert p.committable() == {}
    m0.finish()                      # extra finishes never go negative or move anything
    assert p.committable() == {} and p.in_flight() == 0


def test_forgotten_partitions_ignore_late_finishes() -> None:
    p, tp = OffsetProgress(), ("t", 1)
    old = p.track(tp, 5, 1)
    p.forget([tp])
    new = p.track(tp, 5, 1)          # read again after the partition came back
    old.finish()
    assert p.committable() == {}
    new.finish()
    assert p.committable() == {tp: 6}


# ---------------------------------------------------------------- ledger
def test_ledger_survives_reopening_and_prunes_old_entries(tmp_path: Path) -> None:
    path = tmp_path / "notify" / "ledger.sqlite3"
    ledger = DeliveryLedger(path)
    ledger.record("hook", "a:opened:info", DELIVERED, NOW - 20 * 86400)
    ledger.record("hook", "b:opened:info", DEAD_LETTERED, NOW)
    ledger.close()
    again = DeliveryLedger(path)
    assert again.outcome("hook", "a:opened:info") == DELIVERED
    assert again.outcome("other", "a:opened:info") is None
    assert again.prune(NOW) == 1
    assert again.outcome("hook", "a:opened:info") is None and again.outcome("hook", "b:opened:info") == DEAD_LETTERED
    again.close()


# ---------------------------------------------------------------- dead letters
def test_dead_letter_records_match_their_schema() -> None:
    schema = topic_schema("social.notify.dlq")
    c = change()
    rec = undelivered_record(webhook(), c, "HTTP 500 after 3 attempt(s)", 3, NOW, source("social.alerts", 2, 40))
    jsonschema.validate(rec, schema)
    assert rec["alert"] == c.record and rec["idempotency_key"] == c.change_id and rec["source"]["offset"] == 40
    assert "s3cret" not in orjson.dumps(rec).decode() and "127.0.0.1:1" not in orjson.dumps(rec).decode()
    for value in (b"{oops", b"\xff\xfe"):
        bad = unreadable_record("value: not JSON", value, NOW, source("social.alerts", 0, 1))
        jsonschema.validate(bad, schema)
    assert bad["raw_encoding"] == "base64"


# ---------------------------------------------------------------- config
SLACK = '[subscribers.a]\ntype = "slack"\nurl = "http://x"\n'


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "notify.toml"
    path.write_text(text)
    return path


def test_example_config_parses(tmp_path: Path) -> None:
    env = {"PULSE_NOTIFY_CRM_SECRET": "crm-secret", "PULSE_NOTIFY_SLACK_URL": "https://hooks.slack.example/T/B/x"}
    cfg = load_notify_config(ROOT / "deploy" / "notify.example.toml", env)
    by_name = {s.name: s for s in cfg.subscribers}
    assert [(s.name, s.kind) for s in cfg.subscribers] == [
        ("crm-webhook", "webhook"), ("slack-social", "slack"), ("alertmanager", "alertmanager")]
    crm = by_name["crm-webhook"]
    assert crm.secret == b"crm-secret" and crm.filter.min_severity == "warning" and crm.max_attempts == 8
    assert crm.filter.keys == ("acme*", "launchday")
    assert by_name["slack-social"].url == env["PULSE_NOTIFY_SLACK_URL"]
    assert by_name["slack-social"].timeout_s == 5.0
    assert by_name["alertmanager"].labels == (("source", "social-pulse"), ("team", "social"))
    # Secrets never show in a subscriber's repr (and so in logs or tracebacks).
    assert "crm-secret" not in repr(crm) and "hooks.slack.example" not in repr(by_name["slack-social"])


def test_secret_and_url_from_files_relative_to_the_config(tmp_path: Path) -> None:
    (tmp_path / "secret").write_text("from-file\n")
    (tmp_path / "url").write_text("https://hooks.example/abc\n")
    cfg = load_notify_config(write(tmp_path, """
[subscribers.a]
type = "webhook"
url_file = "url"
secret_file = "secret"
"""), {})
    assert cfg.subscribers[0].secret == b"from-file" and cfg.subscribers[0].url == "https://hooks.example/abc"


@pytest.mark.parametrize(("text", "message"), [
    ("[subscribers.a\n", "not valid TOML"),
    ("", "none configured"),
    ("[hooks]\n", "hooks: unknown section"),
    ('[subscribers.a]\ntype = "email"\nurl = "http://x"\n', "subscribers.a.type: must be one of webhook, slack"),
    ('[subscribers.a]\ntype = "slack"\n', "subscribers.a: url missing"),
    ('[subscribers.a]\ntype = "slack"\nurl = "ftp://x"\n', "subscribers.a.url: must be an http:// or https://"),
    (SLACK + 'url_env = "X"\n', "give only one of url, url_env"),
    ('[subscribers.a]\ntype = "webhook"\nurl = "http://x"\n', "subscribers.a: secret missing (set one of: "
                                                              "secret_env, secret_file)"),
    ('[subscribers.a]\ntype = "webhook"\nurl = "http://x"\nsecret = "inline"\n',
     "subscribers.a.secret: not a setting of a webhook subscriber"),
    ('[subscribers.a]\ntype = "webhook"\nurl = "http://x"\nsecret_env = "NOPE_UNSET"\n',
     "subscribers.a.secret_env: environment variable NOPE_UNSET is not set"),
    ('[subscribers.a]\ntype = "webhook"\nurl = "http://x"\nsecret_file = "missing"\n',
     "subscribers.a.secret_file: cannot read"),
    (SLACK + 'dimensions = ["country"]\n',
     "subscribers.a.dimensions: 'country' is not one of"),
    (SLACK + 'rules = "viral_post"\n', "subscribers.a.rules: must be a list"),
    (SLACK + 'min_severity = "page"\n', "subscribers.a.min_severity"),
    (SLACK + 'max_attempts = 1.5\n', "subscribers.a.max_attempts"),
    (SLACK + 'timeout_s = "5"\n', "subscribers.a.timeout_s: must be a number"),
    (SLACK + 'backoff_base_s = 9\nbackoff_max_s = 2\n', "backoff_max_s"),
    (SLACK + 'labels = { a = "b" }\n',
     "subscribers.a.labels: not a setting of a slack subscriber"),
    ('[subscribers.a]\ntype = "alertmanager"\nurl = "http://x"\nlabels = { "bad-name" = "b" }\n', "label names"),
    ('[subscribers."a b"]\ntype = "slack"\nurl = "http://x"\n', "names are 1-64 letters"),
    ('[defaults]\nretries = 3\n[subscribers.a]\ntype = "slack"\nurl = "http://x"\n', "defaults.retries: unknown"),
])
def test_config_errors_name_the_file_and_field(tmp_path: Path, text: str, message: str) -> None:
    path = write(tmp_path, text)
    with pytest.raises(ValueError) as err:
        load_notify_config(path, {})
    assert str(err.value).startswith(f"{path}: ") and message in str(err.value), str(err.value)
    assert "\n" not in str(err.value).split(": ", 1)[1] or "TOML" in message


def test_a_url_from_a_secret_source_is_never_echoed(tmp_path: Path) -> None:
    path = write(tmp_path, '[subscribers.a]\ntype = "slack"\nurl_env = "HOOK"\n')
    with pytest.raises(ValueError) as err:
        load_notify_config(path, {"HOOK": "hxxp://token-123"})
    assert "token-123" not in str(err.value) and "subscribers.a.url" in str(err.value)


def test_missing_config_file(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="no such notify configuration file"):
        load_notify_config(tmp_path / "nope.toml", {})
