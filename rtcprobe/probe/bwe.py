"""A send-side bandwidth estimate from transport-cc feedback, in the style of GCC.

draft-ietf-rmcat-gcc-02 and libwebrtc's goog_cc, reduced to their core, so that the probe's
video sender paces itself as a browser does and can report `availableOutgoingBitrate`:

- delay-based: packets are grouped into 5 ms send bursts; the delay gradient between groups
  (arrival delta - send delta) feeds a trendline filter (smoothing 0.9, 20-sample window, gain 4);
  an over-use detector with an adaptive threshold (12.5 ms initial, k_up 0.0087, k_down 0.039)
  says over-use / normal / under-use; an AIMD controller increases by 8 %/s (additively near the
  last congestion point), holds on under-use, and drops to 0.85 × the acknowledged bitrate on
  over-use;
- loss-based: over each feedback window, under 2 % loss the bound grows by 8 %/s, over 10 % it
  falls to rate × (1 - loss / 2), in between it holds;
- the estimate is the smaller of the two, within [min, max] and at most 1.5 × the acknowledged
  bitrate + 10 kbit/s while increasing (it cannot claim what was never tried).
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

BURST_S = 0.005
TRENDLINE_WINDOW = 20
SMOOTHING = 0.9
THRESHOLD_GAIN = 4.0
K_UP, K_DOWN = 0.0087, 0.039
BETA = 0.85
ACKED_WINDOW_S = 0.5


@dataclass(frozen=True)
class PacketResult:
    """One packet the feedback reported: when and how big it was sent, when it arrived (µs on the
    far end's clock; None when reported lost)."""

    send_t: float
    size: int
    arrival_us: int | None


@dataclass
class _Group:
    send_first: float
    send_last: float
    arrival_last: float
    size: int = 0


@dataclass
class OveruseDetector:
    """Trendline filter + adaptive threshold (goog_cc's TrendlineEstimator)."""

    threshold: float = 12.5
    state: str = "normal"
    _accumulated: float = 0.0
    _smoothed: float = 0.0
    _first_arrival: float | None = None
    _samples: deque[tuple[float, float]] = field(default_factory=lambda: deque(maxlen=TRENDLINE_WINDOW))
    _deltas: int = 0
    _previous_trend: float = 0.0
    _over_ms: float = -1.0
    _over_count: int = 0
    _last_update: float | None = None

    def update(self, send_delta_ms: float, arrival_delta_ms: float, arrival_ms: float) -> str:
        self._deltas += 1
        if self._first_arrival is None:
            self._first_arrival = arrival_ms
        self._accumulated += arrival_delta_ms - send_delta_ms
        self._smoothed = SMOOTHING * self._smoothed + (1 - SMOOTHING) * self._accumulated
        self._samples.append((arrival_ms - self._first_arrival, self._smoothed))
        trend = self._previous_trend
        if len(self._samples) == TRENDLINE_WINDOW:
            trend = _slope(self._samples) or trend
        modified = min(self._deltas, 60) * trend * THRESHOLD_GAIN
        if modified > self.threshold:
            self._over_ms = send_delta_ms / 2 if self._over_ms < 0 else self._over_ms + send_delta_ms
            self._over_count += 1
            if self._over_ms > 10 and self._over_count > 1 and trend >= self._previous_trend:
                self._over_ms, self._over_count, self.state = 0, 0, "overuse"
        elif modified < -self.threshold:
            self._over_ms, self.state = -1, "underuse"
        else:
            self._over_ms, self._over_count, self.state = -1, 0, "normal"
        self._previous_trend = trend
        self._adapt(modified, arrival_ms)
        return self.state

    def _adapt(self, modified: float, now_ms: float) -> None:
        last, self._last_update = self._last_update, now_ms
        if last is None or abs(modified) > self.threshold + 15:
            return
        k = K_DOWN if abs(modified) < self.threshold else K_UP
        self.threshold += k * (abs(modified) - self.threshold) * min(now_ms - last, 100)
        self.threshold = min(max(self.threshold, 6), 600)


def _slope(samples: deque[tuple[float, float]]) -> float | None:
    n = len(samples)
    mean_x = sum(x for x, _ in samples) / n
    mean_y = sum(y for _, y in samples) / n
    den = sum((x - mean_x) ** 2 for x, _ in samples)
    if den == 0:
        return None
    return sum((x - mean_x) * (y - mean_y) for x, y in samples) / den


class SendSideBwe:
    """Feed `on_feedback` the packets each transport-cc feedback reported; read `estimate` (bit/s)."""

    def __init__(self, start_bps: int = 300_000, min_bps: int = 30_000, max_bps: int = 10_000_000) -> None:
        self.min_bps, self.max_bps = min_bps, max_bps
        self.delay_bps = float(start_bps)
        self.loss_bps = float(start_bps)
        self.detector = OveruseDetector()
        self.loss_fraction = 0.0
        self._group: _Group | None = None
        self._previous_group: _Group | None = None
        self._acked: deque[tuple[float, int]] = deque()
        self._last_update: float | None = None
        self._last_decrease_bps: float | None = None
        self._loss_counts = [0, 0]  # lost, reported
        self._loss_window_start: float | None = None

    @property
    def estimate(self) -> int:
        return int(min(max(min(self.delay_bps, self.loss_bps), self.min_bps), self.max_bps))

    @property
    def acked_bps(self) -> float | None:
        if len(self._acked) < 2:
            return None
        span = self._acked[-1][0] - self._acked[0][0]
        if span < ACKED_WINDOW_S / 4:
            return None
        return 8 * sum(size for _, size in self._acked) / max(span, ACKED_WINDOW_S / 2)

    def on_feedback(self, results: list[PacketResult], now: float) -> int:
        """Update from one feedback packet's results (in sequence order); returns the estimate."""
        state = self.detector.state
        for r in sorted((r for r in results if r.arrival_us is not None), key=lambda r: r.send_t):
            arrival = r.arrival_us / 1e6  # type: ignore[operator]
            self._acked.append((arrival, r.size))
            state = self._group_packet(r.send_t, arrival, r.size) or state
        while self._acked and self._acked[-1][0] - self._acked[0][0] > ACKED_WINDOW_S:
            self._acked.popleft()
        dt = 0.0 if self._last_update is None else min(now - self._last_update, 1.0)
        self._last_update = now
        self._rate_control(state, dt)
        self._loss_control(results, now, dt)
        return self.estimate

    def _group_packet(self, send_t: float, arrival: float, size: int) -> str | None:
        group = self._group
        if group is None or send_t - group.send_first > BURST_S and arrival >= group.arrival_last:
            state = None
            prev = self._previous_group
            if group is not None and prev is not None:
                state = self.detector.update(1000 * (group.send_last - prev.send_last),
                                             1000 * (group.arrival_last - prev.arrival_last),
                                             1000 * group.arrival_last)
            if group is not None:
                self._previous_group = group
            self._group = _Group(send_t, send_t, arrival, size)
            return state
        group.send_last = max(group.send_last, send_t)
        group.arrival_last = max(group.arrival_last, arrival)
        group.size += size
        return None

    def _rate_control(self, state: str, dt: float) -> None:
        acked = self.acked_bps
        if state == "overuse":
            if acked is not None:
                decreased = BETA * acked
                if decreased < self.delay_bps:
                    self.delay_bps = decreased
                    self._last_decrease_bps = decreased
        elif state == "normal" and dt > 0:
            before = self.delay_bps
            if self._last_decrease_bps is not None and self.delay_bps < 1.5 * self._last_decrease_bps \
                    and self.delay_bps > 0.5 * self._last_decrease_bps:
                self.delay_bps += max(1000.0, 8 * 1200 / 0.1 * dt)  # additive: about a packet per RTT
            else:
                self.delay_bps *= 1.08 ** dt
            if acked is not None:  # no increase beyond what was tried; an app-limited sender keeps its estimate
                self.delay_bps = min(self.delay_bps, max(before, 1.5 * acked + 10_000))
        self.delay_bps = min(max(self.delay_bps, self.min_bps), self.max_bps)

    def _loss_control(self, results: list[PacketResult], now: float, dt: float) -> None:
        self._loss_counts[0] += sum(r.arrival_us is None for r in results)
        self._loss_counts[1] += len(results)
        if self._loss_window_start is None:
            self._loss_window_start = now
        if self._loss_counts[1] < 20 or now - self._loss_window_start < 0.3:
            return
        lost, reported = self._loss_counts
        self.loss_fraction = lost / reported
        self._loss_counts, self._loss_window_start = [0, 0], now
        current = min(self.delay_bps, self.loss_bps)
        if self.loss_fraction < 0.02:
            self.loss_bps = min(max(self.loss_bps, current) * 1.08 ** max(dt, 0.3), 1.5 * self.delay_bps)
        elif self.loss_fraction > 0.10:
            self.loss_bps = current * (1 - self.loss_fraction / 2)
        self.loss_bps = min(max(self.loss_bps, self.min_bps), self.max_bps)
