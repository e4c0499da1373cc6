from __future__ import annotations

from typing import Any

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from schemas.event import CanonicalEvent
from streams.normalize import Rejection, normalize

LIMIT = 1024 * 1024


def good(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "platform": "generic", "id": "e-1", "kind": "like", "occurred_at": "2026-11-21T10:00:05.120Z",
        "actor": {"id": "u-9", "handle": "alice", "followers": 1200, "verified": False},
        "target_id": "p-1", "text": None,
    }
    body.update(overrides)
    return body


def run(body: Any) -> CanonicalEvent | Rejection:
    return normalize(orjson.dumps(body), LIMIT)


def test_contract_example_is_valid() -> None:
    event = run(good())
    assert isinstance(event, CanonicalEvent)
    assert (event.platform, event.id, event.kind, event.actor_id, event.target_id) == (
        "generic", "e-1", "like", "u-9", "p-1")
    assert event.occurred_at_ms == 1795255205120
    assert event.actor_followers == 1200 and event.actor_handle == "alice"


def test_offsets_are_converted_to_utc() -> None:
    event = run(good(occurred_at="2026-11-21T11:00:05.120+01:00"))
    assert isinstance(event, CanonicalEvent) and event.occurred_at_ms == 1795255205120


@pytest.mark.parametrize(("raw", "reason"), [
    (b"not json", "value: not JSON"),
    (b"[1, 2]", "value: must be a JSON object, got list"),
    (b"\xff\xfe{}", "value: not UTF-8"),
    (None, "value: empty message"),
])
def test_unparseable(raw: bytes | None, reason: str) -> None:
    result = normalize(raw, LIMIT)
    assert isinstance(result, Rejection) and result.reason.startswith(reason)


def test_oversize() -> None:
    result = normalize(orjson.dumps(good(text="x" * 5000)), 2048)
    assert isinstance(result, Rejection) and result.reason.startswith("value: oversize message")


@pytest.mark.parametrize(("overrides", "field"), [
    ({"kind": "poke"}, "kind: unknown kind 'poke'"),
    ({"kind": None}, "kind: missing"),
    ({"occurred_at": "yesterday"}, "occurred_at: not an RFC 3339 timestamp"),
    ({"occurred_at": "2026-11-21T10:00:05"}, "occurred_at: timestamp has no time zone"),
    ({"occurred_at": 1763719205}, "occurred_at: expected an RFC 3339 string"),
    ({"actor": None}, "actor: missing"),
    ({"actor": {"handle": "x"}}, "actor.id: missing"),
    ({"actor": {"id": ""}}, "actor.id: must be a non-empty string"),
    ({"actor": {"id": "u", "followers": -1}}, "actor.followers"),
    ({"actor": {"id": "u", "verified": "yes"}}, "actor.verified"),
    ({"target_id": None}, "target_id: required for kind 'like'"),
    ({"platform": None}, "platform: missing"),
    ({"id": ["x"]}, "id: must be a non-empty string"),
    ({"text": 5.5}, "text: must be a string or null"),
])
def test_invalid_fields_are_named(overrides: dict[str, Any], field: str) -> None:
    result = run(good(**overrides))
    assert isinstance(result, Rejection), result
    assert result.reason.startswith(field), result.reason


@pytest.mark.parametrize("kind", ["post", "mention", "follow"])
def test_kinds_without_target(kind: str) -> None:
    assert isinstance(run(good(kind=kind, target_id=None)), CanonicalEvent)


def test_numeric_ids_are_accepted_as_strings() -> None:
    event = run(good(id=12345, target_id=678))
    assert isinstance(event, CanonicalEvent) and event.id == "12345" and event.target_id == "678"


def test_envelope_without_adapter_is_rejected_with_platform() -> None:
    result = run({"platform": "myspace", "payload": {"a": 1}})
    assert isinstance(result, Rejection) and "myspace" in result.reason


def test_wire_round_trip() -> None:
    event = run(good(text="hello", parent_id="c-1", lang="EN"))
    assert isinstance(event, CanonicalEvent)
    assert CanonicalEvent.from_wire(orjson.loads(orjson.dumps(event.to_wire()))) == event


@given(st.binary(max_size=300))
def test_never_raises_on_arbitrary_bytes(raw: bytes) -> None:
    assert isinstance(normalize(raw, LIMIT), CanonicalEvent | Rejection)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**63), 2**63 - 1) | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4),
    max_leaves=20,
)


@settings(suppress_health_check=[HealthCheck.too_slow], max_examples=300)
@given(st.dictionaries(st.sampled_from(["platform", "id", "kind", "occurred_at", "actor", "target_id", "text",
                                        "payload", "lang", "url"]), json_values))
def test_never_raises_on_arbitrary_objects(body: dict[str, Any]) -> None:
    assert isinstance(run(body), CanonicalEvent | Rejection)


def test_huge_numbers_are_rejected_not_raised() -> None:
    raw = b'{"platform":"x","id":"1","kind":"like","occurred_at":"2026-11-21T10:00:05Z",' \
          b'"actor":{"id":"u","followers":123456789012345678901234567890},"target_id":"p"}'
    assert isinstance(normalize(raw, LIMIT), Rejection)


@pytest.mark.parametrize("kind", [["like"], {"a": 1}, 5, True])
def test_unhashable_or_odd_kinds_are_rejected(kind: Any) -> None:
    result = run(good(kind=kind))
    assert isinstance(result, Rejection) and result.reason.startswith("kind: unknown kind")
