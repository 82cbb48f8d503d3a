"""The RTCP classifier on hand-built packets (and aiortc's own serializers, for realism)."""

from __future__ import annotations

import struct

import pytest
from aiortc.rtp import (
    RtcpByePacket,
    RtcpPsfbPacket,
    RtcpReceiverInfo,
    RtcpRrPacket,
    RtcpRtpfbPacket,
    RtcpSdesPacket,
    RtcpSenderInfo,
    RtcpSourceInfo,
    RtcpSrPacket,
    pack_remb_fci,
)
from hypothesis import given
from hypothesis import strategies as st

from rtcprobe.capture import events
from rtcprobe.probe.rtcp import PSFB_NAMES, RTPFB_NAMES, SIMPLE_NAMES, parse_rtcp


def rtcp(pt: int, fmt: int, body: bytes, padding: int = 0) -> bytes:
    """One RTCP packet: V=2, P, FMT/count, PT, length in words minus one."""
    body += b"\x00" * (padding - 1) + bytes([padding]) if padding else b""
    assert len(body) % 4 == 0
    return struct.pack("!BBH", 0x80 | (0x20 if padding else 0) | fmt, pt, len(body) // 4) + body


def feedback(pt: int, fmt: int, sender: int, media: int, fci: bytes = b"") -> bytes:
    return rtcp(pt, fmt, struct.pack("!LL", sender, media) + fci)


def test_nack_pid_and_blp_decode_to_sequence_numbers() -> None:
    # PID 100; BLP bits 0, 2 and 15 -> 101, 103, 116. Second entry wraps: 65535 and bit 0 -> 0.
    fci = struct.pack("!HHHH", 100, 0b1000000000000101, 65535, 0b1)
    [info] = parse_rtcp(feedback(205, 1, 11, 22, fci))
    assert (info.packet_type, info.pt, info.fmt) == ("NACK", 205, 1)
    assert (info.sender_ssrc, info.media_ssrc) == (11, 22)
    assert info.lost == [100, 101, 103, 116, 65535, 0]
    assert info.size == 20


def test_nack_from_aiortc_round_trips() -> None:
    packet = RtcpRtpfbPacket(fmt=1, ssrc=1, media_ssrc=2)
    packet.lost = [5, 6, 9, 30, 1000]
    [info] = parse_rtcp(bytes(packet))
    assert info.packet_type == "NACK" and info.lost == [5, 6, 9, 30, 1000]


def test_transport_cc_is_twcc_not_nack() -> None:
    # transport-cc: base seq 7, 3 packets, reference time 1 and feedback count 0, one run-length
    # chunk (3 x "received, small delta"), three 1-byte deltas, zero padding to a word
    fci = struct.pack("!HHLH", 7, 3, 1 << 8, 0x2003) + b"\x04\x04\x04" + b"\x00" * 3
    [info] = parse_rtcp(feedback(205, 15, 1, 2, fci))
    assert info.packet_type == "TWCC" and info.lost == []
    [other] = parse_rtcp(feedback(205, 3, 1, 2, b"\x00" * 8))  # TMMBR
    assert other.packet_type == "RTPFB"


def test_remb_pli_fir_sli_rpsi() -> None:
    remb = RtcpPsfbPacket(fmt=15, ssrc=9, media_ssrc=0, fci=pack_remb_fci(2_000_000, [111, 222]))
    [info] = parse_rtcp(bytes(remb))
    assert info.packet_type == "REMB" and info.targets == [111, 222]
    assert info.bitrate is not None and abs(info.bitrate - 2_000_000) <= 2_000_000 >> 17
    [afb] = parse_rtcp(feedback(206, 15, 9, 0, b"ABCD\x00\x00\x00\x00"))
    assert afb.packet_type == "PSFB" and afb.bitrate is None

    [pli] = parse_rtcp(bytes(RtcpPsfbPacket(fmt=1, ssrc=3, media_ssrc=4)))
    assert (pli.packet_type, pli.sender_ssrc, pli.media_ssrc) == ("PLI", 3, 4)

    fir_fci = struct.pack("!LB3x", 555, 1) + struct.pack("!LB3x", 666, 1)
    [fir] = parse_rtcp(feedback(206, 4, 3, 0, fir_fci))
    assert fir.packet_type == "FIR" and fir.targets == [555, 666]

    assert parse_rtcp(feedback(206, 2, 3, 4, b"\x00" * 4))[0].packet_type == "SLI"
    assert parse_rtcp(feedback(206, 3, 3, 4, b"\x00" * 4))[0].packet_type == "RPSI"


def test_sender_report_with_blocks() -> None:
    block = RtcpReceiverInfo(ssrc=77, fraction_lost=64, packets_lost=-5, highest_sequence=70000,
                             jitter=123, lsr=0xAABBCCDD, dlsr=65536)
    sr = RtcpSrPacket(ssrc=5, sender_info=RtcpSenderInfo(
        ntp_timestamp=0x1122334455667788, rtp_timestamp=9, packet_count=10, octet_count=1000),
        reports=[block])
    [info] = parse_rtcp(bytes(sr))
    assert (info.packet_type, info.pt, info.fmt, info.sender_ssrc) == ("SR", 200, 1, 5)
    assert info.sender_info is not None
    assert info.sender_info.lsr == 0x33445566 and info.sender_info.packet_count == 10
    [b] = info.reports
    assert (b.ssrc, b.fraction_lost, b.packets_lost, b.highest_seq) == (77, 64, -5, 70000)
    assert (b.jitter, b.lsr, b.dlsr) == (123, 0xAABBCCDD, 65536)


def test_receiver_report_blocks() -> None:
    blocks = [RtcpReceiverInfo(ssrc=s, fraction_lost=s, packets_lost=s * 10, highest_sequence=s,
                               jitter=s, lsr=0, dlsr=0) for s in (1, 2)]
    [info] = parse_rtcp(bytes(RtcpRrPacket(ssrc=42, reports=blocks)))
    assert info.packet_type == "RR" and info.sender_ssrc == 42
    assert [(b.ssrc, b.packets_lost) for b in info.reports] == [(1, 10), (2, 20)]


def test_compound_packet_is_iterated() -> None:
    sr = RtcpSrPacket(ssrc=5, sender_info=RtcpSenderInfo(ntp_timestamp=1, rtp_timestamp=2,
                                                         packet_count=3, octet_count=4))
    sdes = RtcpSdesPacket(chunks=[RtcpSourceInfo(ssrc=5, items=[(1, b"cname")])])
    app = rtcp(204, 3, struct.pack("!L", 5) + b"NAME" + b"data")
    xr = rtcp(207, 0, struct.pack("!L", 5) + struct.pack("!BBH", 4, 0, 2) + b"\x00" * 8)
    bye = RtcpByePacket(sources=[5])
    data = bytes(sr) + bytes(sdes) + app + xr + bytes(bye)
    infos = parse_rtcp(data)
    assert [i.packet_type for i in infos] == ["SR", "SDES", "APP", "XR", "BYE"]
    assert [i.sender_ssrc for i in infos] == [5] * 5
    assert sum(i.size for i in infos) == len(data)
    assert infos[2].fmt == 3  # APP subtype


def test_empty_sdes_bye_unknown_type_and_padding() -> None:
    infos = parse_rtcp(rtcp(202, 0, b"") + rtcp(203, 0, b"") + rtcp(195, 0, b"\x00" * 8))
    assert [(i.packet_type, i.sender_ssrc) for i in infos] == [("SDES", None), ("BYE", None), ("UNKNOWN", 0)]
    padded = rtcp(206, 1, struct.pack("!LL", 1, 2), padding=4)
    [pli] = parse_rtcp(padded)
    assert pli.packet_type == "PLI" and pli.size == len(padded)


@pytest.mark.parametrize("data", [
    b"\x80\xc8\x00",  # shorter than a header
    b"\x40\xc9\x00\x01\x00\x00\x00\x01",  # version 1
    b"\x80\xc9\x00\x05\x00\x00\x00\x01",  # length past the end
    b"\xa0\xce\x00\x02\x00\x00\x00\x01\x00\x00\x00\x00",  # padding count 0
    b"\x80\xc8\x00\x01\x00\x00\x00\x01",  # SR without sender info
])
def test_malformed_packets_raise_value_error(data: bytes) -> None:
    with pytest.raises(ValueError, match="RTCP"):
        parse_rtcp(data)


def test_event_shape_and_names() -> None:
    names = {*RTPFB_NAMES.values(), *PSFB_NAMES.values(), *SIMPLE_NAMES.values(), "REMB", "RTPFB", "PSFB"}
    assert names <= set(events.RTCP_TYPES)
    [info] = parse_rtcp(feedback(205, 1, 11, 22, struct.pack("!HH", 9, 0)))
    event = info.event("received", 1.5)
    assert event == {"event": events.RTCP, "t": 1.5, "direction": "received", "packet_type": "NACK",
                     "pt": 205, "fmt": 1, "sender_ssrc": 11, "media_ssrc": 22, "lost": [9], "size": 16}


@given(st.binary(max_size=200))
def test_any_bytes_classify_or_raise_value_error(data: bytes) -> None:
    try:
        infos = parse_rtcp(data)
    except ValueError:
        return
    assert all(i.packet_type in events.RTCP_TYPES for i in infos)
    assert sum(i.size for i in infos) == len(data)
