"""RED (RFC 2198) and ULPFEC on the receive path: rtcprobe.probe.red on hand-built packets and
the answer aiortc is shown. Against Chromium sending RED + ULPFEC: tests/test_truth_chromium.py."""

from __future__ import annotations

import struct

import pytest
from aiortc.codecs import CODECS
from aiortc.rtcpeerconnection import find_common_codecs
from aiortc.rtcrtpparameters import RTCRtpCodecParameters

from rtcprobe.probe.offer_shape import adapt_answer
from rtcprobe.probe.red import MalformedRed, RedMap, RedReceiver, parse_red
from rtcprobe.probe.taps import RTCP, RTP
from rtcprobe.sdp import parse_description

VP8, VP8_RTX, RED, RED_RTX, ULPFEC, OPUS, AUDIO_RED = 96, 97, 114, 115, 116, 111, 63
MEDIA_SSRC, RTX_SSRC = 0x11223344, 0x55667788

ANSWER = "\r\n".join([
    "v=0", "o=- 1 2 IN IP4 127.0.0.1", "s=-", "t=0 0", "a=group:BUNDLE 0 1",
    "m=audio 9 UDP/TLS/RTP/SAVPF 111 63", "c=IN IP4 0.0.0.0", "a=mid:0", "a=sendrecv", "a=rtcp-mux",
    "a=ice-ufrag:abcd", "a=ice-pwd:abcdefghijklmnopqrstuvwx", "a=setup:active",
    "a=fingerprint:sha-256 " + ":".join(["AB"] * 32),
    "a=rtpmap:111 opus/48000/2", "a=fmtp:111 minptime=10;useinbandfec=1",
    "a=rtpmap:63 red/48000/2", "a=fmtp:63 111/111",
    "m=video 9 UDP/TLS/RTP/SAVPF 96 97 114 115 116", "c=IN IP4 0.0.0.0", "a=mid:1", "a=sendrecv",
    "a=rtcp-mux", "a=ice-ufrag:abcd", "a=ice-pwd:abcdefghijklmnopqrstuvwx", "a=setup:active",
    "a=fingerprint:sha-256 " + ":".join(["AB"] * 32),
    "a=rtpmap:96 VP8/90000", "a=rtcp-fb:96 nack", "a=rtpmap:97 rtx/90000", "a=fmtp:97 apt=96",
    "a=rtpmap:114 red/90000", "a=rtpmap:115 rtx/90000", "a=fmtp:115 apt=114",
    "a=rtpmap:116 ulpfec/90000", "",
])


