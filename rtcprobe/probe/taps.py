"""Packet taps: every decrypted RTP and RTCP packet of an RTCDtlsTransport, in both directions.

aiortc's getStats() lacks most counters (NACK, PLI, FIR, REMB, transport-cc, retransmissions,
header extensions on the wire). They all exist in the packets, so the probe looks at the packets,
in one place: the DTLS transport, where SRTP ends. A `PacketTap` wraps three methods of one
`RTCDtlsTransport` instance (not the class, so other peers in the process are untouched):

- ``_handle_rtp_data`` / ``_handle_rtcp_data``: called after SRTP unprotect, once the transport
  has demultiplexed RTP from RTCP (RFC 5761 §4; aiortc's `is_rtcp`: second byte 192..208);
- ``_send_rtp``: every RTP and RTCP packet that senders and receivers send, before SRTP protect.

Like a pion interceptor, the tap calls observers ``(direction, kind, data, t)`` with direction
"sent"|"received", kind "rtp"|"rtcp", the plain packet bytes and `t` from the caller's clock
(seconds since the capture started). Observers run on the hot path: keep them cheap, and they
must not keep `data` beyond the call unless they copy it (it is immutable bytes, so keeping is
safe, only costly).

A drop filter ``(direction, kind, data) -> bool`` simulates loss on the wire: a sent packet is
observed (it left this peer) and then not sent; a received packet is dropped before observers
see it (it never arrived). `LossFilter` is a seeded one.

Interceptors (`Interceptor`, after pion's interceptor and webrtc-rs's interceptor crate) can do
more than observe: `outgoing` may rewrite or withhold a packet before SRTP protect (and before
the drop filter and the observers, which therefore see what went on the wire), `incoming` sees
each received packet after the observers, `receive` may then rewrite or withhold it before aiortc
(the observers counted it as it came), and `PacketTap.send` lets one generate new packets
(they pass the whole outgoing chain). A tap runs its interceptors in the order they were added.

| interceptor | module | does | events / stats it writes |
|---|---|---|---|
| `StatsCollector` (observer) | stats.py | counts per SSRC, RTCP types, extensions | rtp_first, rtcp, extensions_seen, stats |
| `LossFilter` (drop filter) | taps.py | seeded loss on the wire | (the impairment's own events) |
| `TransportCC` | twcc.py | stamps transport-wide seq numbers on sent RTP (media and RTX), sends RTPFB FMT 15 feedback every ~100 ms for received RTP, decodes received feedback, withholds aiortc's REMB once transport-cc is negotiated (a browser sends none then) | candidate-pair `availableOutgoingBitrate` and `transportCc*` fields in stats |
| `SendSideBwe` (driven by `TransportCC`) | bwe.py | GCC-style delay + loss estimate, sets the video encoders' target bitrate | as above |
| `VoiceObserver` (observer, `capture --turns`) | voice_observer.py | send time of each sent audio packet and arrival of each received one by RTP timestamp; decoded received frames through the VAD, stamped with their packets' arrival | voice_turn (written by turns.py) |
| `RedReceiver` | red.py | `receive`: RED (RFC 2198) to its primary block, RTX of RED to RTX of the primary, ULPFEC to an empty packet in sequence (aiortc has neither) | inbound-rtp `fecPacketsReceived`/`fecPacketsDiscarded`, `redPacketsReceived`, `redMalformedDiscarded` |
| `RidStamper` (`capture --simulcast`) | simulcast.py | `outgoing`: RID on each simulcast layer's media packets, repaired-RID on its RTX, under the answered ids (the lower layers are hidden senders on the same transport) | `simulcast` event; outbound-rtp `rid` |
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable, Collection, Iterable
from typing import Any

from aiortc import RTCPeerConnection
from aiortc.rtcdtlstransport import RTCDtlsTransport

logger = logging.getLogger(__name__)

SENT, RECEIVED = "sent", "received"
RTP, RTCP = "rtp", "rtcp"

Observer = Callable[[str, str, bytes, float], None]
DropFilter = Callable[[str, str, bytes], bool]
Clock = Callable[[], float]

_ATTR = "_rtcprobe_tap"
_WRAPPED = ("_handle_rtp_data", "_handle_rtcp_data", "_send_rtp")


def monotonic_clock(start: float | None = None) -> Clock:
    """Seconds since `start` (time.monotonic(); now by default). `CaptureWriter.now` is the same
    clock for a capture, and what a session should pass instead."""
    origin = time.monotonic() if start is None else start
    return lambda: time.monotonic() - origin


class Interceptor:
    """The no-op base of a packet interceptor bound to one tap (one DTLS transport)."""

    tap: PacketTap | None = None

    def bind(self, tap: PacketTap) -> None:
        """Called once when added to `tap`; `tap.send(data)` generates packets from then on."""
        self.tap = tap

    def outgoing(self, kind: str, data: bytes, t: float) -> bytes | None:
        """A packet about to be protected and sent: return it (maybe rewritten), or None to withhold it."""
        return data

    def incoming(self, kind: str, data: bytes, t: float) -> None:
        """A received packet, after unprotect and the drop filter."""

    def receive(self, kind: str, data: bytes, t: float) -> bytes | None:
        """A received packet about to reach aiortc, after every interceptor's `incoming`: return
        it (maybe rewritten), or None to withhold it from aiortc."""
        return data

    def close(self) -> None:
        """The tap is detached: stop timers."""


class PacketTap:
    """Observers, interceptors and an optional drop filter on one RTCDtlsTransport."""

    def __init__(self, transport: RTCDtlsTransport, clock: Clock,
                 observers: Iterable[Observer] = (), drop: DropFilter | None = None) -> None:
        self.transport = transport
        self.clock = clock
        self.drop = drop
        self.observers: list[Observer] = list(observers)
        self.interceptors: list[Interceptor] = []
        #: Packets the drop filter removed, by direction.
        self.dropped = {SENT: 0, RECEIVED: 0}
        self._installed = False
        self._previous: dict[str, Any] = {}

    @classmethod
    def attach(cls, transport: RTCDtlsTransport, clock: Clock, *observers: Observer,
               drop: DropFilter | None = None) -> PacketTap:
        """Tap `transport`. Attaching twice returns the first tap, with the observers added (and
        the drop filter replaced when one is given), so that helpers may attach freely."""
        tap: PacketTap | None = getattr(transport, _ATTR, None)
        if tap is None:
            tap = cls(transport, clock, observers, drop)
            tap._install()
            return tap
        for observer in observers:
            tap.add_observer(observer)
        if drop is not None:
            tap.drop = drop
        return tap

    def add_observer(self, observer: Observer) -> None:
        if observer not in self.observers:
            self.observers.append(observer)

    def add_interceptor(self, interceptor: Interceptor) -> Interceptor:
        if interceptor not in self.interceptors:
            self.interceptors.append(interceptor)
            interceptor.bind(self)
        return interceptor

    def find(self, kind: type[Interceptor]) -> Interceptor | None:
        """The first interceptor of that class on this tap (to attach one only once)."""
        return next((i for i in self.interceptors if isinstance(i, kind)), None)

    async def send(self, data: bytes) -> None:
        """Send a generated packet (RTCP or RTP, unprotected) through the whole outgoing chain."""
        await self.transport._send_rtp(data)

    def detach(self) -> None:
        """Put back what the transport had before (its class's methods, or another wrapper)."""
        for interceptor in self.interceptors:
            interceptor.close()
        if self._installed:
            attributes = vars(self.transport)
            for name in _WRAPPED:
                if name in self._previous:
                    attributes[name] = self._previous[name]
                else:
                    attributes.pop(name, None)
            attributes.pop(_ATTR, None)
            self._installed = False

    def _notify(self, direction: str, kind: str, data: bytes, t: float) -> None:
        for observer in self.observers:
            try:
                observer(direction, kind, data, t)
            except Exception:  # an observer's bug must not stop the media
                logger.exception("packet observer %r failed", observer)

    def _install(self) -> None:
        transport = self.transport
        self._previous = {name: vars(transport)[name] for name in _WRAPPED if name in vars(transport)}
        handle_rtp = transport._handle_rtp_data
        handle_rtcp = transport._handle_rtcp_data
        send_rtp = transport._send_rtp
        clock, notify, dropped = self.clock, self._notify, self.dropped

        def intercept_incoming(kind: str, data: bytes, t: float) -> None:
            for interceptor in self.interceptors:
                try:
                    interceptor.incoming(kind, data, t)
                except Exception:  # an interceptor's bug must not stop the media
                    logger.exception("packet interceptor %r failed", interceptor)

        async def tapped_handle_rtp(data: bytes, arrival_time_ms: int) -> None:
            if self.drop is not None and self.drop(RECEIVED, RTP, data):
                dropped[RECEIVED] += 1
                return
            t = clock()
            notify(RECEIVED, RTP, data, t)
            intercept_incoming(RTP, data, t)
            passed = _through(self.interceptors, _receive, RTP, data, t)
            if passed is not None:
                await handle_rtp(passed, arrival_time_ms)

        async def tapped_handle_rtcp(data: bytes) -> None:
            if self.drop is not None and self.drop(RECEIVED, RTCP, data):
                dropped[RECEIVED] += 1
                return
            t = clock()
            notify(RECEIVED, RTCP, data, t)
            intercept_incoming(RTCP, data, t)
            await handle_rtcp(data)

        async def tapped_send_rtp(data: bytes) -> None:
            kind = RTCP if 192 <= data[1] <= 208 else RTP  # aiortc.rtp.is_rtcp, inlined
            t = clock()
            passed = _through(self.interceptors, _outgoing, kind, data, t)
            if passed is None:
                return
            data = passed
            if self.drop is not None and transport.state == "connected" and self.drop(SENT, kind, data):
                dropped[SENT] += 1
                notify(SENT, kind, data, t)
                return
            await send_rtp(data)  # raises ConnectionError when not connected: then not "sent"
            notify(SENT, kind, data, t)

        # instance attributes shadow the class's methods for this transport only
        transport._handle_rtp_data = tapped_handle_rtp  # type: ignore[method-assign]
        transport._handle_rtcp_data = tapped_handle_rtcp  # type: ignore[method-assign]
        transport._send_rtp = tapped_send_rtp  # type: ignore[method-assign]
        setattr(transport, _ATTR, self)
        self._installed = True


def _outgoing(interceptor: Interceptor, kind: str, data: bytes, t: float) -> bytes | None:
    return interceptor.outgoing(kind, data, t)  # the subclass's override, not Interceptor's


def _receive(interceptor: Interceptor, kind: str, data: bytes, t: float) -> bytes | None:
    return interceptor.receive(kind, data, t)


def _through(interceptors: list[Interceptor], step: Callable[[Interceptor, str, bytes, float], bytes | None],
             kind: str, data: bytes, t: float) -> bytes | None:
    """`data` through each interceptor's `step` (outgoing or receive) in order; None when one held
    it back. An interceptor's bug is logged and skipped: it must not stop the media."""
    for interceptor in interceptors:
        try:
            rewritten = step(interceptor, kind, data, t)
        except Exception:
            logger.exception("packet interceptor %r failed", interceptor)
            continue
        if rewritten is None:
            return None
        data = rewritten
    return data


def peer_connection_transports(pc: RTCPeerConnection) -> list[RTCDtlsTransport]:
    """The distinct DTLS transports of a peer connection (one when BUNDLE has been applied)."""
    found: list[RTCDtlsTransport] = []
    candidates: list[Any] = [t.sender.transport for t in pc.getTransceivers()]
    candidates += [t.receiver.transport for t in pc.getTransceivers()]
    if pc.sctp is not None:
        candidates.append(pc.sctp.transport)
    for transport in candidates:
        if transport is not None and all(transport is not f for f in found):
            found.append(transport)
    return found


def attach_peer_connection(pc: RTCPeerConnection, clock: Clock, *observers: Observer,
                           drop: DropFilter | None = None) -> list[PacketTap]:
    """Tap every DTLS transport `pc` has now. Call it once the transceivers exist (after
    addTransceiver / setRemoteDescription) and before media flows; calling again is harmless."""
    return [PacketTap.attach(t, clock, *observers, drop=drop) for t in peer_connection_transports(pc)]


class LossFilter:
    """Seeded random loss, for `PacketTap(drop=...)`: drops `percent` % of the packets of the
    chosen kinds and directions. Each RTP payload type (and each RTCP packet type) draws from its
    own generator, seeded from `seed` and that type, so a stream's drops depend only on its own
    packets, not on how audio and video happen to interleave: lossy sessions are repeatable."""

    def __init__(self, percent: float, seed: int = 0, *,
                 kinds: Collection[str] = (RTP, RTCP),
                 directions: Collection[str] = (SENT, RECEIVED)) -> None:
        if not 0 <= percent <= 100:
            raise ValueError(f"loss percent must be within 0..100, got {percent}")
        self.percent = percent
        self.seed = seed
        self.kinds = frozenset(kinds)
        self.directions = frozenset(directions)
        self.dropped = 0
        self.seen = 0
        self._generators: dict[tuple[str, int], random.Random] = {}
        self._threshold = percent / 100

    def __call__(self, direction: str, kind: str, data: bytes) -> bool:
        if kind not in self.kinds or direction not in self.directions:
            return False
        self.seen += 1
        key = (kind, data[1] & 0x7F if kind == RTP else data[1])
        generator = self._generators.get(key)
        if generator is None:
            generator = self._generators[key] = random.Random(f"{self.seed}:{key[0]}:{key[1]}")
        if generator.random() < self._threshold:
            self.dropped += 1
            return True
        return False
