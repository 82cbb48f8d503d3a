"""RTCP classifier: name every sub-packet of a compound packet by PT and FMT.

aiortc's own parser reads every RTPFB as a NACK (transport-cc FMT 15 included) and drops what it
does not know (APP, XR). The probe counts what is on the wire, so it classifies packets itself
(RFC 3550 §6, RFC 4585 §6, RFC 5104 §4.3, draft-alvestrand-rmcat-remb, draft-holmer-rmcat-
transport-wide-cc-extensions, RFC 3611) and keeps only the fields the stats need.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from struct import unpack_from
from typing import Any

from ..capture import events

SR, RR, SDES, BYE, APP, RTPFB, PSFB, XR = 200, 201, 202, 203, 204, 205, 206, 207

#: FMT -> name inside RTPFB (205) and PSFB (206); other FMTs keep the generic name.
RTPFB_NAMES = {1: "NACK", 15: "TWCC"}
PSFB_NAMES = {1: "PLI", 2: "SLI", 3: "RPSI", 4: "FIR"}
SIMPLE_NAMES = {SR: "SR", RR: "RR", SDES: "SDES", BYE: "BYE", APP: "APP", XR: "XR"}


@dataclass(slots=True)
class ReportBlock:
    """One reception report block of an SR or RR (RFC 3550 §6.4.1), values as on the wire."""

    ssrc: int
    fraction_lost: int  # raw 8-bit fixed point: lost fraction * 256
    packets_lost: int  # cumulative, signed 24-bit
    highest_seq: int  # extended highest sequence number received
    jitter: int  # interarrival jitter, RTP timestamp units
    lsr: int  # middle 32 bits of the NTP time of the last SR received
    dlsr: int  # delay since that SR, 1/65536 s


@dataclass(slots=True)
class SenderInfo:
    """The sender info of an SR."""

    ntp_timestamp: int  # 64-bit NTP
    rtp_timestamp: int
    packet_count: int
    octet_count: int

    @property
    def lsr(self) -> int:
        """What a receiver echoes back as LSR: the middle 32 bits of the NTP timestamp."""
        return (self.ntp_timestamp >> 16) & 0xFFFFFFFF


@dataclass(slots=True)
class RtcpInfo:
    """One classified RTCP packet (one sub-packet of a compound)."""

    packet_type: str  # one of events.RTCP_TYPES
    pt: int
    fmt: int  # the 5-bit count/FMT field
    sender_ssrc: int | None
    media_ssrc: int | None
    size: int  # bytes of this sub-packet, header included
    lost: list[int] = field(default_factory=list)  # NACK: decoded sequence numbers
    reports: list[ReportBlock] = field(default_factory=list)  # SR / RR
    sender_info: SenderInfo | None = None  # SR
    targets: list[int] = field(default_factory=list)  # SSRCs named in the FCI: FIR entries, REMB
    bitrate: int | None = None  # REMB, bits per second

    def event(self, direction: str, t: float) -> dict[str, Any]:
        """The capture `rtcp` event for this packet (rtcprobe.capture.events); an SR/RR also
        gets its report blocks (`reports`: raw fraction_lost /256, cumulative packets_lost,
        extended highest_seq, jitter in RTP units, lsr, dlsr; an SR its own `lsr`), a REMB the estimate it carries
        (`remb_bitrate_bps`) and the SSRCs it applies to."""
        event = {
            "event": events.RTCP, "t": t, "direction": direction, "packet_type": self.packet_type,
            "pt": self.pt, "fmt": self.fmt, "sender_ssrc": self.sender_ssrc,
            "media_ssrc": self.media_ssrc, "lost": list(self.lost), "size": self.size,
        }
        if self.reports:  # SR/RR: each block as sent, so a report can set it beside the wire's truth
            event["reports"] = [{"ssrc": b.ssrc, "fraction_lost": b.fraction_lost, "packets_lost": b.packets_lost,
                                 "highest_seq": b.highest_seq, "jitter": b.jitter, "lsr": b.lsr, "dlsr": b.dlsr}
                                for b in self.reports]
        if self.sender_info is not None:  # the LSR a report block will echo (RTT, RFC 3550 §6.4.1)
            event["lsr"] = self.sender_info.lsr
        if self.packet_type == "REMB" and self.bitrate is not None:
            event["remb_bitrate_bps"] = self.bitrate
            event["remb_ssrcs"] = list(self.targets)
        return event


def parse_rtcp(data: bytes) -> list[RtcpInfo]:
    """Classify every sub-packet of a (compound) RTCP packet; ValueError if any is malformed."""
    return list(iter_rtcp(data))


def iter_rtcp(data: bytes) -> Iterator[RtcpInfo]:
    """Sub-packets one by one, so that a reader keeps those before a malformed one.

    Raises ValueError on a malformed header or a length that runs past the data; sub-packets of
    an unknown PT are kept as "UNKNOWN" (a reader wants to know they were there).
    """
    pos, end = 0, len(data)
    while pos < end:
        if end - pos < 4:
            raise ValueError(f"RTCP: {end - pos} trailing bytes, a header needs 4")
        first, pt, words = unpack_from("!BBH", data, pos)
        if first >> 6 != 2:
            raise ValueError(f"RTCP: version {first >> 6} at byte {pos}, expected 2")
        size = (words + 1) * 4
        if pos + size > end:
            raise ValueError(f"RTCP: PT {pt} at byte {pos} claims {size} bytes, {end - pos} left")
        body_end = pos + size
        if first & 0x20:  # padding: the last byte counts the padding bytes
            pad = data[body_end - 1]
            if pad == 0 or pad > size - 4:
                raise ValueError(f"RTCP: PT {pt} at byte {pos} has invalid padding {pad}")
            body_end -= pad
        yield _classify(data, pos + 4, body_end, pt, first & 0x1F, size)
        pos += size


def _classify(data: bytes, pos: int, end: int, pt: int, fmt: int, size: int) -> RtcpInfo:
    length = end - pos
    sender = unpack_from("!L", data, pos)[0] if length >= 4 else None
    if pt in (SR, RR):
        info = RtcpInfo(SIMPLE_NAMES[pt], pt, fmt, sender, None, size)
        blocks_at = pos + 4
        if pt == SR:
            if length < 24:
                raise ValueError(f"RTCP: SR of {length} bytes, sender info needs 24")
            info.sender_info = SenderInfo(*unpack_from("!QLLL", data, pos + 4))
            blocks_at = pos + 24
        info.reports = _report_blocks(data, blocks_at, end, fmt)
        return info
    if pt in (RTPFB, PSFB):
        media = unpack_from("!L", data, pos + 4)[0] if length >= 8 else None
        fci = pos + 8
        if pt == RTPFB:
            info = RtcpInfo(RTPFB_NAMES.get(fmt, "RTPFB"), pt, fmt, sender, media, size)
            if fmt == 1:
                info.lost = _nack_lost(data, fci, end)
            return info
        info = RtcpInfo(PSFB_NAMES.get(fmt, "PSFB"), pt, fmt, sender, media, size)
        if fmt == 4:  # FIR names its targets in the FCI (RFC 5104 §4.3.1): SSRC + seq + 3 reserved
            info.targets = [unpack_from("!L", data, p)[0] for p in range(fci, end - 7, 8)]
        elif fmt == 15 and data[fci:fci + 4] == b"REMB":
            info.packet_type = "REMB"
            _read_remb(info, data, fci, end)
        return info
    if pt in SIMPLE_NAMES:  # SDES, BYE, APP, XR: the first word is an SSRC, except in an
        # SDES or BYE whose count is 0 (no chunk / no source)
        has_ssrc = pt in (APP, XR) or fmt > 0
        return RtcpInfo(SIMPLE_NAMES[pt], pt, fmt, sender if has_ssrc else None, None, size)
    return RtcpInfo("UNKNOWN", pt, fmt, sender, None, size)


def _report_blocks(data: bytes, pos: int, end: int, count: int) -> list[ReportBlock]:
    if pos + 24 * count > end:
        raise ValueError(f"RTCP: {count} report blocks need {24 * count} bytes, {end - pos} left")
    blocks = []
    for _ in range(count):
        ssrc, lost_word, highest, jitter, lsr, dlsr = unpack_from("!LLLLLL", data, pos)
        lost = lost_word & 0xFFFFFF
        if lost & 0x800000:
            lost -= 1 << 24
        blocks.append(ReportBlock(ssrc, lost_word >> 24, lost, highest, jitter, lsr, dlsr))
        pos += 24
    return blocks


def _nack_lost(data: bytes, pos: int, end: int) -> list[int]:
    """Generic NACK FCI (RFC 4585 §6.2.1): PID, plus PID+i+1 for every bit i set in BLP."""
    lost: list[int] = []
    for p in range(pos, end - 3, 4):
        pid, blp = unpack_from("!HH", data, p)
        lost.append(pid)
        i = 0
        while blp:
            if blp & 1:
                lost.append((pid + i + 1) & 0xFFFF)
            blp >>= 1
            i += 1
    return lost


def _read_remb(info: RtcpInfo, data: bytes, fci: int, end: int) -> None:
    """REMB FCI: 'REMB', SSRC count, 6-bit exponent + 18-bit mantissa, then the SSRCs."""
    if fci + 8 > end:
        return
    count, exp_mant = data[fci + 4], unpack_from("!L", data, fci + 4)[0] & 0xFFFFFF
    info.bitrate = (exp_mant & 0x3FFFF) << (exp_mant >> 18)
    info.targets = [unpack_from("!L", data, fci + 8 + 4 * i)[0]
                    for i in range(count) if fci + 12 + 4 * i <= end]
