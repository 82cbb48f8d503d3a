"""Per-SSRC counters and their W3C RTP stream reports (https://www.w3.org/TR/webrtc-stats/).

One `StreamCounters` per SSRC and direction. The collector (stats.py) updates them per packet;
`rtp_reports` turns one into outbound-rtp + remote-inbound-rtp, or inbound-rtp +
remote-outbound-rtp. Jitter and round-trip times are in seconds as W3C says; `timestamp` and
`lastPacketReceivedTimestamp` are capture-clock seconds, like every `t` in a capture.

RTX (RFC 4588) is a stream of its own in RFC 3550 terms, and libwebrtc (the yardstick) keeps it
apart: `packetsReceived`/`packetsSent` and the byte counts include the retransmissions that came
on the RTX SSRC (W3C: "includes retransmissions"), but `packetsLost` is computed from the media
SSRC's own sequence space only, so it equals what the wire lost of the media packets whether or
not NACK/RTX repaired them. The 2-byte original sequence number of an RTX packet counts as header.
A retransmission is an RTX packet that answers a NACK (its original sequence number was NACKed):
libwebrtc's bandwidth probes on the RTX SSRC, padding-only packets and "payload padding" (media
packets resent unasked), are not retransmissions (Chromium's sender does not count them in
retransmittedPacketsSent either) and count on the RTX stream alone, never towards the media stream.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from aiortc.clock import datetime_from_ntp

from .mediamap import MediaMap
from .rtcp import ReportBlock, SenderInfo

SR_TIMES_KEPT = 16  # our last SRs per SSRC whose LSR a report block may echo
NACKED_KEPT = 4096  # NACKed sequence numbers per SSRC awaiting their retransmission


@dataclass(slots=True)
class StreamCounters:
    """Counters of one SSRC in one direction."""

    ssrc: int
    payload_type: int  # -1 while only feedback has named the SSRC
    transport_id: str | None = None
    rtx_of: int | None = None  # this SSRC is the RTX (RFC 4588) of that media SSRC
    rtx_ssrc: int | None = None  # this media SSRC is repaired by that RTX SSRC
    mid: str | None = None
    packets: int = 0  # packets carrying this SSRC (RFC 3550's "received", for loss)
    payload_bytes: int = 0
    header_bytes: int = 0  # RTP header, extensions and padding
    # retransmissions that came (or left) on this media stream's RTX SSRC
    rtx_packets: int = 0
    rtx_payload_bytes: int = 0
    rtx_header_bytes: int = 0  # RTP header, extensions, padding and the original sequence number
    retransmitted_packets: int = 0  # RTX packets, plus repeats on this SSRC when we send them
    retransmitted_bytes: int = 0
    last_t: float | None = None
    ext_ids: set[int] = field(default_factory=set)
    # sequence numbers (RFC 3550 A.1): extended highest = cycles + max_seq
    base_seq: int | None = None
    max_seq: int = 0
    cycles: int = 0
    # interarrival jitter (RFC 3550 A.8) in RTP timestamp units
    clock_rate: int | None = None
    jitter: float = 0.0
    last_arrival: float | None = None
    last_rtp_ts: int = 0
    # feedback about this SSRC: what we sent for a received stream, what came in for a sent one
    nack_count: int = 0
    nacked: dict[int, None] = field(default_factory=dict)  # NACKed sequence numbers not yet repaired
    pli_count: int = 0
    fir_count: int = 0
    # sent streams: our SRs (LSR -> capture times) and the peer's report blocks about the SSRC
    sr_times: dict[int, list[float]] = field(default_factory=dict)
    report: ReportBlock | None = None
    reports: int = 0
    rtt: float | None = None
    total_rtt: float = 0.0
    rtt_count: int = 0
    # received streams: the peer's sender reports
    sender_info: SenderInfo | None = None
    sender_reports: int = 0

    @property
    def packets_expected(self) -> int:
        return self.cycles + self.max_seq - self.base_seq + 1 if self.base_seq is not None else 0

    @property
    def packets_total(self) -> int:
        """W3C packetsSent/packetsReceived: this SSRC's packets and the RTX retransmissions."""
        return self.packets + self.rtx_packets

    def record_nack(self, lost: list[int]) -> None:
        for seq in lost:
            self.nacked[seq] = None
        while len(self.nacked) > NACKED_KEPT:
            del self.nacked[next(iter(self.nacked))]

    def answers_nack(self, original_seq: int) -> bool:
        """Whether an RTX packet carrying `original_seq` repairs a NACKed packet (then it no
        longer waits: a second retransmission needs a second NACK)."""
        if original_seq not in self.nacked:
            return False
        del self.nacked[original_seq]
        return True

    def record_sr(self, lsr: int, t: float) -> None:
        """Several SRs may carry the same LSR (aiortc stamps an SR with the time of its last RTP
        packet, so two SRs with no RTP between them share it): keep every send time."""
        times = self.sr_times.get(lsr)
        if times is None:
            self.sr_times[lsr] = [t]
            if len(self.sr_times) > SR_TIMES_KEPT:
                del self.sr_times[next(iter(self.sr_times))]
        elif len(times) < SR_TIMES_KEPT:
            times.append(t)

    def record_report(self, block: ReportBlock, t: float) -> None:
        """A report block about this (sent) SSRC. RFC 3550 §6.4.1: RTT = A - LSR - DLSR, where
        A - LSR is taken from our own record of when the SR carrying that LSR left: its NTP
        timestamp may be older than its sending. Of several SRs with that LSR, the peer echoed
        one it had received: the latest whose RTT is positive. When none gives a positive
        RTT, the sample cannot be computed and is absent, never 0."""
        self.report = block
        self.reports += 1
        rtt = round_trip_time(self.sr_times.get(block.lsr, []) if block.lsr else [], block.dlsr, t)
        if rtt is not None:
            self.rtt = rtt
            self.total_rtt += rtt
            self.rtt_count += 1


