"""RED (RFC 2198) and ULPFEC (RFC 5109) on the receive path, as a packet interceptor (taps.py's table).

A browser-shaped offer (`--offer chrome`) offers RED and ULPFEC; a browser answering it then
sends its video, and Opus when audio RED is negotiated, inside RED, with ULPFEC blocks in RED
packets of the same SSRC and sequence space. aiortc has no RED or FEC: it would drop every such
packet as an unknown payload type, decode nothing, and neither report on nor NACK the stream.

`RedReceiver` rewrites each received packet after the stats taps and the other interceptors saw
it as it came (so counts, loss and feedback stay in the media SSRC's sequence space) and before
aiortc's receiver:

- RED: the packet becomes its primary block (the last one) under the block's payload type; the
  redundant blocks are dropped (recovering a lost packet from them is not attempted);
- ULPFEC, inside RED or bare: counted as `fecPacketsReceived` and `fecPacketsDiscarded` (the probe
  recovers nothing with FEC; NACK + RTX repairs) and handed on as an EMPTY packet of the stream's
  last primary payload type and timestamp: aiortc's NACK generator and receiver statistics see the
  sequence number (libwebrtc likewise tells its NACK module of FEC packets, so they are not NACKed)
  and its jitter buffer has no hole there, which would stall frame assembly;
- RTX whose apt is RED (a retransmitted RED packet: original sequence number + RED payload)
  becomes RTX of the primary (the RTX payload type whose apt is the block's), which aiortc
  unwraps itself: the order is RTX decapsulation's framing kept, RED removed inside it;
- FlexFEC (its own SSRC) is counted and withheld;
- a malformed RED packet is dropped and counted, never raised.

aiortc is shown (offer_shape.adapt_answer) the answer without RED and FEC, and would ignore them
anyway (rtcpeerconnection.find_common_codecs keeps only codecs it has).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

from aiortc import RTCPeerConnection

from ..sdp import SessionDescription
from .taps import RTP, Clock, Interceptor, PacketTap, monotonic_clock, peer_connection_transports

logger = logging.getLogger(__name__)

ULPFEC, FLEXFEC = "ulpfec", "flexfec"


class MalformedRed(ValueError):
    """A RED payload whose block headers or lengths do not fit the packet."""


@dataclass(frozen=True)
class RedBlock:
    payload_type: int
    timestamp_offset: int  # 0 for the primary
    data: bytes


def parse_red(payload: bytes) -> list[RedBlock]:
    """The blocks of a RED payload (RFC 2198 §3), the primary last."""
    headers: list[tuple[int, int, int]] = []
    pos = 0
    while True:
        if pos >= len(payload):
            raise MalformedRed(f"block header {len(headers) + 1} runs past the {len(payload)}-byte payload")
        first = payload[pos]
        if not first & 0x80:  # F = 0: the primary's 1-byte header
            headers.append((first & 0x7F, 0, -1))
            pos += 1
            break
        if pos + 4 > len(payload):
            raise MalformedRed(f"redundant block header {len(headers) + 1} is cut short")
        word = int.from_bytes(payload[pos + 1:pos + 4], "big")
        headers.append((first & 0x7F, word >> 10, word & 0x3FF))
        pos += 4
    blocks = []
    for pt, offset, length in headers[:-1]:
        if pos + length > len(payload):
            raise MalformedRed(f"a redundant block of {length} bytes runs past the payload")
        blocks.append(RedBlock(pt, offset, payload[pos:pos + length]))
        pos += length
    blocks.append(RedBlock(headers[-1][0], 0, payload[pos:]))
    return blocks


@dataclass
class RedMap:
    """Payload types of the answer: RED, FEC, RTX of RED, and each media PT's RTX PT."""

    red: set[int] = field(default_factory=set)
    fec: dict[int, str] = field(default_factory=dict)  # PT -> ULPFEC | FLEXFEC
    rtx_of_red: set[int] = field(default_factory=set)
    rtx_for: dict[int, int] = field(default_factory=dict)  # media PT -> RTX PT

    @classmethod
    def from_answer(cls, answer: SessionDescription) -> RedMap:
        found = cls()
        sections = [m for m in answer.media if m.kind in ("audio", "video") and not m.rejected]
        for section in sections:
            for codec in section.codecs:
                if codec.role == "red":
                    found.red.add(codec.payload_type)
                elif codec.role == "fec":
                    found.fec[codec.payload_type] = FLEXFEC if "flex" in codec.name.lower() else ULPFEC
        for section in sections:
            for codec in section.codecs:
                apt = codec.associated_payload_type
                if codec.role == "rtx" and apt is not None:
                    if apt in found.red:
                        found.rtx_of_red.add(codec.payload_type)
                    else:
                        found.rtx_for[apt] = codec.payload_type
        return found

    def __bool__(self) -> bool:
        return bool(self.red or self.fec)


