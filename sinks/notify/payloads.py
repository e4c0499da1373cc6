"""What each kind of subscriber receives for one alert change: URL, body bytes and headers.

Pure: the clock (`now_s`, unix seconds) is an argument. The webhook signature covers the exact body
bytes returned here, which are the bytes sent.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

import orjson

from sinks.notify.alert import SEVERITIES, AlertChange
from sinks.notify.config import Subscriber
from sinks.notify.signing import SIGNATURE_HEADER, signature_header

IDEMPOTENCY_HEADER = "Idempotency-Key"
USER_AGENT = "social-pulse-notify/1"
ALERTMANAGER_PATH = "/api/v2/alerts"


@dataclass(frozen=True)
class Request:
    url: str
    body: bytes
    headers: dict[str, str]


def build_request(sub: Subscriber, change: AlertChange, now_s: float) -> Request:
    """The POST for `sub`; every kind carries the Idempotency-Key `<alert_id>:<transition>:<severity>`."""
    if sub.kind == "webhook":
        body = webhook_body(change)
        assert sub.secret is not None
        extra = {SIGNATURE_HEADER: signature_header(sub.secret, body, int(now_s))}
        url = sub.url
    elif sub.kind == "slack":
        body, extra, url = slack_body(change, sub.link_base_url), {}, sub.url
    else:
        body = alertmanager_body(change, now_s, sub.firing_ttl_s, sub.labels, sub.link_base_url)
        extra, url = {}, sub.url.rstrip("/") + ALERTMANAGER_PATH
    headers = {"Content-Type": "application/json", "User-Agent": USER_AGENT,
               IDEMPOTENCY_HEADER: change.change_id, **extra}
    return Request(url=url, body=body, headers=headers)


# ---------------------------------------------------------------- generic webhook
def webhook_body(change: AlertChange) -> bytes:
    """The alert record itself (schemas/json/social.alerts.schema.json)."""
    return orjson.dumps(change.record)


# ---------------------------------------------------------------- links
def alert_link(base_url: str | None, change: AlertChange) -> str | None:
    """`base_url` with the alert's identity as query parameters (e.g. a dashboard filtered to the key)."""
    if not base_url:
        return None
    query = urlencode({"alert_id": change.alert_id, "rule": change.rule, "dimension": change.dimension,
                       "key": change.key})
    return f"{base_url}{'&' if '?' in base_url else '?'}{query}"


# ---------------------------------------------------------------- Slack
_SLACK_ICON = {"opened": ":rotating_light:", "escalated": ":arrow_double_up:", "resolved": ":white_check_mark:"}


def slack_escape(text: str) -> str:
    """Slack mrkdwn control characters (https://api.slack.com/reference/surfaces/formatting#escaping)."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def how_much_above_normal(record: dict[str, Any]) -> str:
    observed, expected, lift = record.get("observed"), record.get("expected"), record.get("lift")
    base = f"observed {_num(observed)} vs expected {_num(expected)}"
    if isinstance(lift, int | float):
        return f"{base} ({lift:g}× normal)"
    return f"{base} (nothing expected)"


def slack_body(change: AlertChange, link_base_url: str | None) -> bytes:
    """A Slack incoming-webhook message (`text`, mrkdwn): also accepted by Mattermost, Rocket.Chat and
    other Slack-compatible receivers."""
    r = change.record
    what = f"{change.rule.replace('_', ' ')} on {change.dimension} `{slack_escape(change.key)}`"
    lines = [f"{_SLACK_ICON.get(change.transition, '')} *{change.transition.capitalize()}* "
             f"[{change.severity}] {what}".strip(),
             f"{how_much_above_normal(r)}, score {_num(r.get('score'))}"]
    interval = r.get("interval")
    if isinstance(interval, dict) and "start" in interval:
        lines.append(f"minute {interval['start']} · opened {r.get('opened_at', '?')}")
    tops = _tops(r.get("top_posts"))
    if tops:
        lines.append(f"top posts: {slack_escape(tops)}")
    link = alert_link(link_base_url, change)
    if link:
        lines.append(f"<{link}|open in dashboard>")
    text = "\n".join(lines)
    return orjson.dumps({"text": text, "mrkdwn": True})


# ---------------------------------------------------------------- Alertmanager
def alertmanager_body(change: AlertChange, now_s: float, firing_ttl_s: float,
                      static_labels: tuple[tuple[str, str], ...] = (), link_base_url: str | None = None) -> bytes:
    """`POST /api/v2/alerts` body: a list of postable alerts.

    Alertmanager identifies an alert by its labels, and severity is a label (routes match on it), so
    an escalation also resolves the same alert at the lower severities, and a resolution resolves every
    severity up to the final one. An open alert gets `endsAt` = now + `firing_ttl_s`: Alertmanager
    would otherwise resolve it after its `resolve_timeout` (5 min by default), as it expects senders
    to repeat firing alerts; a resolved one gets `endsAt` = the time the pipeline decided it.
    """
    r = change.record
    starts_at = r.get("opened_at") or _rfc3339(now_s)
    resolved_at = r.get("updated_at") or _rfc3339(now_s)
    open_until = _rfc3339(now_s + firing_ttl_s)
    rank = SEVERITIES.index(change.severity)
    alerts = []
    for severity in SEVERITIES[: rank + 1]:
        firing = severity == change.severity and change.transition != "resolved"
        if not firing and change.transition == "opened":
            continue
        labels = {**dict(static_labels), "alertname": change.rule, "rule": change.rule,
                  "dimension": change.dimension, "key": change.key, "severity": severity,
                  "alert_id": change.alert_id}
        alert: dict[str, Any] = {"labels": labels, "annotations": _annotations(change),
                                 "startsAt": starts_at, "endsAt": open_until if firing else resolved_at}
        link = alert_link(link_base_url, change)
        if link:
            alert["generatorURL"] = link
        alerts.append(alert)
    return orjson.dumps(alerts)


def _annotations(change: AlertChange) -> dict[str, str]:
    r = change.record
    notes = {
        "summary": f"{change.rule.replace('_', ' ')} on {change.dimension} {change.key}",
        "description": f"{how_much_above_normal(r)}, score {_num(r.get('score'))}",
        "transition": change.transition,
        "observed": _num(r.get("observed")),
        "expected": _num(r.get("expected")),
        "lift": _num(r.get("lift")),
        "score": _num(r.get("score")),
    }
    tops = _tops(r.get("top_posts"))
    if tops:
        notes["top_posts"] = tops
    return notes


# ---------------------------------------------------------------- helpers
def _num(value: Any) -> str:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return "n/a"
    return f"{value:g}"


def _tops(value: Any) -> str:
    if not isinstance(value, list):
        return ""
    return ", ".join(f"{t['key']} ({t.get('events', '?')})" for t in value[:3]
                     if isinstance(t, dict) and isinstance(t.get("key"), str))


def _rfc3339(unix_s: float) -> str:
    return datetime.fromtimestamp(unix_s, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
