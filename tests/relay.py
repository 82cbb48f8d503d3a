"""A user-space UDP relay between two WebRTC peers on loopback: the wire, for truth tests.

The relay owns two sockets on 127.0.0.1. The offer's candidates are replaced by one candidate on
the socket that faces the answerer, the answer's by one on the socket that faces the offerer, so
each peer believes the relay is the other and every datagram (STUN, DTLS, SRTP, SRTCP) goes
through it. Each side's real address is its first 127.0.0.1 UDP candidate (the transport BUNDLE
keeps; the candidates of later m-sections are removed); datagrams from any other
source (a peer's other sockets probing) are counted as `strays` and not forwarded.

SRTP encrypts payloads, not RTP headers (RFC 3711 §3.1): sequence number, SSRC, CSRC count,
extension length and the padding bit are readable, so the relay keeps, per direction and SSRC,
every packet's extended sequence number, size and header length, and what it did with it:
forwarded, dropped (a seeded `loss_percent` of RTP only; never RTCP, STUN or DTLS) or held
(after `freeze`, which stops the relay forwarding a class of packets, to end a comparison at a
quiet point). The padding *length* is encrypted (the last payload byte), so payload bytes are
computable only for packets without the padding bit; `padded` counts the others.
"""

from __future__ import annotations

import asyncio
import random
import socket
import struct
from dataclasses import dataclass, field

FROM_OFFERER, FROM_ANSWERER = "from_offerer", "from_answerer"
RTP, RTCP, STUN, DTLS, OTHER = "rtp", "rtcp", "stun", "dtls", "other"

#: Bytes of the SRTP authentication tag on RTP, by W3C `srtpCipher` (RFC 3711, RFC 7714).
SRTP_RTP_TAG = {"SRTP_AES128_CM_HMAC_SHA1_80": 10, "SRTP_AES128_CM_HMAC_SHA1_32": 4,
                "SRTP_AEAD_AES_128_GCM": 16, "SRTP_AEAD_AES_256_GCM": 16}


def classify(data: bytes) -> str:
    """RFC 7983 demultiplexing by the first byte, then RFC 5761 for RTP vs RTCP."""
    first = data[0] if data else 255
    if first <= 3:
        return STUN
    if 20 <= first <= 63:
        return DTLS
    if 128 <= first <= 191 and len(data) >= 2:
        return RTCP if 192 <= data[1] <= 223 else RTP
    return OTHER


@dataclass
class Packet:
    seq: int  # extended (RFC 3550 A.1), relative to nothing: comparable within one stream
    size: int  # the whole SRTP datagram
    header: int  # fixed header + CSRCs + extension block
    padded: bool
    fate: str  # "forwarded" | "dropped" | "held"


@dataclass
class RtpStream:
    """What the relay saw of one SSRC in one direction."""

    ssrc: int
    payload_types: set[int] = field(default_factory=set)
    packets: list[Packet] = field(default_factory=list)
    _max_seq: int | None = None
    _cycles: int = 0

    def extend(self, seq: int) -> int:
        if self._max_seq is None:
            self._max_seq = seq
            return seq
        step = (seq - self._max_seq) & 0xFFFF
        if step < 0x8000:  # in order (or a jump forward)
            if seq < self._max_seq:
                self._cycles += 0x10000
            self._max_seq = seq
            return self._cycles + seq
        return self._cycles + seq - (0x10000 if seq > self._max_seq else 0)  # late

    def count(self, fate: str | None = None, padded: bool | None = None) -> int:
        """Packets the relay received on this SSRC: all of them, or those of one fate, with or
        without the padding bit (on an RTX SSRC, libwebrtc sets it on padding-only probes only)."""
        return sum(1 for p in self.packets
                   if (fate is None or p.fate == fate) and (padded is None or p.padded == padded))

    @property
    def padded(self) -> int:
        return sum(p.padded for p in self.packets)

    def lost_as_rfc3550(self) -> int:
        """Drops between the first and the highest forwarded packet: what the receiver can know
        was lost (RFC 3550 §6.4.1: expected = highest - first + 1). Drops before the first or
        after the last forwarded packet are not yet expected by the receiver."""
        forwarded = [p.seq for p in self.packets if p.fate == "forwarded"]
        if not forwarded:
            return 0
        low, high = min(forwarded), max(forwarded)
        return sum(1 for p in self.packets if p.fate == "dropped" and low <= p.seq <= high)

    def payload_bytes(self, tag: int, rtx: bool = False) -> int:
        """W3C bytesSent/bytesReceived of these packets (all received by the relay): datagram
        minus header, SRTP tag and, for RTX (RFC 4588), the 2-byte original sequence number."""
        if self.padded:
            raise ValueError(f"SSRC {self.ssrc}: {self.padded} padded packets, padding length is encrypted")
        return sum(p.size - p.header - tag - (2 if rtx else 0) for p in self.packets)


class _Side(asyncio.DatagramProtocol):
    def __init__(self, relay: Relay, direction: str) -> None:
        self.relay, self.direction = relay, direction
        self.transport: asyncio.DatagramTransport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]
        sock = transport.get_extra_info("socket")
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        self.relay._on_datagram(self.direction, data, addr)


