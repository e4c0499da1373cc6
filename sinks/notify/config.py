"""The subscribers file (`PULSE_NOTIFY_CONFIG_FILE`, TOML; documented in deploy/notify.example.toml).

Secrets (webhook signing secrets, and URLs that embed a token, as Slack's do) are never written in
the file: it names an environment variable or a file holding them. A bad file raises ValueError
with one line naming the file and the field.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final
from urllib.parse import urlsplit

from sinks.notify.alert import DIMENSIONS, RULES, SEVERITIES
from sinks.notify.filters import AlertFilter
from streams.toml_file import read_toml

KINDS: Final = ("webhook", "slack", "alertmanager")
NAME = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")
LABEL_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")

DELIVERY_DEFAULTS: Final[dict[str, float]] = {
    "timeout_s": 10.0,          # one HTTP attempt, connect to last byte
    "max_attempts": 8,          # the first try and 7 retries, then the dead-letter topic
    "backoff_base_s": 1.0,      # first retry waits up to this; doubles per retry ...
    "backoff_max_s": 60.0,      # ... up to this (full jitter: uniform in [0, that])
}
FIRING_TTL_S: Final = 24 * 3600.0

_COMMON = {"type", "url", "url_env", "url_file", "dimensions", "keys", "rules", "min_severity",
           "link_base_url", *DELIVERY_DEFAULTS}
_ALLOWED = {
    "webhook": _COMMON | {"secret_env", "secret_file"},
    "slack": _COMMON,
    "alertmanager": _COMMON | {"labels", "firing_ttl_s"},
}


@dataclass(frozen=True)
class Subscriber:
    name: str
    kind: str                                   # "webhook" | "slack" | "alertmanager"
    url: str = field(repr=False)                # may embed a token (Slack): never logged
    filter: AlertFilter = field(default_factory=AlertFilter)
    secret: bytes | None = field(default=None, repr=False)  # webhook signing secret
    timeout_s: float = DELIVERY_DEFAULTS["timeout_s"]
    max_attempts: int = int(DELIVERY_DEFAULTS["max_attempts"])
    backoff_base_s: float = DELIVERY_DEFAULTS["backoff_base_s"]
    backoff_max_s: float = DELIVERY_DEFAULTS["backoff_max_s"]
    link_base_url: str | None = None            # Slack link / Alertmanager generatorURL
    labels: tuple[tuple[str, str], ...] = ()    # Alertmanager: extra static labels
    firing_ttl_s: float = FIRING_TTL_S          # Alertmanager: endsAt of an open alert = now + this


@dataclass(frozen=True)
class NotifyConfig:
    subscribers: tuple[Subscriber, ...]


class _FieldError(Exception):
    pass


def load_notify_config(path: Path, environ: Mapping[str, str]) -> NotifyConfig:
    """Read and validate `path`; secrets come from `environ` or from files (relative to `path`)."""
    doc = read_toml(path, "notify configuration")
    try:
        return parse_notify_config(doc, environ, path.parent)
    except _FieldError as exc:
        raise ValueError(f"{path}: {exc}") from None


def parse_notify_config(doc: dict[str, Any], environ: Mapping[str, str], base_dir: Path) -> NotifyConfig:
    """The configuration in a parsed TOML document; raises _FieldError naming the field."""
    unknown = set(doc) - {"defaults", "subscribers"}
    if unknown:
        raise _FieldError(f"{sorted(unknown)[0]}: unknown section (expected [defaults] or [subscribers.NAME])")
    defaults = _table(doc.get("defaults", {}), "defaults")
    for name in defaults:
        if name not in {*DELIVERY_DEFAULTS, "link_base_url"}:
            raise _FieldError(f"defaults.{name}: unknown setting (one of: "
                              f"{', '.join(sorted({*DELIVERY_DEFAULTS, 'link_base_url'}))})")
    subscribers_doc = _table(doc.get("subscribers", {}), "subscribers")
    if not subscribers_doc:
        raise _FieldError("subscribers: none configured (add a [subscribers.NAME] table)")
    subscribers = []
    for name, given in subscribers_doc.items():
        where = f"subscribers.{name}"
        if not NAME.match(name):
            raise _FieldError(f"{where}: names are 1-64 letters, digits, '_', '.' or '-'")
        table = _table(given, where)
        subscribers.append(_subscriber(name, {**defaults, **table}, where, environ, base_dir))
    return NotifyConfig(subscribers=tuple(subscribers))


def _subscriber(name: str, t: dict[str, Any], where: str, environ: Mapping[str, str],
                base_dir: Path) -> Subscriber:
    kind = t.get("type")
    if kind not in KINDS:
        raise _FieldError(f"{where}.type: must be one of {', '.join(KINDS)} (got {kind!r})")
    for key in t:
        if key not in _ALLOWED[kind]:
            raise _FieldError(f"{where}.{key}: not a setting of a {kind} subscriber "
                              f"(one of: {', '.join(sorted(_ALLOWED[kind]))})")
    url = _from_one_source(t, "url", where, environ, base_dir, required=True)
    assert url is not None
    _check_url(url, f"{where}.url", show=("url" in t))
    secret = None
    if kind == "webhook":
        secret_text = _from_one_source(t, "secret", where, environ, base_dir, required=True, inline=False)
        assert secret_text is not None
        secret = secret_text.encode()
    link = t.get("link_base_url")
    if link is not None:
        _check_url(_string(link, f"{where}.link_base_url"), f"{where}.link_base_url", show=True)
    numbers = {k: _number(t.get(k, v), f"{where}.{k}", minimum=0.001) for k, v in DELIVERY_DEFAULTS.items()}
    attempts = numbers["max_attempts"]
    if attempts != int(attempts) or not 1 <= attempts <= 100:
        raise _FieldError(f"{where}.max_attempts: must be a whole number from 1 to 100")
    if numbers["backoff_max_s"] < numbers["backoff_base_s"]:
        raise _FieldError(f"{where}.backoff_max_s: must be >= backoff_base_s")
    labels = _labels(t.get("labels", {}), f"{where}.labels")
    return Subscriber(
        name=name, kind=kind, url=url, secret=secret, filter=_filter(t, where),
        timeout_s=numbers["timeout_s"], max_attempts=int(attempts), backoff_base_s=numbers["backoff_base_s"],
        backoff_max_s=numbers["backoff_max_s"], link_base_url=link, labels=labels,
        firing_ttl_s=_number(t.get("firing_ttl_s", FIRING_TTL_S), f"{where}.firing_ttl_s", minimum=60),
    )


def _from_one_source(t: dict[str, Any], what: str, where: str, environ: Mapping[str, str], base_dir: Path,
                     required: bool, inline: bool = True) -> str | None:
    """`what` given inline, or in the environment variable `<what>_env`, or in the file `<what>_file`."""
    sources = [s for s in ((what,) if inline else ()) + (f"{what}_env", f"{what}_file") if s in t]
    if len(sources) > 1:
        raise _FieldError(f"{where}: give only one of {', '.join(sources)}")
    if not sources:
        if required:
            options = ", ".join(((what,) if inline else ()) + (f"{what}_env", f"{what}_file"))
            raise _FieldError(f"{where}: {what} missing (set one of: {options})")
        return None
    source = sources[0]
    ref = _string(t[source], f"{where}.{source}")
    if source == what:
        return ref
    if source.endswith("_env"):
        value = environ.get(ref)
        if value is None or not value.strip():
            raise _FieldError(f"{where}.{source}: environment variable {ref} is not set")
        return value.strip()
    path = Path(ref) if Path(ref).is_absolute() else base_dir / ref
    try:
        value = path.read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError) as exc:
        raise _FieldError(f"{where}.{source}: cannot read {path}: {type(exc).__name__}") from None
    if not value:
        raise _FieldError(f"{where}.{source}: {path} is empty")
    return value


def _check_url(url: str, where: str, show: bool) -> None:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        # A URL read from a secret source may hold a token: name the field, not the value.
        shown = f" (got {url!r})" if show else ""
        raise _FieldError(f"{where}: must be an http:// or https:// URL{shown}")


def _filter(t: dict[str, Any], where: str) -> AlertFilter:
    dimensions = _strings(t.get("dimensions", []), f"{where}.dimensions", allowed=DIMENSIONS)
    rules = _strings(t.get("rules", []), f"{where}.rules", allowed=RULES)
    keys = _strings(t.get("keys", []), f"{where}.keys")
    severity = t.get("min_severity", "info")
    if severity not in SEVERITIES:
        raise _FieldError(f"{where}.min_severity: must be one of {', '.join(SEVERITIES)} (got {severity!r})")
    return AlertFilter(dimensions=dimensions, keys=keys, rules=rules, min_severity=severity)


def _labels(value: Any, where: str) -> tuple[tuple[str, str], ...]:
    table = _table(value, where)
    for name, label in table.items():
        if not LABEL_NAME.match(name):
            raise _FieldError(f"{where}.{name}: label names are letters, digits and '_'")
        _string(label, f"{where}.{name}")
    return tuple(sorted(table.items()))


def _table(value: Any, where: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise _FieldError(f"{where}: must be a table")
    return value


def _string(value: Any, where: str) -> str:
    if not isinstance(value, str) or not value:
        raise _FieldError(f"{where}: must be a non-empty string")
    return value


def _strings(value: Any, where: str, allowed: tuple[str, ...] | None = None) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise _FieldError(f"{where}: must be a list of non-empty strings")
    if allowed is not None:
        for v in value:
            if v not in allowed:
                raise _FieldError(f"{where}: {v!r} is not one of {', '.join(allowed)}")
    return tuple(value)


def _number(value: Any, where: str, minimum: float) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or value != value:
        raise _FieldError(f"{where}: must be a number")
    if value < minimum:
        raise _FieldError(f"{where}: must be >= {minimum:g}")
    return float(value)
