"""`serve --echo packets`: each m-line's media echoed as received, encoded, without decoding it.

Why: the default echo decodes every frame and encodes it again (aiortc's decoder thread, a
MediaRelay, the encoder on a thread pool). Under `rtcprobe load` that was most of serve's CPU, so
serve, not the probe, set how many sessions one machine could hold. Here a receiver's complete
encoded frames (aiortc's jitter buffer reassembles them, NACK and reports work as before) go
straight to the same transceiver's sender, which packetizes them again (`encoder.pack`, as aiortc
does for pre-encoded tracks): same codec, same frames, new SSRC and sequence numbers.

What it leaves out, by design: audio frames carry no audio level (nothing is decoded to measure),
keyframe requests are not passed back to the client's encoder, a frame whose codec the sender did
not negotiate is dropped (counted), and the realtime VAD and the voice agent, which listen to
decoded audio, keep the decoding echo on their m-line.
"""

from __future__ import annotations

import asyncio
import fractions
from typing import Any

import av
from aiortc.codecs import get_encoder
from aiortc.rtcrtpsender import RTCEncodedFrame

from ..probe.decoder_queue import divert_frames

BACKLOG = 64  # frames waiting for the sender at most; older ones are dropped (counted)


class EncodedEcho:
    """One transceiver's received encoded frames, sent back by its sender. Install before the
    connection starts (aiortc hands the decoder queue to its thread in `receiver.receive()`)."""

    def __init__(self, transceiver: Any) -> None:
        self.frames: asyncio.Queue[tuple[Any, Any]] = asyncio.Queue(BACKLOG)
        self.echoed = self.dropped = 0
        self._encoder: Any = None
        divert_frames(transceiver.receiver, self.received)
        transceiver.sender._next_encoded_frame = self.next_encoded_frame

    def received(self, codec: Any, frame: Any) -> None:
        if self.frames.full():  # the sender is behind (or not sending yet): the oldest frame goes
            self.frames.get_nowait()
            self.dropped += 1
        self.frames.put_nowait((codec, frame))

    async def next_encoded_frame(self, codec: Any) -> RTCEncodedFrame | None:
        """RTCRtpSender._next_encoded_frame: the next received frame, packetized for `codec`."""
        received_codec, frame = await self.frames.get()
        if received_codec.mimeType.lower() != codec.mimeType.lower() or received_codec.clockRate != codec.clockRate:
            self.dropped += 1
            return None
        if self._encoder is None:
            self._encoder = get_encoder(codec)
        packet = av.Packet(frame.data)
        packet.pts, packet.time_base = frame.timestamp, fractions.Fraction(1, codec.clockRate)
        payloads, timestamp = self._encoder.pack(packet)
        self.echoed += 1
        return RTCEncodedFrame(payloads, timestamp, None) if payloads else None  # type: ignore[arg-type]
