"""`--lite` sessions (rtcprobe load): what a session does not need to record or compute under load.

- The capture keeps the stats samples and RTCP **counts**, not one `rtcp` event per packet: under
  load those are most of a capture's lines and of its writing cost. The collector still counts
  every RTCP packet by type; a lite capture ends with one `rtcp_counts` event holding them, and its
  header says `lite: true`, so that no view reads the missing `rtcp` events as "no RTCP".
- Received media is not decoded (`no_decoding`): packets are counted, reassembled into frames and
  answered with RTCP (NACK, PLI, reports) exactly as before, but frames never reach a decoder. So a
  lite capture's inbound-rtp has the packet counters (packets, bytes, loss, jitter) and none of the
  decoded-media fields (framesDecoded, totalSamplesReceived, audioLevel, concealment): absent, never 0.
- A periodic audio source (a tone of whole Hz, silence) is encoded once per process and codec, one
  loop of it, and each session sends that loop (`send_encoded_loop`): the same packets, paced in
  real time, with the same RFC 6465 levels, instead of encoding 50 frames a second per session.
- The video test pattern likewise: its first second, a key frame first, encoded once per process,
  size, rate and codec, at the encoder's starting bitrate, and packetized by each sender. So under
  `--lite` the video does not follow the bandwidth estimate, answers a PLI with the next loop's key
  frame (within a second) and shows the frame numbers 0 to fps-1 again every second.

Profiled with 25 sessions on one core, encoding (on aiortc's thread pool), the decoder threads'
queues and the consumers of decoded frames were about a third of the probe's CPU.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
from dataclasses import dataclass
from typing import Any

import av
from aiortc.codecs import get_encoder
from aiortc.rtcrtpsender import RTCEncodedFrame

from ..capture import events as ev
from .audio_level import audio_level_dbov
from .decoder_queue import divert_frames
from .media import VIDEO_CLOCK, VIDEO_TIME_BASE, AudioSource, TestPatternSource

#: The one event of a lite capture that stands for its `rtcp` events: packets by type, per direction.
RTCP_COUNTS = "rtcp_counts"


def skipped(lite: bool, event: str) -> bool:
    """Whether a lite capture leaves this packet event out (`rtp_first` and the rest are kept)."""
    return lite and event == ev.RTCP


def counts_event(collector: Any) -> dict[str, Any]:
    """The closing `rtcp_counts` event's fields, from the collector's own counts."""
    return {"counts": collector.rtcp_counts()}


# -- receiving without decoding -------------------------------------------------------------
class FrameCount:
    """Complete frames kept from the decoder (`no_decoding`)."""

    def __init__(self) -> None:
        self.frames = 0

    def __call__(self, codec: Any, frame: Any) -> None:
        self.frames += 1


def no_decoding(receiver: Any) -> FrameCount:
    """Count `receiver`'s complete frames instead of decoding them. Call before negotiation."""
    count = FrameCount()
    divert_frames(receiver, count)
    return count


# -- sending an encoded loop ------------------------------------------------------------------
@dataclass(frozen=True)
class EncodedLoop:
    """One loop of a periodic source, encoded: per frame its payloads and RFC 6465 level."""

    frames: tuple[tuple[tuple[bytes, ...], int], ...]
    step: int  # RTP timestamp units per frame


_LOOPS: dict[tuple[Any, ...], EncodedLoop | None] = {}


def encoded_loop(source: AudioSource, codec: Any) -> EncodedLoop | None:
    """The source's loop encoded with aiortc's own encoder for `codec`, once per process; None
    when the source does not repeat or the encoder does not give one packet per frame."""
    count = source.loop_frames()
    if count is None:
        return None
    count = max(count, 2)  # two timestamps at least, to read the encoder's step from
    key = (type(source), getattr(source, "frequency", None), getattr(source, "_amplitude", None),
           codec.mimeType.lower(), codec.clockRate, codec.channels, tuple(sorted((codec.parameters or {}).items())))
    if key not in _LOOPS:
        _LOOPS[key] = _encode(source, codec, count)
    return _LOOPS[key]


def _encode(source: AudioSource, codec: Any, count: int) -> EncodedLoop | None:
    encoder = get_encoder(codec)
    frames: list[tuple[tuple[bytes, ...], int]] = []
    stamps: list[int] = []
    for index in range(2 * count):  # the first loop warms the encoder up; the second is kept
        frame = source.frame_at(index)
        payloads, timestamp = encoder.encode(frame, False)
        if index >= count:
            if not payloads or timestamp is None:
                return None
            frames.append((tuple(payloads), audio_level_dbov(frame)))
            stamps.append(timestamp)
    steps = {b - a for a, b in zip(stamps, stamps[1:], strict=False)}
    return EncodedLoop(tuple(frames), steps.pop()) if len(steps) == 1 else None