class Relay:
    """Two sockets, two peers, seeded RTP loss and a count of everything."""

    def __init__(self, loss_percent: float = 0.0, seed: int = 0) -> None:
        if not 0 <= loss_percent <= 100:
            raise ValueError(f"loss percent must be within 0..100, got {loss_percent}")
        self.loss = loss_percent / 100
        self.seed = seed
        self.peers: dict[str, tuple[str, int] | None] = {FROM_OFFERER: None, FROM_ANSWERER: None}
        self.streams: dict[str, dict[int, RtpStream]] = {FROM_OFFERER: {}, FROM_ANSWERER: {}}
        #: Datagrams by class and direction; `rtcp_types` by the PT of a compound's first packet.
        self.datagrams: dict[str, dict[str, int]] = {FROM_OFFERER: {}, FROM_ANSWERER: {}}
        self.rtcp_types: dict[str, dict[int, int]] = {FROM_OFFERER: {}, FROM_ANSWERER: {}}
        self.strays = 0
        self.frozen: set[str] = set()
        self._sides: dict[str, _Side] = {}
        self._random: dict[tuple[str, int], random.Random] = {}

    async def start(self) -> Relay:
        loop = asyncio.get_running_loop()
        for direction in (FROM_OFFERER, FROM_ANSWERER):
            _, side = await loop.create_datagram_endpoint(
                lambda d=direction: _Side(self, d), local_addr=("127.0.0.1", 0))
            self._sides[direction] = side
        return self

    def close(self) -> None:
        for side in self._sides.values():
            if side.transport is not None:
                side.transport.close()

    def port(self, direction: str) -> int:
        """The port that receives what comes `direction` (FROM_OFFERER: the offerer sends there)."""
        transport = self._sides[direction].transport
        assert transport is not None
        return transport.get_extra_info("sockname")[1]

    # -- SDP -------------------------------------------------------------------------------
    def rewrite_offer(self, sdp: str) -> str:
        """The offer as the answerer must see it: one candidate, the relay's answerer-facing socket."""
        return self._rewrite(sdp, FROM_OFFERER, self.port(FROM_ANSWERER))

    def rewrite_answer(self, sdp: str) -> str:
        """The answer as the offerer must see it: one candidate, the relay's offerer-facing socket."""
        return self._rewrite(sdp, FROM_ANSWERER, self.port(FROM_OFFERER))

    def _rewrite(self, sdp: str, direction: str, relay_port: int) -> str:
        newline = "\r\n" if "\r\n" in sdp else "\n"
        out: list[str] = []
        chosen: tuple[str, int] | None = None
        for line in sdp.splitlines():  # BUNDLE: the first m-section's transport carries it all
            if not line.startswith("a=candidate:"):
                out.append(line)
                continue
            parts = line.split()
            if chosen is None and parts[2].lower() == "udp" and parts[4] == "127.0.0.1" and parts[1] == "1":
                chosen = (parts[4], int(parts[5]))
                parts[5] = str(relay_port)
                out.append(" ".join(parts))
        if chosen is None:
            raise ValueError(f"{direction}: no 127.0.0.1 UDP candidate to relay for in the SDP")
        if self.peers[direction] not in (None, chosen):
            raise ValueError(f"{direction}: a second description with another candidate {chosen}")
        self.peers[direction] = chosen
        return newline.join(out) + newline

    # -- the wire --------------------------------------------------------------------------
    def freeze(self, *classes: str) -> None:
        """Stop forwarding these classes (RTP, RTCP) in both directions; they are then `held`."""
        self.frozen.update(classes)

    def _on_datagram(self, direction: str, data: bytes, addr: tuple[str, int]) -> None:
        if addr != self.peers[direction]:
            self.strays += 1
            return
        kind = classify(data)
        counts = self.datagrams[direction]
        counts[kind] = counts.get(kind, 0) + 1
        fate = "held" if kind in self.frozen else "forwarded"
        if kind == RTP:
            fate = self._on_rtp(direction, data, fate)
        elif kind == RTCP:
            types = self.rtcp_types[direction]
            types[data[1]] = types.get(data[1], 0) + 1
        other = FROM_ANSWERER if direction == FROM_OFFERER else FROM_OFFERER
        destination, out = self.peers[other], self._sides[other].transport
        if fate == "forwarded" and destination is not None and out is not None:
            out.sendto(data, destination)

    def _on_rtp(self, direction: str, data: bytes, fate: str) -> str:
        if len(data) < 12:
            return fate
        first, second, seq, _, ssrc = struct.unpack_from("!BBHLL", data)
        header = 12 + 4 * (first & 0x0F)
        if first & 0x10 and len(data) >= header + 4:
            header += 4 + 4 * struct.unpack_from("!H", data, header + 2)[0]
        stream = self.streams[direction].get(ssrc)
        if stream is None:
            stream = self.streams[direction][ssrc] = RtpStream(ssrc)
            self._random[(direction, ssrc)] = random.Random(f"{self.seed}:{direction}:{ssrc}")
        stream.payload_types.add(second & 0x7F)
        draw = self._random[(direction, ssrc)].random()  # one draw per packet, held or not
        if fate == "forwarded" and draw < self.loss:
            fate = "dropped"
        stream.packets.append(Packet(stream.extend(seq), len(data), header, bool(first & 0x20), fate))
        return fate
