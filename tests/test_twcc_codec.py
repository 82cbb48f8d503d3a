"""transport-cc feedback encode/decode on hand-built arrival patterns, and the header extension stamp."""

from __future__ import annotations

import random
from pathlib import Path

import pytest
from aiortc.rtcrtpparameters import RTCRtpHeaderExtensionParameters
from aiortc.rtp import HeaderExtensionsMap, RtpPacket

from rtcprobe.probe.twcc import TransportCC
from rtcprobe.probe.twcc_codec import (
    TICK_US,
    decode_feedback,
    encode_feedback,
    iter_feedback,
    read_sequence,
    stamp,
)


def grid(us: int) -> int:
    """What the feedback can say of an arrival time: 250 µs ticks (libwebrtc rounds the same way)."""
    return TICK_US * ((us + TICK_US // 2) // TICK_US)


def chunks(packet: bytes) -> list[int]:
    count = int.from_bytes(packet[14:16], "big")
    words, pos, seen = [], 20, 0
    while seen < count:
        word = int.from_bytes(packet[pos:pos + 2], "big")
        words.append(word)
        seen += (word & 0x1FFF) if not word & 0x8000 else (7 if word & 0x4000 else 14)
        pos += 2
    return words


def round_trip(base: int, arrivals: list[int | None]) -> None:
    packet = encode_feedback(0x1234, 0x5678, base, 7, arrivals)
    assert len(packet) % 4 == 0 and 4 * (int.from_bytes(packet[2:4], "big") + 1) == len(packet)
    fb = decode_feedback(packet)
    assert (fb.sender_ssrc, fb.media_ssrc, fb.base_seq, fb.feedback_count) == (0x1234, 0x5678, base & 0xFFFF, 7)
    assert [a.seq for a in fb.arrivals] == [base + k for k in range(len(arrivals))]
    assert [a.arrival_us for a in fb.arrivals] == [None if a is None else grid(a) for a in arrivals]
    assert [list(fb2.arrivals) for fb2 in iter_feedback(b"\x81\xc9\x00\x01" + b"\0" * 4 + packet)] == [fb.arrivals]


def test_byte_exact_two_packets() -> None:
    # reference time 1 (64 ms); two received 250 µs apart: one 1-bit status vector 11000000000000
    packet = encode_feedback(1, 2, 0, 0, [64_000, 64_250])
    assert packet.hex() == "8fcd0005" "00000001" "00000002" "0000" "0002" "00000100" "b000" "0001"


def test_run_length_chunk_for_a_long_run() -> None:
    arrivals = [1_000_000 + 1000 * k for k in range(40)]
    packet = encode_feedback(1, 2, 100, 0, arrivals)
    assert chunks(packet) == [(1 << 13) | 40]  # one run of 40 "small delta"
    round_trip(100, arrivals)


def test_one_bit_vector_with_losses() -> None:
    arrivals: list[int | None] = [5_000_000, None, 5_002_000, None, None, 5_009_000, 5_009_500]
    packet = encode_feedback(1, 2, 0, 0, arrivals)
    assert [hex(c) for c in chunks(packet)] == [hex(0x8000 | 0b10100110000000)]
    round_trip(0, arrivals)


def test_two_bit_vector_for_large_and_negative_deltas() -> None:
    arrivals: list[int | None] = [10_000_000, 10_100_000, 10_050_000, None, 10_050_250]  # +100 ms, -50 ms
    packet = encode_feedback(1, 2, 0, 0, arrivals)
    assert [hex(c) for c in chunks(packet)] == [hex(0xC000 | 0b01101000010000)]
    round_trip(0, arrivals)


def test_run_of_losses_then_vectors_and_padding() -> None:
    arrivals: list[int | None] = [1_000_000] + [None] * 300 + [1_500_000 + 30 * k for k in range(9)]
    packet = encode_feedback(1, 2, 0, 0, arrivals)
    kinds = ["run" if not c & 0x8000 else "2bit" if c & 0x4000 else "1bit" for c in chunks(packet)]
    assert kinds[:2] == ["1bit", "run"]  # 1 received + 13 lost, then the rest of the lost run
    round_trip(0, arrivals)


def test_wrap_around_of_the_sequence_number() -> None:
    arrivals = [2_000_000 + 700 * k for k in range(20)]
    packet = encode_feedback(1, 2, 65530, 3, arrivals)
    fb = decode_feedback(packet)
    assert fb.base_seq == 65530 and [a.seq & 0xFFFF for a in fb.arrivals][5:8] == [65535, 0, 1]


@pytest.mark.parametrize("seed", range(20))
def test_random_patterns_round_trip(seed: int) -> None:
    rng = random.Random(seed)
    now, arrivals = rng.randrange(0, 10**9), []
    for _ in range(rng.randrange(1, 400)):
        now += rng.choice([0, 1, 300, 5000, 70_000, -20_000])
        arrivals.append(None if rng.random() < 0.2 else max(now, 0))
    arrivals[0] = arrivals[0] or now
    round_trip(rng.randrange(65536), arrivals)


def test_leading_losses_are_reported_from_the_window_start() -> None:
    arrivals: list[int | None] = [None, None, 3_000_000, None, 3_001_000]
    packet = encode_feedback(1, 2, 40, 0, arrivals)
    assert decode_feedback(packet).reference_us == 3_000_000 // 64_000 * 64_000
    round_trip(40, arrivals)
    with pytest.raises(ValueError, match="at least one received"):
        encode_feedback(1, 2, 0, 0, [None, None])


def test_a_delta_beyond_16_bits_is_refused() -> None:
    with pytest.raises(ValueError, match="does not fit"):
        encode_feedback(1, 2, 0, 0, [0, 9_000_000])


def test_truncated_feedback_is_an_error() -> None:
    packet = encode_feedback(1, 2, 0, 0, [64_000, 64_250, None, 70_000])
    with pytest.raises(ValueError):
        decode_feedback(packet[:21])


def rtp() -> bytes:
    return RtpPacket(payload_type=96, sequence_number=1, timestamp=2, ssrc=3, payload=b"payload!").serialize()


def test_stamp_one_byte_form_keeps_other_elements_and_payload() -> None:
    ext_map = HeaderExtensionsMap()
    ext_map.configure(type("P", (), {"headerExtensions": [
        RTCRtpHeaderExtensionParameters(id=4, uri="urn:ietf:params:rtp-hdrext:sdes:mid")]})())
    packet = RtpPacket(payload_type=96, sequence_number=1, timestamp=2, ssrc=3, payload=b"payload!")
    packet.extensions.mid = "0"
    data = packet.serialize(ext_map)
    stamped = stamp(data, 3, 0x1234)
    assert read_sequence(stamped, 3) == 0x1234
    parsed = RtpPacket.parse(stamped, ext_map)
    assert parsed.extensions.mid == "0" and parsed.payload == b"payload!"
    assert stamped[12:14] == b"\xbe\xde"  # still the one-byte form
    assert read_sequence(stamp(stamped, 3, 7), 3) == 7  # restamping replaces, not appends


def test_stamp_without_extensions_and_two_byte_form() -> None:
    data = rtp()
    assert read_sequence(stamp(data, 5, 9), 5) == 9
    assert RtpPacket.parse(stamp(data, 5, 9)).payload == b"payload!"
    two_byte = stamp(data, 20, 65535)  # an id above 14 needs the two-byte form (RFC 8285 §4.3)
    assert two_byte[12:14] == b"\x10\x00" and read_sequence(two_byte, 20) == 65535


def test_feedback_generator_reports_reordered_and_missing_packets() -> None:
    tcc = TransportCC(lambda ssrc: None, {3}, sender_ssrc=11)
    tcc.tap = None
    for seq, t in ((65534, 1.000), (65535, 1.001), (1, 1.003), (2, 1.004)):  # 0 is missing
        tcc.incoming("rtp", stamp(rtp(), 3, seq), t)
    [first] = tcc.feedback_packets()
    fb = decode_feedback(first)
    assert [(a.seq & 0xFFFF, a.arrival_us) for a in fb.arrivals] == \
        [(65534, 1_000_000), (65535, 1_001_000), (0, None), (1, 1_003_000), (2, 1_004_000)]
    tcc.incoming("rtp", stamp(rtp(), 3, 4), 1.005)  # 3 is missing at the start of the next window
    [middle] = tcc.feedback_packets()
    assert [(a.seq & 0xFFFF, a.arrival_us) for a in decode_feedback(middle).arrivals] == [(3, None), (4, 1_005_000)]
    tcc.incoming("rtp", stamp(rtp(), 3, 0), 1.010)  # late: the window reopens there
    [second] = tcc.feedback_packets()
    fb2 = decode_feedback(second)
    assert fb2.base_seq == 0 and fb2.feedback_count == fb.feedback_count + 2
    assert [a.arrival_us for a in fb2.arrivals] == [1_010_000, 1_003_000, 1_004_000, None, 1_005_000]
    assert tcc.feedback_packets() == []  # nothing new


REAL = Path(__file__).parent / "data" / "realworld" / "rtcp" / "chromium-transport-cc-feedback.hex"


def test_real_chromium_feedback_decodes_and_re_encodes() -> None:
    """Feedback Chromium 156 sent the probe (tests/data/record_chromium_twcc.py): padded, run-length
    chunks; consecutive feedback counts, windows that follow each other, every packet received."""
    datagrams = [bytes.fromhex(line) for line in REAL.read_text().split()]
    feedbacks = [fb for d in datagrams for fb in iter_feedback(d)]
    assert len(feedbacks) == len(datagrams) == 5
    first = feedbacks[0]
    assert (first.base_seq, len(first.arrivals), first.feedback_count) == (0, 7, 0)
    assert first.reference_us == 0xD0A0 * 64_000
    assert [a.arrival_us - first.reference_us for a in first.arrivals] == \
        [250 * d for d in (0xB5, 0xB5 + 0x1F, 0xB5 + 0x1F + 7, 0xB5 + 0x1F + 7, 0xB5 + 0x1F + 8,
                           0xB5 + 0x1F + 8 + 0x27, 0xB5 + 0x1F + 8 + 0x27 + 0x17)]
    assert [fb.feedback_count for fb in feedbacks] == [0, 1, 2, 3, 4]
    for before, after in zip(feedbacks, feedbacks[1:], strict=False):
        assert before.base_seq + len(before.arrivals) == after.base_seq
    assert all(fb.lost == 0 for fb in feedbacks)
    for fb in feedbacks:  # our encoder says the same thing (its chunks may differ: both are valid)
        again = decode_feedback(encode_feedback(fb.sender_ssrc, fb.media_ssrc, fb.base_seq, fb.feedback_count,
                                                [a.arrival_us for a in fb.arrivals]))
        assert again == fb