# -- video: one second of the test pattern, packetized per send ------------------------------------
@dataclass(frozen=True)
class EncodedVideoLoop:
    """One second of the test pattern, encoded, a key frame first. Kept as the encoder's frames,
    not as payloads: each sender packetizes them itself, so its picture ids go on increasing."""

    frames: tuple[bytes, ...]
    step: int  # RTP timestamp units per frame


_VIDEO_LOOPS: dict[tuple[Any, ...], concurrent.futures.Future[EncodedVideoLoop | None]] = {}
_ENCODING = concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="rtcprobe-lite-loop")


def encoded_video_loop(source: TestPatternSource, codec: Any) -> concurrent.futures.Future[EncodedVideoLoop | None]:
    """The loop encoded with aiortc's own encoder for `codec` at its starting bitrate, once per
    process, on a thread of its own (a second of video takes a few hundred ms to encode: the event
    loop, with the other sessions' set-ups on it, goes on meanwhile); None when that encoder keeps
    no codec context to read frames from."""
    key = (source.size, source.fps, codec.mimeType.lower(), tuple(sorted((codec.parameters or {}).items())))
    if key not in _VIDEO_LOOPS:
        _VIDEO_LOOPS[key] = _ENCODING.submit(_encode_video, source, codec, max(1, round(source.fps)))
    return _VIDEO_LOOPS[key]


def _encode_video(source: TestPatternSource, codec: Any, count: int) -> EncodedVideoLoop | None:
    encoder = get_encoder(codec)
    encoder.encode(source.frame_at(0), True)  # sets up its codec context as for a session (output unused)
    context = getattr(encoder, "codec", None)
    if context is None:
        return None
    frames = []
    for index in range(count):
        frame = source.frame_at(index)
        if index == 0:  # every loop starts on a key frame: a receiver decodes across the wrap
            frame.pict_type = av.video.frame.PictureType.I
        data = b"".join(bytes(packet) for packet in context.encode(frame))
        if not data:
            return None
        frames.append(data)
    return EncodedVideoLoop(tuple(frames), round(VIDEO_CLOCK / source.fps))


def send_encoded_loop(sender: Any, source: AudioSource | TestPatternSource) -> None:
    """Make `sender` send `source`'s encoded loop, paced by the source's own clock. A source that
    does not repeat (a file), or a codec whose loop cannot be made, is encoded as usual. Call
    before negotiation."""
    if isinstance(source, AudioSource) and source.loop_frames() is None:
        return
    sender._next_encoded_frame = _LoopSender(sender, source).next_encoded_frame


class _LoopSender:
    """RTCRtpSender._next_encoded_frame for one sender: the next frame of the loop, when due."""

    def __init__(self, sender: Any, source: AudioSource | TestPatternSource) -> None:
        self.sender, self.source = sender, source
        self.fallback = sender._next_encoded_frame  # aiortc's own encoding
        self.loop: EncodedLoop | EncodedVideoLoop | None = None
        self.looked_up = False  # the sender keeps its codec: the loop is looked up once
        self.packer: Any = None  # video: this sender's own packetizer (its picture ids)

    async def next_encoded_frame(self, codec: Any) -> RTCEncodedFrame | None:
        source = self.source
        if not self.looked_up:
            self.looked_up = True
            self.loop = (await asyncio.wrap_future(encoded_video_loop(source, codec))
                         if isinstance(source, TestPatternSource) else encoded_loop(source, codec))
        if self.loop is None:  # this codec's encoder does not fit: as aiortc would
            return await self.fallback(codec)
        index = await source.next_index()
        if not self.sender._enabled:
            return None
        frame = self.loop.frames[index % len(self.loop.frames)]
        if isinstance(self.loop, EncodedLoop):
            payloads, level = frame
            return RTCEncodedFrame(list(payloads), index * self.loop.step, level)
        if self.packer is None:
            self.packer = get_encoder(codec)
        packet = av.Packet(frame)
        packet.pts, packet.time_base = index * self.loop.step, VIDEO_TIME_BASE
        payloads, timestamp = self.packer.pack(packet)
        return RTCEncodedFrame(payloads, timestamp, None)  # type: ignore[arg-type]