@dataclass
class RedCounts:
    """Per SSRC, what the interceptor did (W3C inbound-rtp fec* members, and rtcprobe's own)."""

    red_packets: int = 0
    fec_received: int = 0
    fec_discarded: int = 0
    malformed: int = 0
    rtx_unwrapped: int = 0
    rtx_withheld: int = 0

    def fields(self) -> dict[str, int]:
        out = {"redPacketsReceived": self.red_packets, "redMalformedDiscarded": self.malformed}
        if self.fec_received:
            out.update(fecPacketsReceived=self.fec_received, fecPacketsDiscarded=self.fec_discarded)
        return out


class RedReceiver(Interceptor):
    """Unwraps RED and sets ULPFEC aside on received RTP (see the module docstring)."""

    def __init__(self, payload_types: RedMap) -> None:
        self.map = payload_types
        self.counts: dict[int, RedCounts] = {}
        self._last: dict[int, tuple[int, int]] = {}  # ssrc -> (primary PT, RTP timestamp)

    def receive(self, kind: str, data: bytes, t: float) -> bytes | None:
        if kind != RTP or len(data) < 12:
            return data
        pt = data[1] & 0x7F
        if pt not in self.map.red and pt not in self.map.fec and pt not in self.map.rtx_of_red:
            if pt not in self.map.rtx_for.values():
                self._last[_ssrc(data)] = (pt, _timestamp(data))
            return data
        ssrc = _ssrc(data)
        counts = self.counts.setdefault(ssrc, RedCounts())
        header, payload = _split(data)
        if header is None:
            counts.malformed += 1
            return None
        if pt in self.map.rtx_of_red:
            return self._rtx(header, payload, counts)
        if pt in self.map.fec:
            return self._fec(ssrc, header, counts, self.map.fec[pt])
        counts.red_packets += 1
        try:
            primary = parse_red(payload)[-1]
        except MalformedRed:
            counts.malformed += 1
            return None
        if primary.payload_type in self.map.fec:
            return self._fec(ssrc, header, counts, self.map.fec[primary.payload_type])
        self._last[ssrc] = (primary.payload_type, _timestamp(data))
        return _with(header, primary.payload_type, primary.data)

    def _fec(self, ssrc: int, header: bytes, counts: RedCounts, scheme: str) -> bytes | None:
        counts.fec_received += 1
        counts.fec_discarded += 1
        last = self._last.get(ssrc)
        if scheme == FLEXFEC or last is None:  # FlexFEC: its own SSRC, nothing to keep in sequence
            return None
        stamped = header[:4] + last[1].to_bytes(4, "big") + header[8:]
        return _with(stamped, last[0], b"")

    def _rtx(self, header: bytes, payload: bytes, counts: RedCounts) -> bytes | None:
        try:
            if len(payload) < 2:
                raise MalformedRed("an RTX payload shorter than its original sequence number")
            primary = parse_red(payload[2:])[-1]
        except MalformedRed:
            counts.malformed += 1
            return None
        rtx_pt = self.map.rtx_for.get(primary.payload_type)
        if rtx_pt is None or primary.payload_type in self.map.fec:
            counts.rtx_withheld += 1  # a retransmitted FEC packet, or no RTX type for the primary
            return None
        counts.rtx_unwrapped += 1
        return _with(header, rtx_pt, payload[:2] + primary.data)

    def fields_for(self, ssrc: int) -> dict[str, Any]:
        counts = self.counts.get(ssrc)
        return counts.fields() if counts is not None else {}


def _ssrc(data: bytes) -> int:
    return int.from_bytes(data[8:12], "big")


def _timestamp(data: bytes) -> int:
    return int.from_bytes(data[4:8], "big")


def _split(data: bytes) -> tuple[bytes | None, bytes]:
    """(header with CSRCs and extension, payload without padding); (None, b"") when they do not fit."""
    first = data[0]
    end = 12 + 4 * (first & 0x0F)
    if first & 0x10:
        if len(data) < end + 4:
            return None, b""
        end += 4 + 4 * int.from_bytes(data[end + 2:end + 4], "big")
    padding = data[-1] if first & 0x20 else 0
    if end > len(data) - padding or (first & 0x20 and padding == 0):
        return None, b""
    return data[:end], data[end:len(data) - padding]


def _with(header: bytes, pt: int, payload: bytes) -> bytes:
    """`header` (padding bit cleared) under payload type `pt`, marker kept, then `payload`."""
    return bytes([header[0] & ~0x20 & 0xFF, (header[1] & 0x80) | pt]) + header[2:] + payload


def enable_red(pc: RTCPeerConnection, answer: SessionDescription, clock: Clock | None = None, *,
               collector: Any = None) -> list[RedReceiver]:
    """Add `RedReceiver` to every transport of `pc` when the answer negotiated RED or FEC; a
    StatsCollector `collector` gets its counts on inbound-rtp."""
    payload_types = RedMap.from_answer(answer)
    if not payload_types:
        return []
    clock = clock or monotonic_clock()
    added = []
    for transport in peer_connection_transports(pc):
        tap = PacketTap.attach(transport, clock)
        if tap.find(RedReceiver) is not None:
            continue
        receiver = RedReceiver(payload_types)
        tap.add_interceptor(receiver)
        if collector is not None:
            collector.add_inbound_fields(receiver.fields_for)
        added.append(receiver)
    return added

