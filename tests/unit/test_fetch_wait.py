"""How long the broker may hold a lingering stage's fetches (pure arithmetic of batch_service)."""

from streams.agents.batch_service import SINK_FETCH_MIN_BYTES, broker_fetch_wait


def test_a_stage_that_does_not_linger_gets_records_at_once() -> None:
    assert broker_fetch_wait(0.0, SINK_FETCH_MIN_BYTES, 0.5) == {"fetch_min_bytes": 1, "fetch_max_wait_ms": 500}


def test_the_broker_never_waits_longer_than_the_stage_lingers() -> None:
    assert broker_fetch_wait(0.2, 256 * 1024, 0.5) == {"fetch_min_bytes": 256 * 1024, "fetch_max_wait_ms": 200}
    assert broker_fetch_wait(0.2, 256 * 1024, 0.05) == {"fetch_min_bytes": 256 * 1024, "fetch_max_wait_ms": 50}
    assert broker_fetch_wait(5.0, SINK_FETCH_MIN_BYTES, 0.5)["fetch_max_wait_ms"] == 500
    assert broker_fetch_wait(0.0004, SINK_FETCH_MIN_BYTES, 0.5)["fetch_max_wait_ms"] == 1


def test_no_minimum_means_aiokafkas_defaults() -> None:
    assert broker_fetch_wait(1.0, 1, 0.5) == {"fetch_min_bytes": 1, "fetch_max_wait_ms": 500}
