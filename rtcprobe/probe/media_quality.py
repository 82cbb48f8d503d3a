"""Media quality the probe measures itself, in W3C webrtc-stats names (https://www.w3.org/TR/webrtc-stats/).

aiortc decodes what it receives; this module is the one consumer of the received tracks
(`consume`: a single `recv()` loop per track, which hands each decoded frame on to a second
reader such as the voice observer, so no two loops compete for frames) and a packet-tap observer
(`observe`) for what only the packets tell: which RTP timestamps (frames) arrived, and which were
key frames (payloads.py: VP8 payload header P bit = 0 at the start of partition 0; H.264 IDR NAL unit, type 5,
alone, in STAP-A or as the start of FU-A).

Video inbound, per decoded frame, on the capture clock at the moment the frame left the decoder:
`framesDecoded`, `frameWidth`/`frameHeight` (the last frame), `framesPerSecond` (frames decoded in
the last second), `totalInterFrameDelay`/`totalSquaredInterFrameDelay`, and, as libwebrtc's
VideoQualityObserver does, a freeze when an inter-frame delay is at least max(3 x avg, avg + 150 ms)
with avg the mean of the previous 30 delays, and a pause (not also a freeze) when it is at least
5 s (`freezeCount`/`totalFreezesDuration`, `pauseCount`/`totalPausesDuration`). `framesReceived`
counts the RTP timestamps whose last packet (marker bit) arrived, plus any frame decoded without
one; `framesDropped` counts received frames older than a decoded one that were never decoded.
`keyFramesDecoded`: decoded frames whose packets said key frame.

Audio inbound, per decoded frame: `totalSamplesReceived` (samples per channel), `totalSamplesDuration`,
`totalAudioEnergy` (sum of level^2 x duration, W3C) and `audioLevel` (linear 0..1, RMS of the
last decoded frame relative to full scale, as RFC 6464's dBov is RMS-based); from the packets,
`concealedSamples`/`concealmentEvents`/`jitterBufferDelay`/`jitterBufferEmittedCount` of a modelled
playout buffer (playout_model.py says how).

Outbound video, from aiortc's encoder (created with the first frame): `targetBitrate` (what the
transport-cc estimator gave it, twcc.drive_encoders, or aiortc's default), and
`qualityLimitationReason` "bandwidth" when an estimate set that target (it differs from aiortc's
fixed DEFAULT_BITRATE) and it is below the codec's MAX_BITRATE, else "none".
"""

from __future__ import annotations

import asyncio
import contextlib
import sys
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .mediamap import MediaMap
from .payloads import VP8, is_key, rtp_payload, vp8_key_size
from .playout_model import PlayoutModel
from .red import MalformedRed, parse_red
from .taps import RECEIVED, RTP, Clock

FREEZE_WINDOW = 30  # inter-frame delays averaged for the freeze threshold (libwebrtc)
FREEZE_MIN_INCREASE = 0.150  # s: a freeze is also at least avg + 150 ms
PAUSE_S = 5.0  # s without a frame: a pause, not a freeze
PENDING_KEPT = 600  # received video timestamps awaiting their decode
_RED = "video/red"
_NOT_FRAMES = {"video/rtx", "video/red", "video/ulpfec", "video/flexfec-03",  # repair, not frames
               "audio/rtx", "audio/telephone-event", "audio/cn"}


@dataclass
class VideoIn:
    """Decoded-video counters of one receiver."""

    decoded: int = 0
    received_extra: int = 0  # decoded frames whose marker packet was not seen
    dropped: int = 0
    key_decoded: int = 0
    width: int | None = None
    height: int | None = None
    last_t: float | None = None
    delays: deque[float] = field(default_factory=lambda: deque(maxlen=FREEZE_WINDOW))
    total_delay: float = 0.0
    total_squared_delay: float = 0.0
    freezes: int = 0
    freeze_s: float = 0.0
    pauses: int = 0
    pause_s: float = 0.0
    recent: deque[float] = field(default_factory=deque)  # decode times within the last second

    def frame(self, t: float, width: int, height: int) -> None:
        self.decoded += 1
        self.width, self.height = width, height
        if self.last_t is not None:
            delay = t - self.last_t
            self.total_delay += delay
            self.total_squared_delay += delay * delay
            if delay >= PAUSE_S:
                self.pauses += 1
                self.pause_s += delay
            elif self.delays:
                avg = sum(self.delays) / len(self.delays)
                if delay >= max(3 * avg, avg + FREEZE_MIN_INCREASE):
                    self.freezes += 1
                    self.freeze_s += delay
            self.delays.append(delay)
        self.last_t = t
        self.recent.append(t)

    def fps(self, now: float) -> int:
        while self.recent and self.recent[0] <= now - 1.0:
            self.recent.popleft()
        return len(self.recent)


