"""Voice observer: when the probe's speech left, and when the agent's speech arrived, packet by packet.

Two inputs, one clock (the capture's):

- the packet taps (`observe`): the send time of every audio RTP packet the probe sends, by its
  RTP timestamp, and the arrival time of every audio RTP packet it receives, by timestamp too;
- the received audio track (`consume`): aiortc's decoded frames (its jitter buffer and Opus
  decoder, as any receiver plays them), each mapped back to its packet's arrival time through
  its pts (aiortc sets pts = RTP timestamp - the first one), then classified by the one VAD
  (rtcprobe.voice.vad). A boundary is therefore the arrival time of the packet that carried the
  first (last) voiced 20 ms, never the moment the decoder or the VAD got to it.

The VAD runs on the media's own timeline (the frames' RTP time), so that its hangover counts
audio, not arrival: a stalled sender or a burst on the network neither ends nor prolongs speech;
only the boundaries it finds are then stamped with their packets' arrival.

The first *packet* of an answer (what a jitter buffer sees) is the first received audio packet
after the user's speech end that either follows a gap in the stream's RTP timestamps (a sender
that sends nothing between answers, or DTX) or decodes to more than digital silence
(`AUDIBLE_PEAK`); from it to the first voiced frame is the answer's silent padding.
"""

from __future__ import annotations

import asyncio
import contextlib
import struct
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import av
import numpy as np

from ..voice.vad import FRAME_MS, RATE, SpeechEvent, StreamingVad, frame_pcm
from .taps import RECEIVED, RTP, SENT, Clock

_RTP = struct.Struct("!BBHII")
_MASK = 0xFFFFFFFF
#: Peak sample (of 32767) above which decoded audio is more than digital silence: -60 dBFS.
AUDIBLE_PEAK = 33
#: A jump in RTP time that makes the next packet a "first packet": more than 2.5 usual steps.
GAP_STEPS = 2.5
#: Packets remembered per direction (timestamp -> time): 60 s of 20 ms audio.
REMEMBERED = 3000
FRAME_S = FRAME_MS / 1000


@dataclass
class HeardFrame:
    """One decoded received frame: the arrival of its packet, its peak, whether a gap preceded it."""

    t: float
    peak: int
    after_gap: bool


class _Times:
    """RTP timestamp -> first time seen, for the last REMEMBERED packets of one stream."""

    def __init__(self) -> None:
        self.first_ts: int | None = None
        self.times: dict[int, float] = {}
        self._order: deque[int] = deque()
        self.last_ts: int | None = None
        self.step: int | None = None  # the smallest RTP step seen: one packet's worth
        self.gap_before: dict[int, bool] = {}

    def add(self, ts: int, t: float) -> None:
        if self.first_ts is None:
            self.first_ts = ts
        if ts in self.times:
            return
        gap = False
        if self.last_ts is not None:
            step = (ts - self.last_ts) & _MASK
            if step >= 0x80000000:  # late (reordered): not a step forward
                step = 0
            elif step:
                gap = self.step is not None and step > GAP_STEPS * self.step
                self.step = step if self.step is None else min(self.step, step)
                self.last_ts = ts
        else:
            self.last_ts = ts
        self.gap_before[ts] = gap
        self.times[ts] = t
        self._order.append(ts)
        if len(self._order) > REMEMBERED:
            old = self._order.popleft()
            self.times.pop(old, None)
            self.gap_before.pop(old, None)

    def at_offset(self, offset: int) -> int | None:
        return None if self.first_ts is None else (self.first_ts + offset) & _MASK


