"""The truth test's relay (tests/relay.py) on its own: what it counts must itself be right."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import struct

import pytest
from relay import (
    DTLS,
    FROM_ANSWERER,
    FROM_OFFERER,
    RTCP,
    RTP,
    STUN,
    Packet,
    Relay,
    RtpStream,
    classify,
)

OFFER = """v=0
o=- 1 2 IN IP4 0.0.0.0
s=-
t=0 0
a=group:BUNDLE 0 1
m=audio 9 UDP/TLS/RTP/SAVPF 111
c=IN IP4 0.0.0.0
a=mid:0
a=candidate:1 1 udp 2130706431 192.0.2.7 5000 typ host
a=candidate:2 1 udp 2130706431 127.0.0.1 5001 typ host
a=candidate:3 1 udp 2130706431 ::1 5002 typ host
a=candidate:4 1 tcp 1518280447 127.0.0.1 9 typ host tcptype active
a=end-of-candidates
m=video 9 UDP/TLS/RTP/SAVPF 96
c=IN IP4 0.0.0.0
a=mid:1
a=candidate:5 1 udp 2130706431 127.0.0.1 5003 typ host
"""


def rtp(seq: int, ssrc: int = 7, *, payload: int = 100, tag: int = 10, csrcs: int = 0,
        extension_words: int = 0, padded: bool = False) -> bytes:
    first = 0x80 | (0x20 if padded else 0) | (0x10 if extension_words else 0) | csrcs
    header = struct.pack("!BBHLL", first, 96, seq & 0xFFFF, 0, ssrc) + b"\0\0\0\1" * csrcs
    if extension_words:
        header += struct.pack("!HH", 0xBEDE, extension_words) + b"\0" * 4 * extension_words
    return header + b"p" * payload + b"t" * tag


def test_demultiplexing_follows_rfc_7983_and_5761() -> None:
    assert classify(b"\x00\x01" + bytes(18)) == STUN
    assert classify(b"\x16\xfe\xfd") == DTLS
    assert classify(b"\x80\x60") == RTP and classify(b"\x80\xe0") == RTP  # PT 96, marker set
    assert classify(b"\x80\xc8") == RTCP and classify(b"\x81\xcd") == RTCP  # SR, RTPFB


def test_rfc3550_loss_counts_only_drops_the_receiver_can_expect() -> None:
    stream = RtpStream(7)
    fates = {65533: "dropped", 65534: "forwarded", 65535: "dropped", 0: "forwarded",
             1: "dropped", 2: "forwarded", 3: "dropped", 4: "held"}
    for seq, fate in fates.items():  # across the wrap; 65533 is before the first forwarded,
        stream.packets.append(Packet(stream.extend(seq), 122, 12, False, fate))  # 3 after the last
    assert [p.seq for p in stream.packets][-1] == 65536 + 4
    assert stream.lost_as_rfc3550() == 2 and stream.count("dropped") == 4 and stream.count() == 8
    late = stream.extend(65535)  # a late packet from before the wrap keeps its cycle
    assert late == 65535


def test_payload_bytes_leave_out_header_tag_and_rtx_sequence_number() -> None:
    stream = RtpStream(7)
    for data in (rtp(1), rtp(2, csrcs=2, extension_words=3)):
        header = 12 + 4 * (data[0] & 0x0F) + (4 + 4 * 3 if data[0] & 0x10 else 0)
        stream.packets.append(Packet(stream.extend(struct.unpack_from("!H", data, 2)[0]), len(data), header,
                                     False, "forwarded"))
    assert stream.payload_bytes(10) == 200 and stream.payload_bytes(10, rtx=True) == 196
    stream.packets.append(Packet(3, 140, 12, True, "forwarded"))
    with pytest.raises(ValueError, match="padding length is encrypted"):
        stream.payload_bytes(10)


async def test_relay_rewrites_candidates_forwards_drops_and_counts() -> None:
    relay = await Relay(loss_percent=30, seed=1).start()
    offerer, answerer = (socket.socket(socket.AF_INET, socket.SOCK_DGRAM) for _ in range(2))
    try:
        for s in (offerer, answerer):
            s.bind(("127.0.0.1", 0))
            s.setblocking(False)
        offer = OFFER.replace("5001", str(offerer.getsockname()[1]))
        seen = relay.rewrite_offer(offer)
        [candidate] = [line for line in seen.splitlines() if line.startswith("a=candidate:")]
        assert candidate == f"a=candidate:2 1 udp 2130706431 127.0.0.1 {relay.port(FROM_ANSWERER)} typ host"
        answer = OFFER.replace("5001", str(answerer.getsockname()[1]))
        assert f" {relay.port(FROM_OFFERER)} typ host" in relay.rewrite_answer(answer)

        sent = [rtp(seq) for seq in range(200)]
        for data in sent:
            offerer.sendto(data, ("127.0.0.1", relay.port(FROM_OFFERER)))
        offerer.sendto(b"\x80\xc8" + bytes(26), ("127.0.0.1", relay.port(FROM_OFFERER)))
        stray = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        stray.sendto(rtp(0), ("127.0.0.1", relay.port(FROM_OFFERER)))  # not the offerer's socket
        stray.close()
        stream = relay.streams[FROM_OFFERER]
        for _ in range(500):  # until the relay has had every datagram (a bound, not a timing check)
            if relay.datagrams[FROM_OFFERER].get(RTP, 0) == 200 and relay.datagrams[FROM_OFFERER].get(RTCP) \
                    and relay.strays:
                break
            await asyncio.sleep(0.01)
        await asyncio.sleep(0.05)
        arrived: list[bytes] = []
        with contextlib.suppress(BlockingIOError):
            while True:
                arrived.append(answerer.recv(2048))
        dropped = stream[7].count("dropped")
        assert 0 < dropped < 200 and stream[7].count() == 200 and relay.strays == 1
        assert len(arrived) == 200 - dropped + 1  # every RTCP datagram passes
        assert relay.datagrams[FROM_OFFERER] == {RTP: 200, RTCP: 1}
        again = await Relay(loss_percent=30, seed=1).start()  # the same seed drops the same packets
        again.rewrite_offer(offer)
        again.rewrite_answer(answer)
        for data in sent:
            again._on_datagram(FROM_OFFERER, data, offerer.getsockname())
        assert [p.fate for p in again.streams[FROM_OFFERER][7].packets] == [p.fate for p in stream[7].packets]
        again.close()
    finally:
        relay.close()
        offerer.close()
        answerer.close()
