"""The impairment model of one direction: a sans-IO pipe that decides, per datagram, whether it is
dropped and when each of its copies leaves. No sockets, no event loop: `rtcprobe.net.seam` feeds it
datagrams and the loop's clock, so tests can drive it with synthetic packets and a made-up clock.

Stages, in order (a bottleneck link followed by a propagation path):

1. **loss**: independent (Bernoulli) with probability `loss`; with `burst` B, the simple
   Gilbert-Elliott model of `tc netem loss gemodel p r` (1-h = 100 %, 1-k = 0 %): a packet is lost
   iff the chain is in the bad state, then the chain moves (good -> bad with p, bad -> good with r).
   A bad run lasts 1/r packets on average and the chain is bad p/(p+r) of the time, so
   **r = 1/B and p = L / (B (1 - L))** give loss L with mean burst B (as webrtcperf's throttler
   derives netem's gemodel from loss and burst). p <= 1 needs L < B/(B+1). Then `rtploss`:
   independent loss of RTP datagrams only (RFC 7983/5761 classes), counted as loss drops too.
2. **duplicate**: with probability `duplicate` the datagram goes on as two copies.
3. **rate**: a drop-tail byte queue drained at `rate` bit/s. A copy that does not fit is a queue
   drop; otherwise it leaves the queue when the bytes before it and its own are serialised. The
   queue holds `queue` bytes, by default 1.5 x rate x delay (webrtcperf's throttler), with
   `limits.IMPAIR_MIN_QUEUE_DELAY` in place of a shorter delay.
4. **delay**: `delay` plus uniform jitter in [-jitter, +jitter] (netem's default, no table), never
   below 0. Order is kept (FIFO: a copy never leaves before the one ahead of it), except that a
   `reorder` fraction of copies skip the delay, as netem's `reorder` does; a skipping copy counts as
   reordered when it does overtake a copy still in flight.

Randomness: every knob draws from its own generator seeded from (seed, direction, knob), one
draw per datagram, so the drops depend only on the seed and the datagram sequence, not on the
other knobs or on timing (queue drops, which are the queue's arithmetic, do depend on timing).
"""

from __future__ import annotations

import random
from dataclasses import asdict, dataclass, field

from .. import limits
from .spec import Conditions

STUN, DTLS, RTP, RTCP, OTHER = "stun", "dtls", "rtp", "rtcp", "other"
CLASSES = (STUN, DTLS, RTP, RTCP, OTHER)


def wire_class(data: bytes) -> str:
    """What a datagram on a WebRTC 5-tuple is: RFC 7983 by the first byte (STUN 0-3, DTLS 20-63,
    RTP/RTCP 128-191), then RFC 5761 (RTCP packet types 192-223 in the second byte)."""
    first = data[0] if data else 255
    if first <= 3:
        return STUN
    if 20 <= first <= 63:
        return DTLS
    if 128 <= first <= 191 and len(data) > 1:
        return RTCP if 192 <= data[1] <= 223 else RTP
    return OTHER


def default_queue_bytes(c: Conditions) -> int:
    """1.5 x rate x delay (webrtcperf's throttler), the delay at least IMPAIR_MIN_QUEUE_DELAY."""
    if c.queue:
        return c.queue
    delay = max(c.delay, limits.IMPAIR_MIN_QUEUE_DELAY)
    return max(limits.IMPAIR_MIN_QUEUE_BYTES, int(1.5 * c.rate / 8 * delay))


def gilbert_elliott(loss: float, burst: float) -> tuple[float, float]:
    """(p, r) of the simple Gilbert model with stationary loss `loss` and mean burst `burst`."""
    r = 1.0 / burst
    return loss / (burst * (1.0 - loss)), r


@dataclass
class DirectionCounts:
    """What one direction did, the ground truth next to what the probe measures."""

    packets: int = 0  # datagrams offered to the network
    bytes: int = 0
    dropped_loss: int = 0  # by the loss model
    dropped_queue: int = 0  # by the full rate queue (or the held-packet bound)
    duplicated: int = 0  # datagrams sent twice (the copies count once here)
    reordered: int = 0  # copies that skipped the delay and overtook one in flight
    delayed: int = 0  # copies held for any time (queue or delay)
    delivered: int = 0  # copies handed on (seam)
    delivered_bytes: int = 0
    rtp_dropped: int = 0  # RTP datagrams dropped (loss or queue), the count "packets lost" should match
    lost_at_close: int = 0  # copies still held when the session closed its sockets
    queue_max_bytes: int = 0
    delay_sum: float = 0.0  # seconds the delivered copies were held, in total (seam: actual)
    delay_max: float = 0.0
    late_sum: float = 0.0  # seconds the delivered copies left after their due time, in total
    late_max: float = 0.0  # the most a copy left after its due time (event-loop lateness)
    by_class: dict[str, dict[str, int]] = field(default_factory=dict)  # class -> {"packets", "dropped"}

    def count_class(self, kind: str, dropped: bool) -> None:
        row = self.by_class.setdefault(kind, {"packets": 0, "dropped": 0})
        row["packets"] += 1
        row["dropped"] += int(dropped)

    def to_event(self) -> dict[str, object]:
        out = asdict(self)
        mean = self.delay_sum / self.delivered if self.delivered else 0.0
        late = self.late_sum / self.delivered if self.delivered else 0.0
        del out["delay_sum"], out["late_sum"]
        out["delay_mean_ms"] = round(mean * 1000, 3)
        out["late_mean_ms"] = round(late * 1000, 3)
        out["delay_max_ms"] = round(out.pop("delay_max") * 1000, 3)
        out["late_max_ms"] = round(out.pop("late_max") * 1000, 3)
        return out


