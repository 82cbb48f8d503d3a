"""transport-cc both ways, as a packet interceptor on one DTLS transport (see taps.py's table).

aiortc knows nothing of transport-wide congestion control: its senders never stamp the extension
and its receivers never send feedback, so a browser sending to it falls back to the REMB-only
behaviour of a legacy endpoint. When the answer negotiated transport-wide-cc, `TransportCC`:

- stamps a transport-wide sequence number (one counter per transport, as in libwebrtc) on every
  RTP packet it sends, media and RTX, under the id negotiated for that packet's m-line;
- records the arrival of every received RTP packet carrying it and, about every 100 ms, sends
  RTPFB FMT 15 feedback for the window since the last one (twcc_codec.py; a packet that arrives
  after its window was reported reopens the window there, as libwebrtc's RemoteEstimatorProxy);
- decodes the feedback the far end sends into per-packet results: packets reported received and
  lost, one-way delay variation (RFC 3550-style smoothed |D| of send-to-arrival delays), and a
  send-side estimate (bwe.py) that drives the video encoders' target bitrate, as a browser's does;
- withholds the REMB aiortc's receivers would send: a browser that negotiated transport-cc sends
  none, and a REMB would cap the far end's own estimate.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from typing import Any

from aiortc import RTCPeerConnection
from aiortc.rtcdtlstransport import RTCDtlsTransport

from ..sdp.parse import parse_description
from .arrivals import KernelArrivals, hook_peer_connection
from .bwe import PacketResult, SendSideBwe
from .offer_shape import negotiated_extensions
from .taps import (
    RTCP,
    Clock,
    Interceptor,
    PacketTap,
    monotonic_clock,
    peer_connection_transports,
)
from .twcc_codec import URI, encode_feedback, iter_feedback, read_sequence, stamp

logger = logging.getLogger(__name__)

FEEDBACK_INTERVAL_S = 0.1
MAX_STATUSES = 1000  # per feedback packet: well under an MTU
BACK_WINDOW = 1000  # received sequence numbers kept for re-reporting reordered packets
MAX_GAP_US = 8_000_000  # a receive delta must fit 16 signed bits of 250 µs
AUDIO_ALLOWANCE_BPS = 64_000
PSFB, REMB_ID = 206, b"REMB"


def _unwrap(seq: int, last: int | None) -> int:
    if last is None:
        return seq
    delta = (seq - last) & 0xFFFF
    return last + delta - 0x10000 if delta >= 0x8000 else last + delta


class TransportCC(Interceptor):
    """Stamp, feed back, decode and estimate on one transport (see the module docstring)."""

    def __init__(self, send_id: Callable[[int], int | None], receive_ids: set[int], sender_ssrc: int,
                 *, bwe: SendSideBwe | None = None,
                 on_estimate: Callable[[int], None] | None = None,
                 arrivals: KernelArrivals | None = None) -> None:
        self.arrivals = arrivals  # socket arrival times, when available (arrivals.py)
        self.send_id, self.receive_ids, self.sender_ssrc = send_id, receive_ids, sender_ssrc
        self.bwe = bwe if bwe is not None else SendSideBwe()
        self.on_estimate = on_estimate
        self._next_seq = 0
        self._sent: dict[int, tuple[float, int]] = {}  # unwrapped seq -> (t, size)
        self._reported: dict[int, bool] = {}  # unwrapped seq -> last reported received?
        self._arrivals: dict[int, int] = {}  # unwrapped received seq -> arrival µs
        self._last_rx_seq: int | None = None
        self._window_start: int | None = None
        self._fresh = False
        self._media_ssrc = 0
        self._feedback_count = 0
        self._task: asyncio.Task[None] | None = None
        self._delay_jitter = 0.0
        self._last_delay: float | None = None
        #: counters for stats
        self.stamped = 0
        self.feedback_sent = 0
        self.feedback_received = 0
        self.reported_received = 0
        self.reported_lost = 0

    # -- outgoing ----------------------------------------------------------------------------
    def outgoing(self, kind: str, data: bytes, t: float) -> bytes | None:
        if kind == RTCP:
            return None if self.receive_ids and _is_lone_remb(data) else data
        ext_id = self.send_id(int.from_bytes(data[8:12], "big"))
        if ext_id is None:
            return data
        seq = self._next_seq
        self._next_seq += 1
        stamped = stamp(data, ext_id, seq)
        self._sent[seq] = (t, len(stamped))
        if len(self._sent) > 8192:
            for old in list(self._sent)[:1024]:
                del self._sent[old]
        self.stamped += 1
        return stamped

    # -- incoming ----------------------------------------------------------------------------
    def incoming(self, kind: str, data: bytes, t: float) -> None:
        if kind == RTCP:
            self._on_rtcp(data, t)
            return
        for ext_id in self.receive_ids:
            seq = read_sequence(data, ext_id)
            if seq is not None:
                break
        else:
            return
        self._last_rx_seq = unwrapped = _unwrap(seq, self._last_rx_seq)
        age = self.arrivals.age(data[:12]) if self.arrivals is not None else None
        self._arrivals.setdefault(unwrapped, int((t - (age or 0.0)) * 1e6))
        self._media_ssrc = int.from_bytes(data[8:12], "big")
        if self._window_start is None or unwrapped < self._window_start:
            self._window_start = unwrapped
        self._fresh = True
        if self._task is None and self.tap is not None:
            self._task = asyncio.ensure_future(self._feedback_loop(self.tap.transport))

    def _on_rtcp(self, data: bytes, t: float) -> None:
        for feedback in iter_feedback(data):
            self.feedback_received += 1
            results: list[PacketResult] = []
            base = _unwrap(feedback.base_seq, self._next_seq - 1 if self._next_seq else None)
            for k, arrival in enumerate(feedback.arrivals):
                seq = base + k
                sent = self._sent.get(seq)
                if sent is None:
                    continue
                received = arrival.arrival_us is not None
                before = self._reported.get(seq)
                if before is None:
                    self.reported_received += received
                    self.reported_lost += not received
                elif received and not before:
                    self.reported_received, self.reported_lost = self.reported_received + 1, self.reported_lost - 1
                if before is None or received:
                    self._reported[seq] = received
                results.append(PacketResult(sent[0], sent[1], arrival.arrival_us))
                if received:
                    self._delay_variation(arrival.arrival_us / 1e6 - sent[0])  # type: ignore[operator]
            if len(self._reported) > 8192:
                for old in list(self._reported)[:1024]:
                    del self._reported[old]
            if results:
                estimate = self.bwe.on_feedback(results, t)
                if self.on_estimate is not None:
                    self.on_estimate(estimate)

    def _delay_variation(self, delay: float) -> None:
        if self._last_delay is not None:
            self._delay_jitter += (abs(delay - self._last_delay) - self._delay_jitter) / 16
        self._last_delay = delay

    # -- feedback ----------------------------------------------------------------------------
    async def _feedback_loop(self, transport: RTCDtlsTransport) -> None:
        while transport.state not in ("closed", "failed"):
            await asyncio.sleep(FEEDBACK_INTERVAL_S)
            if transport.state != "connected" or self.tap is None:
                continue
            for packet in self.feedback_packets():
                try:
                    await self.tap.send(packet)
                except ConnectionError:
                    return
                self.feedback_sent += 1

    def feedback_packets(self) -> list[bytes]:
        """The feedback for everything received since the last call (empty when nothing new)."""
        if not self._fresh or self._window_start is None or self._last_rx_seq is None:
            return []
        self._fresh = False
        end = max(self._arrivals)
        packets: list[bytes] = []
        seq = self._window_start
        while seq <= end:  # from the window's start: leading losses are reported too (libwebrtc)
            run: list[int | None] = []
            previous = next(self._arrivals[s] for s in range(seq, end + 1) if s in self._arrivals)
            while seq + len(run) <= end and len(run) < MAX_STATUSES:
                arrival = self._arrivals.get(seq + len(run))
                if arrival is not None:
                    if abs(arrival - previous) > MAX_GAP_US:
                        break
                    previous = arrival
                run.append(arrival)
            while run[-1] is None:
                run.pop()
            packets.append(encode_feedback(self.sender_ssrc, self._media_ssrc, seq, self._feedback_count, run))
            self._feedback_count = (self._feedback_count + 1) & 0xFF
            seq += len(run)
        self._window_start = end + 1
        for old in [s for s in self._arrivals if s < end - BACK_WINDOW]:
            del self._arrivals[old]
        return packets

    def close(self) -> None:
        if self._task is not None:
            self._task.cancel()

    def stats(self) -> dict[str, Any]:
        """candidate-pair fields: the W3C estimate and rtcprobe's transport-cc counters."""
        fields: dict[str, Any] = {"transportCcPacketsStamped": self.stamped,
                                  "transportCcFeedbackSent": self.feedback_sent,
                                  "transportCcFeedbackReceived": self.feedback_received}
        if self.feedback_received:
            fields.update(availableOutgoingBitrate=self.bwe.estimate,
                          transportCcPacketsReportedReceived=self.reported_received,
                          transportCcPacketsReportedLost=self.reported_lost,
                          transportCcDelayVariation=round(self._delay_jitter, 6))
        return fields