def round_trip_time(sent_times: list[float], dlsr: int, arrival: float) -> float | None:
    """RFC 3550 §6.4.1 with the candidate send times of the echoed LSR; None if none fits."""
    samples = [arrival - sent - dlsr / 65536 for sent in sent_times]
    positive = [rtt for rtt in samples if rtt > 0]
    return min(positive) if positive else None


def rtp_reports(direction: str, s: StreamCounters, media: MediaMap, now: float,
                transport_id: str | None, codecs: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    """The W3C reports of one stream; adds the `codec` report it refers to into `codecs`."""
    codec = media.codec(s.mid, s.payload_type)
    rate = s.clock_rate or (codec[1] if codec else None)
    common: dict[str, Any] = {"timestamp": now, "ssrc": s.ssrc,
                              "kind": media.kind_of(s.ssrc, s.payload_type, s.mid)}
    if transport_id is not None:
        common["transportId"] = transport_id
    if codec is not None and codec[0] is not None:  # one codec report per transport, m-line and payload type (W3C codecId)
        codec_id = common["codecId"] = f"codec-{transport_id}-{s.mid}-{s.payload_type}"
        codecs[codec_id] = {"id": codec_id, "type": "codec", "timestamp": now,
                            "payloadType": s.payload_type, "mimeType": codec[0], "clockRate": rate,
                            **({"transportId": transport_id} if transport_id else {})}
    kind = common["kind"]
    feedback: dict[str, Any] = {"nackCount": s.nack_count}
    if kind != "audio":  # W3C: pliCount and firCount are video-only members
        feedback.update(pliCount=s.pli_count, firCount=s.fir_count)
    if direction == "sent":
        local: dict[str, Any] = {
            "id": f"outbound-rtp-{s.ssrc}", "type": "outbound-rtp", **common, "mid": s.mid,
            "packetsSent": s.packets_total, "bytesSent": s.payload_bytes + s.rtx_payload_bytes,
            "headerBytesSent": s.header_bytes + s.rtx_header_bytes,
            "retransmittedPacketsSent": s.retransmitted_packets,
            "retransmittedBytesSent": s.retransmitted_bytes, **feedback}
        if s.rtx_ssrc is not None:
            local["rtxSsrc"] = s.rtx_ssrc
        if s.report is None:
            return [local]
        block = s.report
        local["remoteId"] = f"remote-inbound-rtp-{s.ssrc}"
        remote = {"id": local["remoteId"], "type": "remote-inbound-rtp", **common,
                  "localId": local["id"], "packetsLost": block.packets_lost,
                  "fractionLost": block.fraction_lost / 256,
                  "jitter": block.jitter / rate if rate else None, "reportsReceived": s.reports,
                  "roundTripTimeMeasurements": s.rtt_count, "totalRoundTripTime": s.total_rtt}
        if s.rtt is not None:
            remote["roundTripTime"] = s.rtt
        return [local, remote]
    local = {"id": f"inbound-rtp-{s.ssrc}", "type": "inbound-rtp", **common, "mid": s.mid,
             "packetsReceived": s.packets_total, "bytesReceived": s.payload_bytes + s.rtx_payload_bytes,
             "headerBytesReceived": s.header_bytes + s.rtx_header_bytes,
             "packetsLost": s.packets_expected - s.packets,
             "jitter": s.jitter / rate if rate else None, "lastPacketReceivedTimestamp": s.last_t,
             **feedback}
    if s.rtx_ssrc is not None:  # W3C: present only when RTX makes retransmissions identifiable
        local["rtxSsrc"] = s.rtx_ssrc
        local["retransmittedPacketsReceived"] = s.retransmitted_packets
        local["retransmittedBytesReceived"] = s.retransmitted_bytes
    if s.sender_info is None:
        return [local]
    info = s.sender_info
    local["remoteId"] = f"remote-outbound-rtp-{s.ssrc}"
    return [local, {"id": local["remoteId"], "type": "remote-outbound-rtp", **common,
                    "localId": local["id"], "packetsSent": info.packet_count,
                    "bytesSent": info.octet_count, "reportsSent": s.sender_reports,
                    # the peer's clock; W3C: milliseconds since the Unix epoch
                    "remoteTimestamp": datetime_from_ntp(info.ntp_timestamp).timestamp() * 1000}]
