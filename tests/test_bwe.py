"""The send-side estimate (bwe.py) on synthetic feedback: deterministic packet schedules, no clocks."""

from __future__ import annotations

from rtcprobe.probe.bwe import PacketResult, SendSideBwe

SIZE = 1200


def run(rate_bps: float, seconds: float, *, capacity_bps: float | None = None, lose_every: int = 0,
        bwe: SendSideBwe | None = None) -> tuple[SendSideBwe, list[int], set[str]]:
    """Send SIZE-byte packets at `rate_bps` through a link of `capacity_bps` (a FIFO queue; None:
    unlimited) with 20 ms propagation; feedback every 100 ms. Returns the estimates after each."""
    bwe = bwe or SendSideBwe()
    interval = SIZE * 8 / rate_bps
    estimates, states, pending = [], set(), []
    t, link_free, next_feedback, k = 0.0, 0.0, 0.1, 0
    while t < seconds:
        arrival = t + 0.020
        if capacity_bps is not None:
            arrival = max(arrival, link_free) + SIZE * 8 / capacity_bps
            link_free = arrival
        lost = lose_every and k % lose_every == 0
        pending.append(PacketResult(t, SIZE, None if lost else int(arrival * 1e6)))
        k += 1
        t += interval
        if t >= next_feedback:
            ready = [p for p in pending if p.arrival_us is None or p.arrival_us <= next_feedback * 1e6]
            pending = [p for p in pending if p not in ready]
            if ready:
                estimates.append(bwe.on_feedback(ready, next_feedback))
                states.add(bwe.detector.state)
            next_feedback += 0.1
    return bwe, estimates, states


def test_clean_path_ramps_up_bounded_by_what_was_sent() -> None:
    bwe, estimates, states = run(1_000_000, 10)
    assert states == {"normal"}
    assert estimates[-1] > 1.5 * 300_000
    assert max(estimates) <= 1.5 * 1_000_000 + 10_000 + 1  # never beyond 1.5x the acknowledged rate


def test_a_bottleneck_is_detected_as_overuse_and_the_estimate_falls_below_the_sending_rate() -> None:
    bwe = SendSideBwe(start_bps=1_000_000)
    bwe, estimates, states = run(1_000_000, 6, capacity_bps=500_000, bwe=bwe)
    assert "overuse" in states
    assert estimates[-1] < 0.85 * 1_000_000
    assert estimates[-1] <= 0.85 * 500_000 * 1.5  # about the bottleneck's rate, not the sending rate


def test_heavy_loss_lowers_the_loss_based_bound() -> None:
    bwe, estimates, _ = run(1_000_000, 5, lose_every=4, bwe=SendSideBwe(start_bps=1_000_000))
    assert abs(bwe.loss_fraction - 0.25) < 0.05
    assert estimates[-1] < 0.5 * 1_000_000


def test_light_loss_does_not_lower_the_estimate() -> None:
    _, estimates, _ = run(1_000_000, 5, lose_every=100, bwe=SendSideBwe(start_bps=500_000))
    assert estimates[-1] >= 500_000
