"""What a receiver's audio jitter buffer would have done with the packets as they arrived.

aiortc plays no audio out, so W3C's `concealedSamples`, `concealmentEvents`, `jitterBufferDelay` and
`jitterBufferEmittedCount` (https://www.w3.org/TR/webrtc-stats/) are estimated from arrival times and
RTP timestamps, with this model of an adaptive playout buffer (the shape of libwebrtc's NetEq, not
its code):

- Each packet's transit is `d = arrival - rtp_ts / clock_rate`; `d_min` is the smallest seen: the
  packet that came fastest defines "no wait".
- The buffer holds a packet until `d_min + target`, where `target` is the 95th percentile of
  `d - d_min` over the last `WINDOW` packets (before this one), and at least one packet's duration:
  enough delay to absorb the recent jitter, as NetEq's target level is.
- A packet that arrives in time waits `target - (d - d_min)`; its samples add `wait x samples` to `jitterBufferDelay` and
  their count to `jitterBufferEmittedCount` (W3C: the sum over emitted samples of their time in
  the buffer, and how many were emitted). A packet's length is the smallest RTP step seen between
  consecutive packets, so the very first packet (no step yet) counts no samples.
- A packet that arrives after its playout time (wait < 0), or never (a hole in the sequence
  numbers), had to be concealed: its samples add to `concealedSamples`, and each run of concealed
  packets is one `concealmentEvents`. A jump in RTP time with no missing sequence number (DTX, a
  paused sender) is not concealment: nothing was lost.
"""

from __future__ import annotations

from bisect import bisect_left, insort
from collections import deque
from dataclasses import dataclass, field

WINDOW = 100  # packets (2 s of 20 ms audio) whose delay sets the buffer's target
PERCENTILE = 0.95


@dataclass
class PlayoutModel:
    """One received audio SSRC, fed every packet in arrival order."""

    clock_rate: int
    delay: float = 0.0  # jitterBufferDelay, seconds x samples
    emitted: int = 0
    concealed: int = 0
    events: int = 0
    _min: float | None = None
    _recent: deque[float] = field(default_factory=lambda: deque(maxlen=WINDOW))
    _ordered: list[float] = field(default_factory=list)  # _recent, sorted: the percentile without a sort per packet
    _last_seq: int | None = None
    _last_ts: int = 0
    _ext: int = 0  # RTP time since the first packet, unwrapped
    _step: int = 0  # one packet's RTP time: the smallest step between consecutive packets
    _concealing: bool = False

    def packet(self, seq: int, ts: int, t: float) -> None:
        if self._last_seq is not None:
            gap = (seq - self._last_seq) & 0xFFFF
            if gap == 0 or gap >= 0x8000:  # a duplicate, or older than one already played
                return
            ts_step = (ts - self._last_ts) & 0xFFFFFFFF
            if ts_step >= 0x80000000:
                return
            if gap > 1:  # missing packets: their share of the RTP time was concealed
                self._conceal(ts_step - ts_step // gap)
            elif ts_step and (not self._step or ts_step < self._step):
                self._step = ts_step
            self._ext += ts_step
        self._last_seq, self._last_ts = seq, ts
        transit = t - self._ext / self.clock_rate
        if self._min is None or transit < self._min:
            self._min = transit
        late = transit - self._min
        # the buffer's target: the recent 95th percentile, at least one packet (a buffer holds one)
        target = max(_percentile(self._ordered) if self._ordered else 0.0, self._step / self.clock_rate)
        if len(self._recent) == WINDOW:
            del self._ordered[bisect_left(self._ordered, self._recent[0])]
        self._recent.append(late)
        insort(self._ordered, late)
        if late > target:  # after its playout time: played as concealment
            self._conceal(self._step)
            return
        self._concealing = False
        self.delay += (target - late) * self._step
        self.emitted += self._step

    def _conceal(self, samples: int) -> None:
        if samples <= 0:
            return
        self.concealed += samples
        if not self._concealing:
            self.events += 1
        self._concealing = True

    def fields(self) -> dict[str, float | int]:
        return {"concealedSamples": self.concealed, "concealmentEvents": self.events,
                "jitterBufferDelay": self.delay, "jitterBufferEmittedCount": self.emitted}


def _percentile(ordered: list[float]) -> float:
    return ordered[min(len(ordered) - 1, int(PERCENTILE * len(ordered)))]
