"""Packet taps and the stats collector: synthetic packets with known answers, then real aiortc
sessions on this machine with taps on both peers."""

from __future__ import annotations

import asyncio
import gzip
import json
import re
import struct
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from aioice import Candidate
from aioice.ice import CandidatePair
from aiortc import RTCCertificate, RTCConfiguration, RTCPeerConnection
from aiortc.contrib.media import MediaBlackhole
from aiortc.rtcdtlstransport import RTCDtlsTransport
from aiortc.rtcicetransport import RTCIceGatherer, RTCIceTransport
from aiortc.rtp import (
    RtcpPsfbPacket,
    RtcpReceiverInfo,
    RtcpRrPacket,
    RtcpRtpfbPacket,
    RtcpSenderInfo,
    RtcpSrPacket,
    pack_header_extensions,
    pack_remb_fci,
)

from rtcprobe.capture import events
from rtcprobe.probe.media import ToneSource, video_source
from rtcprobe.probe.mediamap import MediaMap
from rtcprobe.probe.pairs import watch_selected_pairs
from rtcprobe.probe.stats import StatsCollector
from rtcprobe.probe.taps import LossFilter, PacketTap, monotonic_clock, peer_connection_transports
from rtcprobe.probe.transport_stats import SRTP_CIPHERS
from rtcprobe.sdp import parse_description

EVENT_FIELDS = {
    events.RTP_FIRST: {"event", "t", "direction", "ssrc", "kind", "mid", "payload_type"},
    events.RTCP: {"event", "t", "direction", "packet_type", "pt", "fmt", "sender_ssrc",
                  "media_ssrc", "lost", "size"},
    events.EXTENSIONS_SEEN: {"event", "t", "direction", "ssrc", "ids"},
}