class Pipe:
    """One direction's network. `offer(data, now)` -> the times (on `now`'s clock) at which each
    copy leaves; an empty list is a drop. Times are non-decreasing except for reordered copies."""

    def __init__(self, direction: str, seed: int, conditions: Conditions | None = None) -> None:
        self.direction = direction
        self.counts = DirectionCounts()
        self._rng = {knob: random.Random(f"{seed}:{direction}:{knob}")
                     for knob in ("loss", "duplicate", "jitter", "reorder", "rtploss")}
        self._bad = False  # Gilbert-Elliott state
        self._busy_until = 0.0  # when the rate queue is empty again
        self._last_release = 0.0  # latest release of an in-order copy (FIFO)
        self.conditions = Conditions()
        self.loss_drops: list[int] = []  # datagram indices (0-based, this direction) the loss model dropped
        self.rtp_drops: dict[int, list[int]] = {}  # SSRC -> sequence numbers of RTP dropped (loss or queue)
        self._queue_limit = 0
        self._ge: tuple[float, float] | None = None
        self.set_conditions(conditions or Conditions())

    def set_conditions(self, conditions: Conditions) -> None:
        """From now on. Copies in flight keep their times; the loss chain starts in the good state."""
        self.conditions = conditions
        self._queue_limit = default_queue_bytes(conditions) if conditions.rate else 0
        self._ge = gilbert_elliott(conditions.loss, conditions.burst) if conditions.burst and conditions.loss else None
        self._bad = False

    @property
    def queue_limit(self) -> int:
        return self._queue_limit

    def _lost(self) -> bool:
        c = self.conditions
        draw = self._rng["loss"].random()
        if self._ge is None:
            return draw < c.loss
        lost = self._bad
        p, r = self._ge
        self._bad = (draw >= r) if self._bad else (draw < p)
        return lost

    def offer(self, data: bytes, now: float) -> list[float]:
        c = self.conditions
        counts = self.counts
        size = len(data)
        counts.packets += 1
        counts.bytes += size
        if (c.loss and self._lost()) or (c.rtploss and wire_class(data) == RTP
                                         and self._rng["rtploss"].random() < c.rtploss):
            counts.dropped_loss += 1
            if len(self.loss_drops) < limits.IMPAIR_MAX_RECORDED_DROPS:
                self.loss_drops.append(counts.packets - 1)
            self._dropped(data)
            return []
        copies = 1
        if c.duplicate and self._rng["duplicate"].random() < c.duplicate:
            copies = 2
            counts.duplicated += 1
        releases = []
        for _ in range(copies):
            release = self._through_queue(size, now)
            if release is None:
                counts.dropped_queue += 1
                continue
            releases.append(self._through_delay(release, now))
        if releases:
            counts.count_class(wire_class(data), False)
        else:
            self._dropped(data)
        counts.delayed += sum(1 for t in releases if t > now)
        return releases

    def _dropped(self, data: bytes) -> None:
        kind = wire_class(data)
        self.counts.count_class(kind, True)
        if kind == RTP and len(data) >= 12 and self.counts.rtp_dropped < limits.IMPAIR_MAX_RECORDED_DROPS:
            ssrc, seq = int.from_bytes(data[8:12], "big"), int.from_bytes(data[2:4], "big")
            self.rtp_drops.setdefault(ssrc, []).append(seq)
        self.counts.rtp_dropped += kind == RTP

    def drops_event(self) -> dict[str, object]:
        """Which datagrams were dropped (capped at IMPAIR_MAX_RECORDED_DROPS each), for the summary:
        SRTP leaves RTP headers readable, so the truth is per SSRC and sequence number."""
        return {"loss_drops": self.loss_drops, "rtp_drops": {str(k): v for k, v in self.rtp_drops.items()},
                "drops_truncated": max(self.counts.dropped_loss, self.counts.rtp_dropped)
                > limits.IMPAIR_MAX_RECORDED_DROPS}

    def _through_queue(self, size: int, now: float) -> float | None:
        """When the copy leaves the rate queue, or None when the queue is full."""
        rate = self.conditions.rate
        if not rate:
            return now
        backlog = max(0.0, self._busy_until - now) * rate / 8
        if backlog + size > self._queue_limit:
            return None
        self._busy_until = max(now, self._busy_until) + size * 8 / rate
        self.counts.queue_max_bytes = max(self.counts.queue_max_bytes, int(backlog + size))
        return self._busy_until

    def _through_delay(self, departure: float, now: float) -> float:
        c = self.conditions
        delay = c.delay
        if c.jitter:
            delay = max(0.0, delay + self._rng["jitter"].uniform(-c.jitter, c.jitter))
        if c.reorder and self._rng["reorder"].random() < c.reorder:
            if self._last_release > departure:
                self.counts.reordered += 1
            return departure
        release = max(departure + delay, self._last_release)
        self._last_release = release
        return release

    def count_overflow(self) -> None:
        """A copy the seam could not hold (IMPAIR_MAX_HELD_PACKETS): a queue drop."""
        self.counts.dropped_queue += 1