class VoiceObserver:
    """Send times of the probe's audio, arrival times and VAD boundaries of the agent's."""

    def __init__(self, clock: Clock, transceiver: Any) -> None:
        self.clock = clock
        self.transceiver = transceiver  # the probe's audio transceiver: its sender SSRC, its payload types
        self.sent = _Times()
        self.received = _Times()
        self.vad = StreamingVad()
        self.speech: list[SpeechEvent] = []  # boundaries heard, in order (t = packet arrival)
        self.heard: deque[HeardFrame] = deque(maxlen=REMEMBERED)
        self._arrivals: dict[int, float] = {}  # media frame index (20 ms) -> arrival of its packet
        self._arrival_order: deque[int] = deque()
        self.unmapped = 0  # decoded frames whose packet was not seen (should stay 0)
        self.changed = asyncio.Event()  # set at every new boundary and sent packet (the turn script waits)
        self._audio_pts: set[int] | None = None
        self._resampler: av.AudioResampler | None = None
        self._task: asyncio.Task[None] | None = None
        self.decode_seconds = 0.0  # CPU spent here per frame (PCM conversion + VAD), for the bench

    # -- packets (hot path) -------------------------------------------------------------------
    def observe(self, direction: str, kind: str, data: bytes, t: float) -> None:
        if kind != RTP or len(data) < 12:
            return
        _, second, _, ts, ssrc = _RTP.unpack_from(data)
        if direction == SENT:
            if ssrc == self.transceiver.sender._ssrc:
                self.sent.add(ts, t)
                self.changed.set()
        elif direction == RECEIVED and (second & 0x7F) in self._audio_payload_types():
            self.received.add(ts, t)

    def _audio_payload_types(self) -> set[int]:
        if self._audio_pts is None:
            codecs = getattr(self.transceiver, "_codecs", None) or []
            if not codecs:
                return set()
            self._audio_pts = {c.payloadType for c in codecs}
        return self._audio_pts

    def sent_at(self, pts: int) -> float | None:
        """Send time of the packet carrying the source's sample `pts` (48 kHz; its 20 ms frame), whose
        RTP timestamp counts the sending codec's clock (48 kHz Opus, 8 kHz PCMU/PCMA)."""
        codecs = getattr(self.transceiver, "_codecs", None) or []
        clock = codecs[0].clockRate if codecs else RATE  # aiortc sends with the first negotiated codec
        frame = pts - pts % (RATE * FRAME_MS // 1000)
        ts = self.sent.at_offset(frame * clock // RATE)
        return None if ts is None else self.sent.times.get(ts)

    # -- the received track ---------------------------------------------------------------------
    def consume(self, track: Any) -> None:
        """Read the agent's audio track until it ends (instead of a black hole)."""
        self._task = asyncio.ensure_future(self._consume(track))

    async def _consume(self, track: Any) -> None:
        with contextlib.suppress(Exception):  # MediaStreamError at the end; the session goes on regardless
            while True:
                self.on_frame(await track.recv())

    def on_frame(self, frame: av.AudioFrame) -> None:
        """One decoded frame: find its packet's arrival, classify it, note boundaries."""
        ts = self.received.at_offset(int(frame.pts or 0))
        t = None if ts is None else self.received.times.get(ts)
        if t is None:
            self.unmapped += 1
            return
        started = self.clock()
        pcm = self._pcm(frame)
        peak = int(np.abs(pcm.astype(np.int32)).max()) if pcm.size else 0
        self.heard.append(HeardFrame(t, peak, self.received.gap_before.get(ts, False)))  # type: ignore[arg-type]
        media_t = float(frame.pts * frame.time_base) if frame.time_base else (frame.pts or 0) / RATE
        index = round(media_t / FRAME_S)
        for i in range(index, index + max(1, round(pcm.size / RATE / FRAME_S))):
            self._arrivals[i] = t
            self._arrival_order.append(i)
        while len(self._arrival_order) > REMEMBERED:
            self._arrivals.pop(self._arrival_order.popleft(), None)
        events = self.vad.push(pcm, media_t)
        self.decode_seconds += self.clock() - started
        for event in events:
            # a start is the first voiced frame; an end is the end of the last one: that frame's packet
            frame_index = round(event.t / FRAME_S) - (event.kind == "end")
            arrival = self._arrivals.get(frame_index)
            if arrival is not None:
                self.speech.append(SpeechEvent(event.kind, arrival, t))
        if events:
            self.changed.set()

    def _pcm(self, frame: av.AudioFrame) -> np.ndarray:
        if frame.sample_rate == RATE:
            return frame_pcm(frame)
        if self._resampler is None:  # PCMU/PCMA: 8 kHz, to the VAD's 48 kHz
            self._resampler = av.AudioResampler(format="s16", layout="mono", rate=RATE)
        out = [f.to_ndarray().reshape(-1) for f in self._resampler.resample(frame)]
        return np.concatenate(out).astype(np.int16) if out else np.zeros(0, dtype=np.int16)

    # -- questions of the turn script ----------------------------------------------------------
    def speech_after(self, kind: str, after: float) -> SpeechEvent | None:
        """The first boundary of `kind` at or after `after`."""
        return next((e for e in self.speech if e.kind == kind and e.t >= after), None)

    def first_packet(self, after: float, until: float) -> float | None:
        """Arrival of the first answer packet in (after, until]: after a gap, or not digital silence."""
        for frame in self.heard:
            if after < frame.t <= until and (frame.after_gap or frame.peak > AUDIBLE_PEAK):
                return frame.t
        return None

    async def wait(self, done: Callable[[], bool], until: float) -> bool:
        """Wait until `done()` or the capture clock reaches `until`; whether done."""
        while not done():
            remaining = until - self.clock()
            if remaining <= 0:
                return False
            self.changed.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.changed.wait(), min(remaining, 0.05))
        return True

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(BaseException):
                await self._task
