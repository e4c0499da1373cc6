"""The bench's live traffic: generated before the clock starts, paced by emit time."""

from __future__ import annotations

from pulse.bench_latency import LatencyPlan, live_traffic, traffic_lead_ms

T0 = 1_795_255_200_000


def test_live_traffic_is_in_emit_order_within_its_seconds_at_about_its_rate() -> None:
    traffic = live_traffic(LatencyPlan(rate=2000, seconds=3, seed=3), T0)
    emits = [ms for ms, _ in traffic]
    assert emits == sorted(emits)
    assert emits[0] >= T0 and emits[-1] <= T0 + 3000
    assert 5000 <= len(traffic) <= 7000


def test_the_lead_before_the_traffic_starts_grows_with_the_traffic() -> None:
    # Generating costs 50 ms to start and 20 µs per event (given, not timed: timings vary).
    def timed(events: int) -> float:
        return 0.05 + events * 20e-6

    small = traffic_lead_ms(LatencyPlan(rate=2000, seconds=1), timed)
    large = traffic_lead_ms(LatencyPlan(rate=2000, seconds=60), timed)
    assert small == int(1000 * (0.5 + 0.15 + 1.2 * 20e-6 * 2000))
    assert large == int(1000 * (0.5 + 0.15 + 1.2 * 20e-6 * 120_000))


def test_the_measured_lead_keeps_its_half_second_margin() -> None:
    assert traffic_lead_ms(LatencyPlan(rate=2000, seconds=1)) >= 500