def rtp(pt: int, payload: bytes, *, seq: int = 1000, ts: int = 90_000, ssrc: int = MEDIA_SSRC,
        marker: bool = False, extension: bytes = b"", padding: int = 0) -> bytes:
    first = 0x80 | (0x10 if extension else 0) | (0x20 if padding else 0)
    header = struct.pack("!BBHII", first, (0x80 if marker else 0) | pt, seq, ts, ssrc)
    if extension:
        header += struct.pack("!HH", 0xBEDE, len(extension) // 4) + extension
    pad = bytes(padding - 1) + bytes([padding]) if padding else b""
    return header + payload + pad


def red(primary_pt: int, primary: bytes, *redundant: tuple[int, int, bytes]) -> bytes:
    """A RED payload: redundant blocks (pt, timestamp offset, data) first, the primary last."""
    headers = b"".join(bytes([0x80 | pt]) + ((offset << 10) | len(data)).to_bytes(3, "big")
                       for pt, offset, data in redundant)
    return headers + bytes([primary_pt]) + b"".join(d for _, _, d in redundant) + primary


@pytest.fixture
def receiver() -> RedReceiver:
    return RedReceiver(RedMap.from_answer(parse_description(ANSWER, "answer")))


def test_the_answer_names_red_fec_and_rtx_of_red() -> None:
    found = RedMap.from_answer(parse_description(ANSWER, "answer"))
    assert found.red == {RED, AUDIO_RED}
    assert found.fec == {ULPFEC: "ulpfec"}
    assert found.rtx_of_red == {RED_RTX}
    assert found.rtx_for == {VP8: VP8_RTX}


def test_parse_red_single_and_redundant_blocks() -> None:
    [primary] = parse_red(red(VP8, b"frame"))
    assert (primary.payload_type, primary.timestamp_offset, primary.data) == (VP8, 0, b"frame")
    blocks = parse_red(red(OPUS, b"now", (OPUS, 960, b"before"), (OPUS, 480, b"just")))
    assert [(b.payload_type, b.timestamp_offset, b.data) for b in blocks] == [
        (OPUS, 960, b"before"), (OPUS, 480, b"just"), (OPUS, 0, b"now")]


@pytest.mark.parametrize("payload", [b"", b"\x80\x00", red(OPUS, b"x", (OPUS, 960, b"0123456789"))[:8]])
def test_parse_red_refuses_what_does_not_fit(payload: bytes) -> None:
    with pytest.raises(MalformedRed):
        parse_red(payload)


def test_a_red_packet_becomes_its_primary_in_the_same_sequence_space(receiver: RedReceiver) -> None:
    extension = b"\x10\x01\x00\x00"
    packet = rtp(RED, red(VP8, b"vp8-payload"), seq=7, marker=True, extension=extension, padding=4)
    out = receiver.receive(RTP, packet, 0.0)
    assert out == rtp(VP8, b"vp8-payload", seq=7, marker=True, extension=extension)
    audio = rtp(AUDIO_RED, red(OPUS, b"opus-now", (OPUS, 960, b"opus-before")), seq=3)
    assert receiver.receive(RTP, audio, 0.0) == rtp(OPUS, b"opus-now", seq=3)
    assert receiver.counts[MEDIA_SSRC].red_packets == 2


def test_ulpfec_in_red_is_counted_and_kept_in_sequence_as_an_empty_packet(receiver: RedReceiver) -> None:
    receiver.receive(RTP, rtp(RED, red(VP8, b"last packet of a frame"), seq=10, ts=3000), 0.0)
    fec = rtp(RED, red(ULPFEC, b"\x00" * 20), seq=11, ts=9999)
    assert receiver.receive(RTP, fec, 0.0) == rtp(VP8, b"", seq=11, ts=3000)
    bare = rtp(ULPFEC, b"\x00" * 20, seq=12, ts=9999)
    assert receiver.receive(RTP, bare, 0.0) == rtp(VP8, b"", seq=12, ts=3000)
    assert receiver.fields_for(MEDIA_SSRC) == {"redPacketsReceived": 2, "redMalformedDiscarded": 0,
                                               "fecPacketsReceived": 2, "fecPacketsDiscarded": 2}


def test_fec_before_any_media_is_withheld_and_counted(receiver: RedReceiver) -> None:
    assert receiver.receive(RTP, rtp(RED, red(ULPFEC, b"\x00" * 20)), 0.0) is None
    assert receiver.counts[MEDIA_SSRC].fec_discarded == 1


def test_rtx_of_red_becomes_rtx_of_the_primary(receiver: RedReceiver) -> None:
    osn = (4242).to_bytes(2, "big")
    packet = rtp(RED_RTX, osn + red(VP8, b"again"), seq=5, ssrc=RTX_SSRC)
    assert receiver.receive(RTP, packet, 0.0) == rtp(VP8_RTX, osn + b"again", seq=5, ssrc=RTX_SSRC)
    fec_again = rtp(RED_RTX, osn + red(ULPFEC, b"\x00" * 8), seq=6, ssrc=RTX_SSRC)
    assert receiver.receive(RTP, fec_again, 0.0) is None
    assert (receiver.counts[RTX_SSRC].rtx_unwrapped, receiver.counts[RTX_SSRC].rtx_withheld) == (1, 1)


@pytest.mark.parametrize("packet", [
    rtp(RED, b""),  # no block header
    rtp(RED, b"\x80\x00\x00\x05" + bytes([VP8]) + b"abc"),  # a redundant block longer than the packet
    rtp(RED, b"\x80\x00"),  # a redundant block header cut short
    rtp(RED_RTX, b"\x01", ssrc=RTX_SSRC),  # RTX shorter than its original sequence number
    rtp(RED, b"", extension=b"\x10\x01\x00\x00")[:14],  # an extension header cut short
    rtp(RED, bytes([VP8]) + b"ab", padding=2)[:-1] + b"\x09",  # padding longer than the packet
])
def test_malformed_red_is_dropped_and_counted_not_raised(receiver: RedReceiver, packet: bytes) -> None:
    assert receiver.receive(RTP, packet, 0.0) is None
    assert sum(c.malformed for c in receiver.counts.values()) == 1


def test_other_packets_pass_untouched(receiver: RedReceiver) -> None:
    for packet, kind in ((rtp(VP8, b"plain"), RTP), (rtp(VP8_RTX, b"\x00\x01x", ssrc=RTX_SSRC), RTP),
                         (b"\x81\xc9\x00\x01" + bytes(4), RTCP), (b"\x80", RTP)):
        assert receiver.receive(kind, packet, 0.0) is packet
    assert receiver.counts == {}


def test_the_adapted_answer_says_what_is_unwrapped_and_aiortc_keeps_the_primary_codecs() -> None:
    adapted = adapt_answer(ANSWER)
    assert adapted.unwrapped == {"0": ["red"], "1": ["red", "ulpfec", "rtx of red"]}
    assert adapted.event_fields()["unwrapped"] == adapted.unwrapped
    # what aiortc's receiver will know (as setRemoteDescription computes it): the primary codecs
    # and the RTX of VP8, never RED or FEC, so every packet RedReceiver hands on has a known type
    video = parse_description(adapted.sdp, "adapted").media[1]
    remote = [RTCRtpCodecParameters(mimeType=f"video/{c.name}", clockRate=c.clock_rate, payloadType=c.payload_type,
                                    parameters={"apt": c.associated_payload_type} if c.role == "rtx" else {})
              for c in video.codecs]
    assert [c.payloadType for c in find_common_codecs(CODECS["video"], remote)] == [VP8, VP8_RTX]
