"""The pure webhook checks of `pulse ingest`: signature schemes, handshakes, the accept/reject decision."""

from __future__ import annotations

import base64
import hashlib
import hmac

import orjson

from sinks.notify.signing import signature_header
from sources.ingest.signatures import (
    facebook_challenge,
    twitter_crc_response,
    verify_base64_sha256,
    verify_hex_sha256,
)
from sources.ingest.webhooks import Rejection, WebhookSecrets, check_signature, envelope, parse_payload

BODY = b'{"object": "page", "entry": []}'
NOW = 1_795_255_300.0


def hex_header(secret: bytes, body: bytes) -> str:
    return "sha256=" + hmac.new(secret, body, hashlib.sha256).hexdigest()


def b64_header(secret: bytes, body: bytes) -> str:
    return "sha256=" + base64.b64encode(hmac.new(secret, body, hashlib.sha256).digest()).decode()


def test_meta_signature_is_hex_hmac_of_the_exact_body() -> None:
    assert verify_hex_sha256(b"app", BODY, hex_header(b"app", BODY))
    assert verify_hex_sha256(b"app", BODY, hex_header(b"app", BODY).upper().replace("SHA256=", "sha256="))
    assert not verify_hex_sha256(b"other", BODY, hex_header(b"app", BODY))
    assert not verify_hex_sha256(b"app", BODY + b" ", hex_header(b"app", BODY))
    assert not verify_hex_sha256(b"app", BODY, hex_header(b"app", BODY).removeprefix("sha256="))
    assert not verify_hex_sha256(b"app", BODY, "sha256=")


def test_twitter_signature_is_base64_hmac() -> None:
    assert verify_base64_sha256(b"consumer", BODY, b64_header(b"consumer", BODY))
    assert not verify_base64_sha256(b"consumer", BODY, hex_header(b"consumer", BODY))
    assert not verify_base64_sha256(b"consumer", b"{}", b64_header(b"consumer", BODY))


def test_twitter_crc_response_matches_the_documented_example() -> None:
    # The value any X client library computes: base64(HMAC-SHA256(consumer secret, crc_token)).
    mac = hmac.new(b"secret", b"challenge", hashlib.sha256).digest()
    assert twitter_crc_response(b"secret", "challenge") == {
        "response_token": "sha256=" + base64.b64encode(mac).decode()}
    assert twitter_crc_response(b"secret", "other") != twitter_crc_response(b"secret", "challenge")


def test_facebook_handshake_echoes_the_challenge_only_for_our_token() -> None:
    query = {"hub.mode": "subscribe", "hub.verify_token": "tok", "hub.challenge": "1158201444"}
    assert facebook_challenge(query, b"tok") == "1158201444"
    assert facebook_challenge({**query, "hub.verify_token": "nope"}, b"tok") is None
    assert facebook_challenge({**query, "hub.mode": "unsubscribe"}, b"tok") is None
    assert facebook_challenge({k: v for k, v in query.items() if k != "hub.challenge"}, b"tok") is None


def test_native_or_pulse_signature_is_accepted_and_anything_else_rejected() -> None:
    secrets = WebhookSecrets(generic=b"ours", facebook_app=b"app")
    ok = check_signature("facebook", secrets, {"X-Hub-Signature-256": hex_header(b"app", BODY)}, BODY, NOW, 300)
    assert ok is None
    pulse = {"X-Pulse-Signature": signature_header(b"ours", BODY, int(NOW))}
    assert check_signature("facebook", secrets, pulse, BODY, NOW, 300) is None
    assert check_signature("reddit", secrets, pulse, BODY, NOW, 300) is None
    assert check_signature("reddit", secrets, {}, BODY, NOW, 300) == Rejection(401, "missing signature")
    wrong = {"X-Hub-Signature-256": hex_header(b"ours", BODY)}
    assert check_signature("facebook", secrets, wrong, BODY, NOW, 300) == Rejection(403, "bad signature")
    # A native header on a platform whose scheme it is not, or without its secret, is no signature.
    assert check_signature("twitter", secrets, {"X-Twitter-Webhooks-Signature": b64_header(b"ours", BODY)},
                           BODY, NOW, 300) == Rejection(401, "missing signature")
    # Replays: an X-Pulse-Signature older than the tolerance is refused.
    old = {"X-Pulse-Signature": signature_header(b"ours", BODY, int(NOW) - 301)}
    assert check_signature("reddit", secrets, old, BODY, NOW, 300) == Rejection(403, "bad signature")


def test_platforms_without_a_secret_are_not_enabled() -> None:
    only_meta = WebhookSecrets(facebook_app=b"app")
    assert only_meta.enabled_names() == ["facebook"]
    assert not only_meta.enabled("twitter")
    assert "x" in WebhookSecrets(twitter_consumer=b"c").enabled_names()
    assert len(WebhookSecrets(generic=b"g").enabled_names()) > 20


def test_body_must_be_json_and_becomes_an_envelope_with_receive_time() -> None:
    assert parse_payload(b"not json") == Rejection(400, "body is not JSON")
    assert parse_payload(b'"a string"') == Rejection(400, "body must be a JSON object or array")
    payload = parse_payload(BODY)
    value = orjson.loads(envelope("Facebook", payload, 1_795_255_300_120, {"X-Discourse-Instance": "https://f"}))
    assert value == {"platform": "facebook", "payload": {"object": "page", "entry": []},
                     "fetched_at": "2026-11-21T10:01:40.120Z"}
    forum = orjson.loads(envelope("discourse", {"post": {}}, 0, {"X-Discourse-Instance": "https://forum.example"}))
    assert forum["site"] == "https://forum.example"