@dataclass
class AudioIn:
    """Decoded-audio counters of one receiver."""

    samples: int = 0
    duration: float = 0.0
    energy: float = 0.0
    level: float | None = None

    def frame(self, pcm: np.ndarray, n: int, rate: int) -> None:
        """`pcm`: the frame's int16 samples (any layout), `n` samples per channel at `rate` Hz."""
        if not n or not rate or not pcm.size:
            return
        level = float(np.sqrt(np.mean(np.square(pcm.astype(np.float64) / 32768.0))))
        self.samples += n
        seconds = n / rate
        self.duration += seconds
        self.energy += level * level * seconds
        self.level = min(level, 1.0)


@dataclass
class VideoOut:
    """Frames the probe encoded and sent on one SSRC."""

    mimes: dict[int, str]  # payload type -> mime type on the sender's m-line
    frames: int = 0
    width: int | None = None
    height: int | None = None
    recent: deque[float] = field(default_factory=deque)

    def fps(self, now: float) -> int:
        while self.recent and self.recent[0] <= now - 1.0:
            self.recent.popleft()
        return len(self.recent)


@dataclass
class _Packets:
    """Per received video SSRC: frames (RTP timestamps) seen complete, and which were key frames."""

    origin: int  # the first RTP timestamp: aiortc's decoded pts count from it (its TimestampMapper)
    mime: str | None = None
    rate: int | None = None
    playout: PlayoutModel | None = None  # received audio: what a jitter buffer would have done
    red_mimes: dict[int, str] = field(default_factory=dict)  # RED block payload type -> mime
    complete: int = 0
    pending: deque[int] = field(default_factory=deque)  # complete, not yet decoded, arrival order
    seen: set[int] = field(default_factory=set)
    key: set[int] = field(default_factory=set)