def rtp(seq: int, ts: int, ssrc: int, pt: int = 111, payload: bytes = b"x" * 100,
        extensions: list[tuple[int, bytes]] | None = None, csrcs: int = 0, padding: int = 0) -> bytes:
    """An RTP packet as on the wire (RFC 3550 §5.1), header extensions packed by aiortc."""
    profile, block = pack_header_extensions(extensions or [])
    first = 0x80 | (0x20 if padding else 0) | (0x10 if block else 0) | csrcs
    data = struct.pack("!BBHLL", first, pt, seq, ts, ssrc) + b"\x00\x00\x00\x01" * csrcs
    if block:
        data += struct.pack("!HH", profile, len(block) // 4) + block
    return data + payload + (b"\x00" * (padding - 1) + bytes([padding]) if padding else b"")


def report(reports: list[dict[str, Any]], type_: str, ssrc: int | None = None) -> dict[str, Any]:
    return next(r for r in reports if r["type"] == type_ and (ssrc is None or r["ssrc"] == ssrc))


# -- synthetic packets -------------------------------------------------------------------------


def test_sequence_gaps_across_wraparound_count_as_lost() -> None:
    stats = StatsCollector(media=MediaMap(clock_rates={111: 48000}))
    seqs = [65530, 65531, 65532, 65534, 65535, 0, 1, 3, 4, 5]  # 65533 and 2 never arrive
    for i, seq in enumerate(seqs):
        stats.observe("received", "rtp", rtp(seq, 960 * i, 7), 0.02 * i)
    inbound = report(stats.snapshot(1.0), "inbound-rtp")
    assert (inbound["packetsReceived"], inbound["packetsLost"]) == (10, 2)
    assert inbound["lastPacketReceivedTimestamp"] == pytest.approx(0.18)


def test_jitter_is_rfc3550_in_seconds() -> None:
    stats = StatsCollector(media=MediaMap(clock_rates={111: 48000}))
    for n in range(10):  # exactly on time: no jitter
        stats.observe("received", "rtp", rtp(n, 960 * n, 7), 0.02 * n)
    assert report(stats.snapshot(1.0), "inbound-rtp")["jitter"] == pytest.approx(0.0, abs=1e-9)
    stats.observe("received", "rtp", rtp(10, 9600, 7), 0.2 + 0.008)  # 8 ms late: J += 8 ms / 16
    assert report(stats.snapshot(1.0), "inbound-rtp")["jitter"] == pytest.approx(0.0005)


def test_payload_header_bytes_and_extension_ids_on_the_wire() -> None:
    stats = StatsCollector()
    one_byte = rtp(1, 0, 7, extensions=[(1, b"0"), (3, b"abc")], csrcs=1, padding=4)
    two_byte = rtp(1, 0, 8, extensions=[(20, b"long")])  # id > 14: the 0x1000 profile
    stats.observe("sent", "rtp", one_byte, 0.0)
    stats.observe("sent", "rtp", two_byte, 0.0)
    reports = stats.snapshot(0.1)
    first = report(reports, "outbound-rtp", 7)
    assert first["bytesSent"] == 100
    assert first["headerBytesSent"] == len(one_byte) - 100
    assert stats.extensions_seen() == {"sent": {7: [1, 3], 8: [20]}, "received": {}}
    [e7, e8] = stats.final_events()
    assert set(e7) == EVENT_FIELDS[events.EXTENSIONS_SEEN] and (e7["ssrc"], e7["ids"]) == (7, [1, 3])
    assert e8["ids"] == [20]


def test_rtx_folds_into_the_stream_it_repairs() -> None:
    media = MediaMap(clock_rates={97: 90000, 98: 90000}, kinds={97: "video", 98: "video"},
                     rtx_apt={98: 97}, rtx_ssrcs={222: 111})
    stats = StatsCollector(media=media)
    for seq in range(1, 6):
        stats.observe("sent", "rtp", rtp(seq, 0, 111, pt=97), 0.0)
    nack = RtcpRtpfbPacket(fmt=1, ssrc=9, media_ssrc=111)
    nack.lost = [3]
    stats.observe("received", "rtcp", bytes(nack), 0.05)
    stats.observe("sent", "rtp", rtp(40, 0, 222, pt=98, payload=struct.pack("!H", 3) + b"x" * 100), 0.1)
    stats.observe("sent", "rtp", rtp(3, 0, 333, pt=97), 0.1)  # another stream, no RTX yet
    stats.observe("sent", "rtp", rtp(3, 0, 333, pt=97), 0.2)  # the same packet again
    reports = stats.snapshot(1.0)
    video = report(reports, "outbound-rtp", 111)
    assert (video["packetsSent"], video["retransmittedPacketsSent"], video["rtxSsrc"]) == (6, 1, 222)
    assert video["bytesSent"] == 600 and video["retransmittedBytesSent"] == 100
    assert not [r for r in reports if r.get("ssrc") == 222]
    assert report(reports, "outbound-rtp", 333)["retransmittedPacketsSent"] == 1
    assert stats.packets_sent() == 8


def test_rtx_and_padding_probes_leave_loss_to_the_media_sequence_space() -> None:
    """Media 1..10 with 3 and 7 lost on the wire and NACKed, both repaired on RTX; libwebrtc's
    bandwidth probes on the RTX SSRC: five padding-only packets and a media packet resent unasked
    ("payload padding"). Lost stays 2 (libwebrtc's rule); the probes are neither payload nor
    retransmissions."""
    media = MediaMap(clock_rates={96: 90000, 97: 90000}, kinds={96: "video", 97: "video"},
                     rtx_apt={97: 96}, rtx_ssrcs={222: 111})
    stats = StatsCollector(media=media)
    for seq in (1, 2, 4, 5, 6, 8, 9, 10):
        stats.observe("received", "rtp", rtp(seq, seq, 111, pt=96), seq / 100)
    nack = RtcpRtpfbPacket(fmt=1, ssrc=9, media_ssrc=111)
    nack.lost = [3, 7]
    stats.observe("sent", "rtcp", bytes(nack), 0.15)
    for rtx_seq, original in ((500, 3), (501, 7), (502, 5)):  # 5 was not NACKed: payload padding
        stats.observe("received", "rtp", rtp(rtx_seq, 0, 222, pt=97, payload=struct.pack("!H", original) + b"y" * 100),
                      0.2)
    for rtx_seq in range(503, 508):
        stats.observe("received", "rtp", rtp(rtx_seq, 0, 222, pt=97, payload=b"", padding=224), 0.3)
    stats.observe("received", "rtp", rtp(508, 0, 222, pt=97, payload=struct.pack("!H", 3) + b"y" * 100), 0.4)
    video = report(stats.snapshot(1.0), "inbound-rtp", 111)
    assert video["packetsLost"] == 2
    assert (video["packetsReceived"], video["retransmittedPacketsReceived"]) == (10, 2)
    assert video["bytesReceived"] == 10 * 100 and video["retransmittedBytesReceived"] == 200
    assert video["headerBytesReceived"] == 8 * 12 + 2 * (12 + 2)


def test_rtt_with_two_srs_sharing_an_lsr_is_never_zero() -> None:
    """aiortc stamps an SR with its last RTP packet's time: with no RTP between two SRs they share
    the LSR. The echo of the second must not be read against the first, nor clamped to 0."""
    stats = StatsCollector(media=MediaMap(clock_rates={96: 90000}, kinds={96: "video"}))
    stats.observe("sent", "rtp", rtp(1, 0, 111, pt=96), 0.5)
    ntp = (3_900_000_000 << 32) | 0x40000000
    sr = bytes(RtcpSrPacket(ssrc=111, sender_info=RtcpSenderInfo(
        ntp_timestamp=ntp, rtp_timestamp=0, packet_count=1, octet_count=100)))
    stats.observe("sent", "rtcp", sr, 1.0)
    stats.observe("sent", "rtcp", sr, 2.0)  # the same LSR again

    def block(dlsr_s: float) -> bytes:
        info = RtcpReceiverInfo(ssrc=111, fraction_lost=0, packets_lost=0, highest_sequence=1,
                                jitter=0, lsr=(ntp >> 16) & 0xFFFFFFFF, dlsr=int(dlsr_s * 65536))
        return bytes(RtcpRrPacket(ssrc=999, reports=[info]))

    stats.observe("received", "rtcp", block(0.5), 2.55)  # echoes the SR of t=2.0: RTT 0.05
    remote = report(stats.snapshot(3.0), "remote-inbound-rtp", 111)
    assert remote["roundTripTime"] == pytest.approx(0.05, abs=1e-4)
    stats.observe("received", "rtcp", block(2.0), 2.6)  # negative against both: no sample
    remote = report(stats.snapshot(3.0), "remote-inbound-rtp", 111)
    assert remote["roundTripTimeMeasurements"] == 1 and remote["reportsReceived"] == 2
    assert remote["totalRoundTripTime"] == pytest.approx(0.05, abs=1e-4)
    fresh = StatsCollector(media=MediaMap(clock_rates={96: 90000}, kinds={96: "video"}))
    fresh.observe("sent", "rtp", rtp(1, 0, 111, pt=96), 0.5)
    fresh.observe("sent", "rtcp", sr, 1.0)
    fresh.observe("received", "rtcp", block(2.0), 1.5)
    remote = report(fresh.snapshot(2.0), "remote-inbound-rtp", 111)
    assert "roundTripTime" not in remote and remote["roundTripTimeMeasurements"] == 0


def test_pli_and_fir_counts_are_video_only() -> None:
    media = MediaMap(clock_rates={111: 48000, 96: 90000}, kinds={111: "audio", 96: "video"})
    stats = StatsCollector(media=media)
    for direction in ("sent", "received"):
        stats.observe(direction, "rtp", rtp(1, 0, 1 if direction == "sent" else 2, pt=111), 0.0)
        stats.observe(direction, "rtp", rtp(1, 0, 3 if direction == "sent" else 4, pt=96), 0.0)
    reports = stats.snapshot(1.0)
    for type_, audio, video in (("outbound-rtp", 1, 3), ("inbound-rtp", 2, 4)):
        assert {"pliCount", "firCount"}.isdisjoint(report(reports, type_, audio))
        assert report(reports, type_, audio)["nackCount"] == 0
        assert report(reports, type_, video)["pliCount"] == report(reports, type_, video)["firCount"] == 0
    # the yardstick: Chromium 156's own outbound-rtp members in a real webrtc-internals dump
    dump = Path(__file__).parent / "data" / "realworld" / "dumps" / "chromium-renegotiation-trickle.json.gz"
    with gzip.open(dump, "rt", encoding="utf8") as f:
        series = next(iter(json.load(f)["PeerConnections"].values()))["stats"]
    chromium: dict[str, set[str]] = {}
    for key, value in series.items():
        stat_id, member = key.rsplit("-", 1)
        if value.get("statsType") == "outbound-rtp" and member.endswith("Count") and member[:3] in ("nac", "pli", "fir"):
            chromium.setdefault(json.loads(series[f"{stat_id}-kind"]["values"])[0], set()).add(member)
    ours = {kind: {m for m in ("nackCount", "pliCount", "firCount") if m in report(reports, "outbound-rtp", ssrc)}
            for kind, ssrc in (("audio", 1), ("video", 3))}
    assert ours == chromium == {"audio": {"nackCount"}, "video": {"nackCount", "pliCount", "firCount"}}


def test_remb_bitrate_is_recorded_on_the_event() -> None:
    sink: list[dict[str, Any]] = []
    stats = StatsCollector(sink=sink.append)
    remb = bytes(RtcpPsfbPacket(fmt=15, ssrc=9, media_ssrc=0, fci=pack_remb_fci(1_234_567, [111, 222])))
    stats.observe("received", "rtcp", remb, 0.5)
    [event] = sink
    assert event["packet_type"] == "REMB" and event["remb_ssrcs"] == [111, 222]
    mantissa_exp = 1_234_567  # 18-bit mantissa, so the value is rounded down to what the wire holds
    assert event["remb_bitrate_bps"] <= mantissa_exp and event["remb_bitrate_bps"] > 0.99 * mantissa_exp
    assert set(event) == EVENT_FIELDS[events.RTCP] | {"remb_bitrate_bps", "remb_ssrcs"}


def test_round_trip_time_from_our_sr_and_their_report_block() -> None:
    stats = StatsCollector(media=MediaMap(clock_rates={111: 48000}, kinds={111: "audio"}))
    stats.observe("sent", "rtp", rtp(1, 0, 111), 0.5)
    ntp = (3_900_000_000 << 32) | 0x80000000
    sr = RtcpSrPacket(ssrc=111, sender_info=RtcpSenderInfo(ntp_timestamp=ntp, rtp_timestamp=0,
                                                           packet_count=1, octet_count=100))
    stats.observe("sent", "rtcp", bytes(sr), 1.0)
    block = RtcpReceiverInfo(ssrc=111, fraction_lost=64, packets_lost=3, highest_sequence=1,
                             jitter=480, lsr=(ntp >> 16) & 0xFFFFFFFF, dlsr=65536 // 4)
    stats.observe("received", "rtcp", bytes(RtcpRrPacket(ssrc=999, reports=[block])), 1.4)
    remote = report(stats.snapshot(2.0), "remote-inbound-rtp", 111)
    assert remote["roundTripTime"] == pytest.approx(0.15)  # 1.4 - 1.0 - 0.25
    assert remote["fractionLost"] == 0.25 and remote["packetsLost"] == 3
    assert remote["jitter"] == pytest.approx(0.01) and remote["localId"] == "outbound-rtp-111"
    assert (remote["roundTripTimeMeasurements"], remote["reportsReceived"]) == (1, 1)
    unknown = RtcpReceiverInfo(ssrc=111, fraction_lost=0, packets_lost=0, highest_sequence=2,
                               jitter=0, lsr=12345, dlsr=1)  # an SR we never sent: no RTT
    stats.observe("received", "rtcp", bytes(RtcpRrPacket(ssrc=999, reports=[unknown])), 3.0)
    remote = report(stats.snapshot(3.0), "remote-inbound-rtp", 111)
    assert remote["roundTripTimeMeasurements"] == 1 and remote["reportsReceived"] == 2


def test_remote_outbound_from_the_peers_sender_report() -> None:
    stats = StatsCollector()
    stats.observe("received", "rtp", rtp(1, 0, 555), 0.1)
    ntp = (2208988800 + 1_700_000_000) << 32  # 2023-11-14T22:13:20Z
    sr = RtcpSrPacket(ssrc=555, sender_info=RtcpSenderInfo(ntp_timestamp=ntp, rtp_timestamp=0,
                                                           packet_count=42, octet_count=4200))
    stats.observe("received", "rtcp", bytes(sr), 0.5)
    remote = report(stats.snapshot(1.0), "remote-outbound-rtp", 555)
    assert (remote["packetsSent"], remote["bytesSent"], remote["reportsSent"]) == (42, 4200, 1)
    assert remote["remoteTimestamp"] == pytest.approx(1_700_000_000_000)
    assert report(stats.snapshot(1.0), "inbound-rtp", 555)["remoteId"] == remote["id"]


def test_feedback_counters_rtcp_counts_and_events() -> None:
    sink: list[dict[str, Any]] = []
    stats = StatsCollector(sink=sink.append)
    stats.observe("sent", "rtp", rtp(1, 0, 111), 0.0)
    stats.observe("received", "rtp", rtp(1, 0, 555), 0.0)
    nack = RtcpRtpfbPacket(fmt=1, ssrc=111, media_ssrc=555)
    nack.lost = [1, 2]
    stats.observe("sent", "rtcp", bytes(nack), 0.1)
    pli = bytes(RtcpPsfbPacket(fmt=1, ssrc=555, media_ssrc=111))
    fir = struct.pack("!BBHLL", 0x84, 206, 4, 555, 0) + struct.pack("!LB3x", 111, 1)
    twcc = struct.pack("!BBHLL", 0x8F, 205, 5, 555, 111) + struct.pack("!HHLH", 1, 1, 0, 0x2001) + b"\x00" * 2
    stats.observe("received", "rtcp", pli + fir + twcc, 0.2)
    stats.observe("received", "rtcp", pli + b"\x80\xc9\x00\x09", 0.3)  # cut short after a PLI
    reports = stats.snapshot(1.0)
    outbound, inbound = report(reports, "outbound-rtp", 111), report(reports, "inbound-rtp", 555)
    assert (outbound["nackCount"], outbound["pliCount"], outbound["firCount"]) == (0, 2, 1)
    assert (inbound["nackCount"], inbound["pliCount"], inbound["firCount"]) == (1, 0, 0)
    assert stats.rtcp_counts() == {"sent": {"NACK": 1}, "received": {"PLI": 2, "FIR": 1, "TWCC": 1}}
    assert stats.malformed == {"sent": 0, "received": 1}
    assert [e["event"] for e in sink] == ["rtp_first"] * 2 + ["rtcp"] * 5
    assert all(set(e) == EVENT_FIELDS[e["event"]] for e in sink)
    assert sink[2]["lost"] == [1, 2] and sink[0]["payload_type"] == 111


def test_srtp_cipher_names_are_those_chromium_reports() -> None:
    """W3C srtpCipher is the IANA DTLS-SRTP profile name, as current Chromium reports it (the
    Chromium 156 dump recorded here). Chrome 117 (Jitsi's dumps) still wrote the RFC 4568
    crypto-suite spellings (AES_CM_128_HMAC_SHA1_80), which the probe once copied."""
    dumps = Path(__file__).parent / "data" / "realworld" / "dumps"
    with gzip.open(dumps / "chromium-renegotiation-trickle.json.gz", "rt", encoding="utf8") as dump:
        current = set(re.findall(r"SRTP_[A-Z0-9_]+", dump.read()))
    with gzip.open(dumps / "jitsi-chrome-relay.gz", "rt", encoding="utf8") as dump:
        older = set(re.findall(r'"srtpCipher"\s*:\s*"([^"]+)"', dump.read()))
    assert current == {"SRTP_AES128_CM_HMAC_SHA1_80"} and current <= set(SRTP_CIPHERS.values())
    assert older and older.isdisjoint(SRTP_CIPHERS.values())


# -- the tap and the loss filter ----------------------------------------------------------------


AUDIO, VIDEO, SR = bytes([0x80, 111]) + bytes(10), bytes([0x80, 96]) + bytes(10), bytes([0x80, 200, 0, 6])


def test_loss_filter_is_seeded_and_selective() -> None:
    def decisions(f: LossFilter) -> list[bool]:
        return [f("sent", "rtp", AUDIO) for _ in range(2000)]

    assert decisions(LossFilter(10, seed=7)) == decisions(LossFilter(10, seed=7))
    assert decisions(LossFilter(10, seed=7)) != decisions(LossFilter(10, seed=8))
    ten = LossFilter(10, seed=1)
    assert 100 < sum(decisions(ten)) < 300 and ten.dropped == sum(decisions(LossFilter(10, seed=1)))
    assert not any(decisions(LossFilter(0))) and all(decisions(LossFilter(100)))
    only_rtcp = LossFilter(100, kinds={"rtcp"}, directions={"received"})
    assert not only_rtcp("sent", "rtcp", SR) and not only_rtcp("received", "rtp", AUDIO)
    assert only_rtcp("received", "rtcp", SR) and only_rtcp.seen == 1
    with pytest.raises(ValueError, match="percent"):
        LossFilter(150)


def test_loss_of_a_stream_does_not_depend_on_interleaving() -> None:
    alone = LossFilter(20, seed=3)
    video_alone = [alone("sent", "rtp", VIDEO) for _ in range(500)]
    mixed = LossFilter(20, seed=3)
    video_mixed = []
    for i in range(500):
        for _ in range(i % 3):  # a varying number of audio packets between video packets
            mixed("sent", "rtp", AUDIO)
        video_mixed.append(mixed("sent", "rtp", VIDEO))
    assert video_alone == video_mixed and any(video_alone)


async def test_tap_observes_drops_and_detaches_on_a_real_transport() -> None:
    transport = RTCDtlsTransport(RTCIceTransport(RTCIceGatherer()), [RTCCertificate.generateCertificate()])
    seen: list[tuple[str, str, int]] = []
    sent: list[bytes] = []

    async def outer_wrapper(data: bytes) -> None:  # e.g. the reference server's delay
        sent.append(data)

    transport._send_rtp = outer_wrapper  # type: ignore[method-assign]

    def broken(direction: str, kind: str, data: bytes, t: float) -> None:
        raise RuntimeError("observer bug")

    tap = PacketTap.attach(transport, lambda: 1.0, broken)
    assert PacketTap.attach(transport, lambda: 2.0, lambda d, k, data, t: seen.append((d, k, len(data)))) is tap
    pli = bytes(RtcpPsfbPacket(fmt=1, ssrc=1, media_ssrc=2))
    await transport._handle_rtcp_data(pli)  # the broken observer must not stop the packet
    assert seen == [("received", "rtcp", 12)]
    tap.drop = lambda direction, kind, data: True
    await transport._handle_rtp_data(rtp(1, 0, 7), arrival_time_ms=0)
    assert seen == [("received", "rtcp", 12)] and tap.dropped == {"sent": 0, "received": 1}
    tap.drop = None
    await transport._send_rtp(pli)  # sent through the tap into the wrapper underneath
    assert seen[-1] == ("sent", "rtcp", 12) and sent == [pli]
    tap.detach()
    assert vars(transport)["_send_rtp"] is outer_wrapper and "_handle_rtp_data" not in vars(transport)
    assert not hasattr(transport, "_rtcprobe_tap")


# -- real sessions ------------------------------------------------------------------------------


@dataclass
class Peer:
    pc: RTCPeerConnection
    stats: StatsCollector
    events: list[dict[str, Any]] = field(default_factory=list)

    def reports(self, type_: str, kind: str | None = None) -> list[dict[str, Any]]:
        return [r for r in self.stats.snapshot(0.0)
                if r["type"] == type_ and (kind is None or r.get("kind") == kind)]


async def until(condition: Callable[[], bool], what: str, timeout: float = 20.0) -> None:
    """Wait for a condition of the session (not a timing assertion: the limit only ends a hang)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not condition():
        if loop.time() > deadline:
            pytest.fail(f"gave up waiting after {timeout:g} s for {what}")
        await asyncio.sleep(0.05)


@asynccontextmanager
async def session(drop: Any = None) -> AsyncIterator[tuple[Peer, Peer]]:
    """Peer A offers audio + video, B answers and sends both back; taps on both."""
    clock = monotonic_clock()
    a_pc, b_pc = (RTCPeerConnection(RTCConfiguration(iceServers=[])) for _ in range(2))
    a, b = Peer(a_pc, StatsCollector(a_pc, clock)), Peer(b_pc, StatsCollector(b_pc, clock))
    a.stats.sink, b.stats.sink = a.events.append, b.events.append
    sinks = MediaBlackhole(), MediaBlackhole()
    a_pc.addTransceiver(ToneSource(440), direction="sendrecv")
    a_pc.addTransceiver(video_source(size=(320, 240), fps=15), direction="sendrecv")
    a_pc.on("track", sinks[0].addTrack)

    @b_pc.on("track")
    def on_track(track: Any) -> None:
        sinks[1].addTrack(track)
        b_pc.addTrack(ToneSource(300) if track.kind == "audio" else video_source(size=(320, 240), fps=15))

    await a_pc.setLocalDescription(await a_pc.createOffer())
    a.stats.attach_peer_connection(drop=drop(a_pc) if drop else None)
    await b_pc.setRemoteDescription(a_pc.localDescription)
    b.stats.attach_peer_connection()
    await b_pc.setLocalDescription(await b_pc.createAnswer())
    await a_pc.setRemoteDescription(b_pc.localDescription)
    await asyncio.gather(*(s.start() for s in sinks))
    try:
        yield a, b
    finally:
        await asyncio.gather(*(s.stop() for s in sinks), a_pc.close(), b_pc.close())


def rtt_everywhere(*peers: Peer) -> bool:
    """Both peers send both kinds and have a round-trip time from RTCP for each."""
    for peer in peers:
        remote = peer.reports("remote-inbound-rtp")
        if len(remote) < 2 or not all(r.get("roundTripTime") for r in remote):
            return False
    return True


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def live() -> AsyncIterator[tuple[Peer, Peer]]:
    async with session() as (a, b):
        await until(lambda: rtt_everywhere(a, b), "RTCP round-trip times on both peers")
        yield a, b


@pytest.mark.slow
@pytest.mark.asyncio(loop_scope="module")
async def test_packets_flow_both_ways_and_match(live: tuple[Peer, Peer]) -> None:
    for sender, receiver in (live, live[::-1]):
        for kind in ("audio", "video"):
            [out] = sender.reports("outbound-rtp", kind)
            [inb] = receiver.reports("inbound-rtp", kind)
            assert out["ssrc"] == inb["ssrc"] and out["mid"] == inb["mid"] is not None
            assert out["packetsSent"] > 0 and inb["packetsReceived"] > 0 and out["bytesSent"] > 0
            assert inb["jitter"] >= 0 and inb["codecId"] and out["transportId"] == "transport-0"
        counts = sender.stats.rtcp_counts()
        for direction in ("sent", "received"):
            assert counts[direction]["SR"] > 0 and counts[direction]["RR"] > 0


@pytest.mark.slow
@pytest.mark.asyncio(loop_scope="module")
async def test_round_trip_time_present_and_positive(live: tuple[Peer, Peer]) -> None:
    for peer in live:
        for remote in peer.reports("remote-inbound-rtp"):
            assert remote["roundTripTime"] > 0
            assert remote["totalRoundTripTime"] >= remote["roundTripTime"]
            assert 0 <= remote["fractionLost"] <= 1
        assert all(r["packetsSent"] > 0 for r in peer.reports("remote-outbound-rtp"))


@pytest.mark.slow
@pytest.mark.asyncio(loop_scope="module")
async def test_extension_ids_on_the_wire_are_the_negotiated_ones(live: tuple[Peer, Peer]) -> None:
    answer = parse_description(live[1].pc.localDescription.sdp)
    ids = {m.kind: {e.name: e.id for e in m.extensions} for m in answer.media}
    expected = {"audio": sorted([ids["audio"]["mid"], ids["audio"]["audio-level"]]),
                "video": sorted([ids["video"]["mid"], ids["video"]["abs-send-time"]])}
    for peer in live:
        seen = peer.stats.extensions_seen()
        for direction, kind_of_ssrc in (("sent", "outbound-rtp"), ("received", "inbound-rtp")):
            for stream in peer.reports(kind_of_ssrc):
                assert seen[direction][stream["ssrc"]] == expected[stream["kind"]]


@pytest.mark.slow
@pytest.mark.asyncio(loop_scope="module")
async def test_first_rtp_events_per_stream(live: tuple[Peer, Peer]) -> None:
    offer = parse_description(live[0].pc.localDescription.sdp)
    first_pt = {m.kind: m.codecs[0].payload_type for m in offer.media}
    for peer in live:
        firsts = [e for e in peer.events if e["event"] == events.RTP_FIRST]
        assert all(set(e) == EVENT_FIELDS[events.RTP_FIRST] for e in firsts)
        media_firsts = {(e["direction"], e["kind"]): e for e in firsts if e["payload_type"] == first_pt[e["kind"]]}
        assert set(media_firsts) == {(d, k) for d in ("sent", "received") for k in ("audio", "video")}
        assert {e["mid"] for e in media_firsts.values()} == {"0", "1"}
        assert len({(e["direction"], e["ssrc"]) for e in firsts}) == len(firsts)


@pytest.mark.slow
@pytest.mark.asyncio(loop_scope="module")
async def test_transport_and_selected_pair(live: tuple[Peer, Peer]) -> None:
    a = live[0]
    await a.stats.measure_ice_rtt()
    reports = a.stats.snapshot(1.0)
    transport = report(reports, "transport")
    assert transport["dtlsState"] == "connected" and transport["tlsVersion"] == "FEFD"
    assert transport["srtpCipher"] in SRTP_CIPHERS.values() and transport["dtlsCipher"].startswith("TLS_")
    pair = next(r for r in reports if r["id"] == transport["selectedCandidatePairId"])
    assert pair["type"] == "candidate-pair" and pair["nominated"] and pair["state"] == "succeeded"
    assert pair["currentRoundTripTime"] > 0 and pair["bytesSent"] > 0
    local = next(r for r in reports if r["id"] == pair["localCandidateId"])
    assert local["type"] == "local-candidate" and local["candidateType"] == "host"


@pytest.mark.slow
@pytest.mark.asyncio(loop_scope="module")
async def test_pli_and_fir_are_counted_on_both_sides(live: tuple[Peer, Peer]) -> None:
    a, b = live
    [video] = b.reports("inbound-rtp", "video")
    [b_transport] = peer_connection_transports(b.pc)
    fir = struct.pack("!BBHLL", 0x84, 206, 4, 1, 0) + struct.pack("!LB3x", video["ssrc"], 1)
    await b_transport._send_rtp(bytes(RtcpPsfbPacket(fmt=1, ssrc=1, media_ssrc=video["ssrc"])) + fir)
    await until(lambda: a.reports("outbound-rtp", "video")[0]["firCount"] >= 1, "the FIR to arrive")
    [sent] = a.reports("outbound-rtp", "video")
    [received] = b.reports("inbound-rtp", "video")
    assert sent["pliCount"] >= 1 and received["pliCount"] >= 1 and received["firCount"] >= 1
    assert a.stats.rtcp_counts()["received"]["FIR"] == b.stats.rtcp_counts()["sent"]["FIR"] == 1


@pytest.mark.slow
@pytest.mark.asyncio(loop_scope="module")
async def test_remb_estimate_on_the_candidate_pair(live: tuple[Peer, Peer]) -> None:
    a, b = live

    def remb(peer: Peer) -> list[int]:
        return [r["remoteEstimatedBitrate"] for r in peer.reports("candidate-pair") if "remoteEstimatedBitrate" in r]

    await until(lambda: bool(remb(a)), "a REMB from B (aiortc estimates what it receives)")
    [estimate] = remb(a)
    sent = [e for e in b.events if e["event"] == events.RTCP and e["direction"] == "sent"
            and e["packet_type"] == "REMB"]
    assert estimate in {e["remb_bitrate_bps"] for e in sent} and estimate > 0


@pytest.mark.slow
@pytest.mark.asyncio(loop_scope="module")
async def test_selected_pair_changes_are_events(live: tuple[Peer, Peer]) -> None:
    a = live[0]
    changes: list[dict[str, Any]] = []
    assert watch_selected_pairs(a.pc, changes.append) == 1
    [first] = changes  # the pair already selected is reported at once
    connection = peer_connection_transports(a.pc)[0].transport._connection
    selected = connection._nominated[1]
    assert first["event"] == events.SELECTED_PAIR and first["previous"] is None
    assert first["local"].endswith(f":{selected.local_candidate.port}/udp") and first["local_type"] == "host"
    # a peer-reflexive remote on the same socket, as when the peer switches to another address
    other = CandidatePair(selected.protocol, Candidate(
        foundation="prflx1", component=1, transport="udp", priority=1, host="127.0.0.1", port=9, type="prflx"))
    try:
        connection._nominated[1] = other  # what aioice does when the peer nominates another pair
        connection._nominated[1] = other  # the same pair again is no change
    finally:
        connection._nominated[1] = selected
    assert [c["previous"] for c in changes[1:]] == [
        {"local": first["local"], "remote": first["remote"]},
        {"local": changes[1]["local"], "remote": changes[1]["remote"]}]
    assert changes[2]["local"] == first["local"] and changes[1]["remote"] == "127.0.0.1:9/udp"
    assert changes[1]["remote_type"] == "prflx" and changes[2]["remote"] == first["remote"]
    assert watch_selected_pairs(a.pc, changes.append) == 1 and len(changes) == 3  # idempotent


class DropSomeVideo:
    """Drops every 5th video packet A sends, once (retransmissions travel on the RTX SSRC)."""

    def __init__(self, pc: RTCPeerConnection) -> None:
        media = MediaMap.from_peer_connection(pc)
        self.ssrcs = {s for s, k in media.ssrc_kinds.items() if k == "video" and s not in media.rtx_ssrcs}
        self.dropped: set[int] = set()

    def __call__(self, direction: str, kind: str, data: bytes) -> bool:
        seq, ssrc = struct.unpack_from("!H4xL", data, 2) if kind == "rtp" else (0, 0)
        if ssrc in self.ssrcs and seq % 5 == 0 and seq not in self.dropped:
            self.dropped.add(seq)
            return True
        return False


@pytest.mark.slow
async def test_dropped_packets_are_nacked_and_retransmitted() -> None:
    drops: list[DropSomeVideo] = []

    def make(pc: RTCPeerConnection) -> DropSomeVideo:
        drops.append(DropSomeVideo(pc))
        return drops[0]

    async with session(drop=make) as (a, b):
        def recovered() -> bool:
            sent = a.reports("outbound-rtp", "video")
            received = b.reports("inbound-rtp", "video")
            return bool(sent and received and sent[0]["retransmittedPacketsSent"]
                        and received[0].get("retransmittedPacketsReceived"))

        await until(recovered, "a NACK and a retransmission")
        [sent], [received] = a.reports("outbound-rtp", "video"), b.reports("inbound-rtp", "video")
        assert sent["nackCount"] >= 1 and received["nackCount"] >= 1 and sent["rtxSsrc"]
        nacks = [e for e in b.events if e["event"] == events.RTCP and e["packet_type"] == "NACK"]
        assert nacks and all(e["direction"] == "sent" for e in nacks)
        asked = {seq for e in nacks for seq in e["lost"]}
        assert asked and asked <= drops[0].dropped
        # the loss B reports is exactly what A dropped between B's first and highest packet
        stream = b.stats._streams["received"][received["ssrc"]]
        [received] = b.reports("inbound-rtp", "video")
        base, span = stream.base_seq, stream.packets_expected - 1
        assert received["packetsLost"] == sum((seq - base) & 0xFFFF <= span for seq in drops[0].dropped)
        assert received["retransmittedPacketsReceived"] > 0
        assert b.stats.rtcp_counts()["sent"]["NACK"] == len(nacks)
        assert "TWCC" not in b.stats.rtcp_counts()["sent"]