def _is_lone_remb(data: bytes) -> bool:
    return len(data) >= 20 and data[1] == PSFB and data[0] & 0x1F == 15 and data[12:16] == REMB_ID \
        and 4 * (int.from_bytes(data[2:4], "big") + 1) == len(data)


def drive_encoders(pc: RTCPeerConnection, transport: RTCDtlsTransport) -> Callable[[int], None]:
    """An estimate callback that sets the target bitrate of the video encoders on `transport`,
    leaving room for audio, as a browser's bitrate allocator does (aiortc clamps it to its codec's range)."""
    def apply(estimate: int) -> None:
        senders = [s for s in pc.getSenders() if s.transport is transport and s.track is not None]
        video = [s for s in senders if s.kind == "video"]
        audio = len(senders) - len(video)
        share = max(estimate - audio * AUDIO_ALLOWANCE_BPS, 0) // max(len(video), 1)
        for sender in video:
            encoder = getattr(sender, "_RTCRtpSender__encoder", None)  # created with the first frame
            if encoder is not None and hasattr(encoder, "target_bitrate"):
                encoder.target_bitrate = share
    return apply


def enable_transport_cc(pc: RTCPeerConnection, extensions: dict[str, dict[str, int]],
                        clock: Clock | None = None, *, collector: Any = None) -> list[TransportCC]:
    """Add `TransportCC` to every transport of `pc` when `extensions` ({mid: {uri: id}}, as
    negotiated) has transport-wide-cc; a StatsCollector `collector` gets its candidate-pair fields."""
    ids = {mid: uris[URI] for mid, uris in extensions.items() if URI in uris}
    if not ids:
        return []
    clock = clock or monotonic_clock()
    by_ssrc: dict[int, int | None] = {}

    def send_id(ssrc: int) -> int | None:
        if ssrc not in by_ssrc:
            for t in pc.getTransceivers():
                sender = t.sender
                if ssrc in (getattr(sender, "_ssrc", None), getattr(sender, "_rtx_ssrc", None)):
                    by_ssrc[ssrc] = ids.get(t.mid or "")
                    break
            else:  # not a transceiver's: one id for all when the m-lines agree
                by_ssrc[ssrc] = next(iter(ids.values())) if len(set(ids.values())) == 1 else None
        return by_ssrc[ssrc]

    arrivals = hook_peer_connection(pc)
    added: list[TransportCC] = []
    for transport in peer_connection_transports(pc):
        tap = PacketTap.attach(transport, clock)
        if tap.find(TransportCC) is not None:
            continue
        senders = [s for s in pc.getSenders() if s.transport is transport]
        sender_ssrc = getattr(senders[0], "_ssrc", 1) if senders else 1
        tcc = TransportCC(send_id, set(ids.values()), sender_ssrc, on_estimate=drive_encoders(pc, transport),
                          arrivals=arrivals)
        tap.add_interceptor(tcc)
        if collector is not None:
            collector.add_pair_fields(transport, tcc.stats)
        added.append(tcc)
    return added


def enable_for_answer(pc: RTCPeerConnection, answer_sdp: str) -> list[TransportCC]:
    """The reference target's entry point: transport-cc as its own answer negotiated it."""
    with contextlib.suppress(ValueError):
        return enable_transport_cc(pc, negotiated_extensions(parse_description(answer_sdp)))
    return []