class MediaQuality:
    """The received tracks' single consumer, and the W3C media fields of inbound/outbound-rtp."""

    def __init__(self, pc: Any, clock: Clock, playout: bool = True) -> None:
        self.pc = pc
        self.clock = clock
        self.playout = playout  # model the audio playout; False when nothing is decoded (`--lite`): its fields go with the decoded ones
        self._video: dict[Any, VideoIn] = {}  # by receiver
        self._audio: dict[Any, AudioIn] = {}
        self._packets: dict[int, _Packets] = {}  # by SSRC
        self._receivers: dict[int, Any] = {}  # SSRC -> receiver, once aiortc has seen it
        self._tasks: list[asyncio.Task[None]] = []
        self._sent: dict[int, VideoOut] = {}  # by our SSRC
        #: The answer as received: RED and FEC payload types, which offer_shape keeps from aiortc.
        self.answer: MediaMap | None = None

    # -- packets ---------------------------------------------------------------------------
    def observe(self, direction: str, kind: str, data: bytes, t: float) -> None:
        """PacketTap observer: complete frames and key frames of received video, frames sent."""
        if kind != RTP or len(data) < 12:
            return
        ssrc = int.from_bytes(data[8:12], "big")
        if direction != RECEIVED:
            self._sent_packet(ssrc, data, t)
            return
        ts = int.from_bytes(data[4:8], "big")
        p = self._packets.get(ssrc)
        if p is None:
            p = self._packets[ssrc] = _Packets(ts)
        if p.mime is None:
            p.mime, p.rate = self._codec(ssrc, data[1] & 0x7F)
            if self.playout and p.mime is not None and p.mime.startswith("audio/") and p.mime not in _NOT_FRAMES and p.rate:
                p.playout = PlayoutModel(p.rate)
        if p.playout is not None:
            p.playout.packet(int.from_bytes(data[2:4], "big"), ts, t)
            return
        mime, payload = p.mime, rtp_payload(data)
        if mime == _RED:  # RED (RFC 2198, red.py unwraps it after the taps): the primary block decides
            try:
                primary = parse_red(payload)[-1]
            except MalformedRed:
                return
            mime, payload = p.red_mimes.get(primary.payload_type), primary.data
            if mime is None:
                mime = p.red_mimes[primary.payload_type] = self._codec(ssrc, primary.payload_type)[0] or ""
        if mime is None or not mime.startswith("video/") or mime in _NOT_FRAMES:
            return
        if payload and is_key(mime, payload):
            p.key.add(ts)
        if data[1] & 0x80 and ts not in p.seen:  # marker: the frame's last packet
            p.complete += 1
            p.seen.add(ts)
            p.pending.append(ts)
            while len(p.pending) > PENDING_KEPT:
                p.seen.discard(p.pending.popleft())

    def _codec(self, ssrc: int, payload_type: int) -> tuple[str | None, int | None]:
        """(mime, clock rate) of `payload_type` on the SSRC's m-line; before aiortc has seen the SSRC
        (its first packet), the one codec every m-line gives that payload type, if they agree."""
        receiver = self._receiver_of(ssrc)
        found = {(c.mimeType.lower(), c.clockRate) for t in self.pc.getTransceivers()
                 if receiver is None or t.receiver is receiver
                 for c in getattr(t, "_codecs", None) or [] if c.payloadType == payload_type}
        if not found and self.answer is not None:  # a payload type aiortc was not told of (RED, FEC)
            codec = self.answer.codec(None, payload_type)
            found = {(codec[0].lower(), codec[1])} if codec and codec[0] else set()
        return found.pop() if len(found) == 1 else (None, None)

    def _receiver_of(self, ssrc: int) -> Any:
        """The receiver that has seen `ssrc` (aiortc's getSynchronizationSources), remembered."""
        if ssrc not in self._receivers:
            for t in self.pc.getTransceivers():
                if any(s.source == ssrc for s in t.receiver.getSynchronizationSources()):
                    self._receivers[ssrc] = t.receiver
                    break
        return self._receivers.get(ssrc)

    def _sent_packet(self, ssrc: int, data: bytes, t: float) -> None:
        """aiortc sends every frame its encoder gives: a sent video frame (marker) is an encoded one.
        Its size is in each VP8 key frame's header (RFC 6386 §9.1: start code, 14-bit width, height)."""
        out = self._sent.get(ssrc)
        if out is None:
            sender = next((s for s in self.pc.getSenders() if getattr(s, "_ssrc", None) == ssrc), None)
            transceiver = next((x for x in self.pc.getTransceivers() if x.sender is sender), None)
            codecs = getattr(transceiver, "_codecs", None) or []
            mimes = {c.payloadType: c.mimeType.lower() for c in codecs}
            out = self._sent[ssrc] = VideoOut(mimes)
        mime = out.mimes.get(data[1] & 0x7F)
        if mime is None or not mime.startswith("video/") or mime in _NOT_FRAMES:
            return
        if mime == VP8:
            size = vp8_key_size(rtp_payload(data))
            if size is not None:
                out.width, out.height = size
        if data[1] & 0x80:
            out.frames += 1
            out.recent.append(t)

    # -- decoded frames -------------------------------------------------------------------
    def consume(self, track: Any, also: Callable[[Any], None] | None = None) -> None:
        """Read `track` until it ends; each decoded frame is measured, then given to `also`."""
        receiver = next((t.receiver for t in self.pc.getTransceivers() if t.receiver.track is track), track)
        self._tasks.append(asyncio.ensure_future(self._consume(track, receiver, also)))

    async def _consume(self, track: Any, receiver: Any, also: Callable[[Any], None] | None) -> None:
        with contextlib.suppress(Exception):  # MediaStreamError at the end; the session goes on regardless
            while True:
                frame = await track.recv()
                self.on_frame(receiver, track.kind, frame, self.clock())
                if also is not None:
                    also(frame)

    def on_frame(self, receiver: Any, kind: str, frame: Any, t: float) -> None:
        if kind == "video":
            video = self._video.setdefault(receiver, VideoIn())
            video.frame(t, frame.width, frame.height)
            self._decoded(receiver, video, frame.pts)
        else:
            self._audio.setdefault(receiver, AudioIn()).frame(frame.to_ndarray(), frame.samples, frame.sample_rate)

    def _decoded(self, receiver: Any, video: VideoIn, pts: int | None) -> None:
        """aiortc's decoded frame carries its RTP timestamp minus the stream's first as pts."""
        mine = [s for s, r in self._receivers.items() if r is receiver]
        if not mine and hasattr(receiver, "getSynchronizationSources"):  # its first frame: learn its SSRCs
            mine = [s.source for s in receiver.getSynchronizationSources()]
            self._receivers.update(dict.fromkeys(mine, receiver))
        p = max((self._packets[s] for s in mine if s in self._packets),
                key=lambda q: q.complete, default=None)  # the media SSRC, not its RTX
        if p is None or pts is None:
            return
        ts = (pts + p.origin) & 0xFFFFFFFF
        if ts in p.key:
            video.key_decoded += 1
            p.key.discard(ts)
        if ts not in p.seen:
            video.received_extra += 1
            return
        while p.pending:  # older complete frames never decoded were dropped
            older = p.pending.popleft()
            p.seen.discard(older)
            if older == ts:
                break
            video.dropped += 1

    # -- stats fields ---------------------------------------------------------------------
    def inbound_fields(self, ssrc: int) -> dict[str, Any]:
        """For StatsCollector.add_inbound_fields."""
        receiver = self._receiver_of(ssrc)
        if receiver is None:
            return {}
        if receiver in self._video:
            v = self._video[receiver]
            p = self._packets.get(ssrc) or _Packets(0)
            out: dict[str, Any] = {
                "framesReceived": p.complete + v.received_extra, "framesDecoded": v.decoded,
                "keyFramesDecoded": v.key_decoded, "framesDropped": v.dropped,
                "framesPerSecond": v.fps(self.clock()), "totalInterFrameDelay": v.total_delay,
                "totalSquaredInterFrameDelay": v.total_squared_delay, "freezeCount": v.freezes,
                "totalFreezesDuration": v.freeze_s, "pauseCount": v.pauses, "totalPausesDuration": v.pause_s}
            if v.width is not None:
                out.update(frameWidth=v.width, frameHeight=v.height)
            return out
        if receiver in self._audio:
            a = self._audio[receiver]
            p = self._packets.get(ssrc)
            return {**(p.playout.fields() if p is not None and p.playout is not None else {}),"totalSamplesReceived": a.samples, "totalSamplesDuration": a.duration,
                    "totalAudioEnergy": a.energy, **({"audioLevel": a.level} if a.level is not None else {})}
        return {}

    def outbound_fields(self, ssrc: int) -> dict[str, Any]:
        """For StatsCollector.add_outbound_fields: frames encoded and sent, the encoder's target and its limit."""
        out: dict[str, Any] = {}
        sent = self._sent.get(ssrc)
        if sent is not None and sent.frames:
            out.update(framesEncoded=sent.frames, framesSent=sent.frames, framesPerSecond=sent.fps(self.clock()))
            if sent.width is not None:
                out.update(frameWidth=sent.width, frameHeight=sent.height)
        for sender in self.pc.getSenders():
            if getattr(sender, "_ssrc", None) != ssrc or sender.kind != "video":
                continue
            encoder = getattr(sender, "_RTCRtpSender__encoder", None)  # created with the first frame
            target = getattr(encoder, "target_bitrate", None)
            if target is not None:
                default, most = _bitrates(encoder)
                limited = target != default and most is not None and target < most
                out.update(targetBitrate=target, qualityLimitationReason="bandwidth" if limited else "none")
        return out

    async def close(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(BaseException):
                await task


def _bitrates(encoder: Any) -> tuple[int | None, int | None]:
    """aiortc's fixed default (no estimate applied) and highest bitrate for this encoder's codec."""
    module = sys.modules.get(type(encoder).__module__)
    return getattr(module, "DEFAULT_BITRATE", None), getattr(module, "MAX_BITRATE", None)
