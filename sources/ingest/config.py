"""Webhook secrets from the settings: each one given as a value (env) or as a file holding it."""

from __future__ import annotations

from pathlib import Path

from pydantic import SecretStr

from sources.ingest.webhooks import WebhookSecrets
from streams.settings import Settings


def _secret(settings: Settings, field: str) -> bytes | None:
    value: SecretStr | None = getattr(settings, field)
    path: Path | None = getattr(settings, f"{field}_file")
    env = f"PULSE_{field.upper()}"
    if value is not None and path is not None:
        raise ValueError(f"set only one of {env} and {env}_FILE")
    if path is not None:
        try:
            text = path.read_text(encoding="utf-8").strip()
        except (OSError, UnicodeDecodeError) as exc:
            raise ValueError(f"{env}_FILE: cannot read {path} ({type(exc).__name__})") from None
        if not text:
            raise ValueError(f"{env}_FILE: {path} is empty")
        return text.encode()
    if value is None:
        return None
    text = value.get_secret_value().strip()
    if not text:
        raise ValueError(f"{env} is empty")
    return text.encode()


def webhook_secrets(settings: Settings) -> WebhookSecrets:
    """The configured secrets; ValueError (one line, naming the variable, never the value) when unusable."""
    return WebhookSecrets(
        generic=_secret(settings, "ingest_secret"),
        facebook_app=_secret(settings, "ingest_facebook_app_secret"),
        facebook_verify_token=_secret(settings, "ingest_facebook_verify_token"),
        twitter_consumer=_secret(settings, "ingest_twitter_consumer_secret"),
        forum=_secret(settings, "ingest_forum_secret"),
    )
