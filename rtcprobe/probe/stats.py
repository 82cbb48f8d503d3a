"""W3C webrtc-stats from tapped packets: the counters aiortc's getStats() lacks.

`StatsCollector.observe` is a `PacketTap` observer. Per SSRC and direction it keeps the counters
of https://www.w3.org/TR/webrtc-stats/ (streams.py), counts every RTCP type in both directions,
and records the RTP header extension ids on the wire. `snapshot(now)` returns report dicts
(outbound-rtp, remote-inbound-rtp, inbound-rtp, remote-outbound-rtp, codec, transport,
candidate-pair, local-/remote-candidate) for a `stats` event.

The far end's last REMB estimate (bits/s) goes on the candidate-pair as `remoteEstimatedBitrate`:
an rtcprobe field, not W3C (W3C has only the local `availableOutgoingBitrate`), so that a report
can plot what the peer estimated. When transport-cc is negotiated, twcc.TransportCC adds (through
`add_pair_fields`) the W3C `availableOutgoingBitrate` (its send-side estimate, bwe.py) and rtcprobe's
`transportCcPacketsStamped`, `transportCcFeedbackSent`/`Received`, `transportCcPacketsReportedReceived`/
`Lost` (what the far end's feedback said of the stamped packets) and `transportCcDelayVariation`
(seconds, RFC 3550-style smoothed variation of the one-way send-to-arrival delay).

Given the RTCPeerConnection, the collector reads the payload types, clock rates and RTX SSRCs it
needs from the negotiated descriptions itself (MediaMap), and reports the connection's transports.

Events, in the capture's shapes (rtcprobe.capture.events), go to an optional sink as they happen:
`rtp_first` per SSRC and direction, `rtcp` per classified packet (a REMB with its bitrate). `final_events()` gives one
`extensions_seen` per SSRC and direction with the complete set of ids, for the end of a run.
"""

from __future__ import annotations

import functools
import logging
from collections import Counter
from collections.abc import Callable
from struct import Struct
from typing import Any

from aiortc import RTCPeerConnection
from aiortc.rtcdtlstransport import RTCDtlsTransport
from aiortc.rtp import unpack_header_extensions

from ..capture import events
from .mediamap import MediaMap
from .rtcp import RtcpInfo, iter_rtcp
from .streams import StreamCounters, rtp_reports
from .taps import RECEIVED, RTCP, SENT, Clock, DropFilter, PacketTap, peer_connection_transports
from .transport_stats import measure_ice_rtt, transport_reports

logger = logging.getLogger(__name__)

EventSink = Callable[[dict[str, Any]], None]

_RTP_HEADER = Struct("!BBHLL")
_EXTENSION_HEADER = Struct("!HH")
_OTHER = {SENT: RECEIVED, RECEIVED: SENT}


class StatsCollector:
    """Counters from tapped packets and a W3C-shaped snapshot of them."""

    def __init__(self, pc: RTCPeerConnection | None = None, clock: Clock | None = None, *,
                 media: MediaMap | None = None, sink: EventSink | None = None) -> None:
        self.pc = pc
        self.clock = clock
        self.media = media or MediaMap()
        self.sink = sink
        self.rtcp: dict[str, Counter[str]] = {SENT: Counter(), RECEIVED: Counter()}
        #: RTCP packets that did not parse, by direction.
        self.malformed = {SENT: 0, RECEIVED: 0}
        self._streams: dict[str, dict[int, StreamCounters]] = {SENT: {}, RECEIVED: {}}
        self._transports: dict[str, RTCDtlsTransport] = {}
        self._ice_rtt: dict[str, float] = {}
        #: The last REMB estimate the peer sent, bits/s, by transport id (None: tapped without one).
        self._remb: dict[str | None, int] = {}
        self._descriptions: tuple[str | None, str | None] = (None, None)
        #: Extra candidate-pair fields by transport id (transport-cc: availableOutgoingBitrate ...).
        self._pair_fields: dict[str, list[Callable[[], dict[str, Any]]]] = {}
        self._inbound_fields: list[Callable[[int], dict[str, Any]]] = []
        self._outbound_fields: list[Callable[[int], dict[str, Any]]] = []

    # -- wiring ------------------------------------------------------------------------------
    def watch_transport(self, transport: RTCDtlsTransport) -> str:
        """Give `transport` a stable stats id and report it in snapshots."""
        for tid, known in self._transports.items():
            if known is transport:
                return tid
        tid = f"transport-{len(self._transports)}"
        self._transports[tid] = transport
        return tid

    def attach(self, transport: RTCDtlsTransport, clock: Clock | None = None,
               drop: DropFilter | None = None) -> PacketTap:
        """Tap `transport` with this collector as observer (packets then carry its id)."""
        clock = clock or self.clock
        if clock is None:
            raise ValueError("StatsCollector.attach needs a clock")
        tid = self.watch_transport(transport)
        return PacketTap.attach(transport, clock, functools.partial(self._observe, tid), drop=drop)

    def add_pair_fields(self, transport: RTCDtlsTransport, fields: Callable[[], dict[str, Any]]) -> None:
        """`fields()` is merged into the transport's selected candidate-pair report in snapshots
        (an interceptor's own figures, e.g. twcc.TransportCC.stats)."""
        self._pair_fields.setdefault(self.watch_transport(transport), []).append(fields)

    def add_inbound_fields(self, fields: Callable[[int], dict[str, Any]]) -> None:
        """`fields(ssrc)` is merged into that SSRC's inbound-rtp report (e.g. red.RedReceiver's FEC counts)."""
        self._inbound_fields.append(fields)

    def add_outbound_fields(self, fields: Callable[[int], dict[str, Any]]) -> None:
        """`fields(ssrc)` is merged into that SSRC's outbound-rtp report (e.g. simulcast's `rid`)."""
        self._outbound_fields.append(fields)

    def attach_peer_connection(self, drop: DropFilter | None = None) -> list[PacketTap]:
        """Tap every transport of the collector's peer connection (see taps.attach_peer_connection)."""
        if self.pc is None:
            raise ValueError("StatsCollector.attach_peer_connection needs the peer connection")
        return [self.attach(t, drop=drop) for t in peer_connection_transports(self.pc)]

    def observe(self, direction: str, kind: str, data: bytes, t: float) -> None:
        """The `PacketTap` observer, for taps made without `attach`."""
        self._observe(None, direction, kind, data, t)

    # -- per packet (hot path) ---------------------------------------------------------------
    def _observe(self, tid: str | None, direction: str, kind: str, data: bytes, t: float) -> None:
        if kind == RTCP:
            self._on_rtcp(tid, direction, data, t)
            return
        if len(data) < 12:
            return
        first, second, seq, rtp_ts, ssrc = _RTP_HEADER.unpack_from(data)
        streams = self._streams[direction]
        stream = streams.get(ssrc) or self._new_stream(direction, ssrc, second & 0x7F)
        header = 12 + 4 * (first & 0x0F)
        if first & 0x10 and len(data) >= header + 4:
            profile, words = _EXTENSION_HEADER.unpack_from(data, header)
            start, header = header + 4, header + 4 + 4 * words
            self._on_extensions(stream, profile, data[start:header])
        padding = data[-1] if first & 0x20 else 0
        payload = len(data) - header - padding
        if stream.last_t is None:  # its first packet (the entry may exist from feedback or RTX)
            stream.payload_type = second & 0x7F
            stream.transport_id = stream.transport_id or tid
            self._emit({"event": events.RTP_FIRST, "t": t, "direction": direction, "ssrc": ssrc,
                        "kind": self.media.kind_of(ssrc, stream.payload_type, stream.mid), "mid": stream.mid,
                        "payload_type": stream.payload_type})
        stream.last_t = t
        stream.packets += 1
        if stream.rtx_of is not None:  # RTX: a retransmission for the media SSRC it repairs
            stream.payload_bytes += payload
            stream.header_bytes += header + padding
            repaired = streams.get(stream.rtx_of)
            if repaired is not None and payload >= 2 and repaired.answers_nack(
                    int.from_bytes(data[header:header + 2], "big")):
                repaired.rtx_packets += 1
                repaired.rtx_payload_bytes += payload - 2  # minus the original sequence number
                repaired.rtx_header_bytes += header + padding + 2
                repaired.retransmitted_packets += 1
                repaired.retransmitted_bytes += payload - 2
            return
        stream.payload_bytes += payload
        stream.header_bytes += header + padding
        if stream.base_seq is None:
            stream.base_seq = stream.max_seq = seq
        else:
            step = (seq - stream.max_seq) & 0xFFFF
            if step == 0 or step >= 0x8000:  # repeated or late; when we send it, a retransmission
                if direction == SENT:
                    stream.retransmitted_packets += 1
                    stream.retransmitted_bytes += payload
                return
            if seq < stream.max_seq:
                stream.cycles += 0x10000
            stream.max_seq = seq
        if direction == RECEIVED:
            self._jitter(stream, rtp_ts, t)

    def _jitter(self, s: StreamCounters, rtp_ts: int, t: float) -> None:
        """RFC 3550 A.8, updated only when the RTP timestamp changes (as libwebrtc does: the
        packets of one video frame share a timestamp and are sent in a burst)."""
        rate = s.clock_rate
        if rate is None:
            codec = self.media.codec(s.mid, s.payload_type)
            rate = s.clock_rate = codec[1] if codec else None
            if rate is None:
                return
        arrival = t * rate
        if s.last_arrival is not None:
            if rtp_ts == s.last_rtp_ts:
                return
            ts_step = (rtp_ts - s.last_rtp_ts) & 0xFFFFFFFF
            if ts_step >= 0x80000000:
                ts_step -= 0x100000000
            s.jitter += (abs(arrival - s.last_arrival - ts_step) - s.jitter) / 16
        s.last_arrival = arrival
        s.last_rtp_ts = rtp_ts

    def _on_extensions(self, stream: StreamCounters, profile: int, block: bytes) -> None:
        try:
            elements = unpack_header_extensions(profile, block)
        except ValueError:
            return
        ids = stream.ext_ids
        for x_id, value in elements:
            ids.add(x_id)
            if stream.mid is None and x_id in self.media.mid_ext_ids:
                stream.mid = value.decode("utf8", "replace")

    def _new_stream(self, direction: str, ssrc: int, payload_type: int) -> StreamCounters:
        """Rare path: a new SSRC. Learn the SDP first, then see whether it is an RTX stream."""
        self._refresh_media()
        streams = self._streams[direction]
        stream = streams[ssrc] = StreamCounters(ssrc, payload_type, mid=self.media.ssrc_mids.get(ssrc))
        repaired = self.media.rtx_ssrcs.get(ssrc)
        if repaired is None and payload_type in self.media.rtx_apt:
            # RTX whose SSRC was not signalled: it repairs the one stream of the associated type
            apt = self.media.rtx_apt[payload_type]
            found = [s.ssrc for s in streams.values() if s.payload_type == apt and s.rtx_of is None]
            repaired = found[0] if len(found) == 1 else None
        if repaired is not None:
            stream.rtx_of = repaired
            media_stream = streams.get(repaired) or _placeholder(streams, repaired)
            media_stream.rtx_ssrc = ssrc
        return stream

    def _refresh_media(self) -> None:
        if self.pc is None:
            return
        local, remote = self.pc.localDescription, self.pc.remoteDescription
        key = (local.sdp if local else None, remote.sdp if remote else None)
        if key != self._descriptions:
            self._descriptions = key
            self.media.merge(MediaMap.from_peer_connection(self.pc))

    def _emit(self, event: dict[str, Any]) -> None:
        if self.sink is not None:
            try:
                self.sink(event)
            except Exception:
                logger.exception("stats event sink failed")

    # -- RTCP ------------------------------------------------------------------------------
    def _on_rtcp(self, tid: str | None, direction: str, data: bytes, t: float) -> None:
        counts = self.rtcp[direction]
        try:
            for info in iter_rtcp(data):
                counts[info.packet_type] += 1
                self._account(direction, info, t)
                if info.packet_type == "REMB" and direction == RECEIVED and info.bitrate is not None:
                    self._remb[tid] = info.bitrate
                self._emit(info.event(direction, t))
        except ValueError as exc:  # the sub-packets before the bad one are counted
            self.malformed[direction] += 1
            logger.debug("RTCP %s not parsed: %s", direction, exc)

    def _account(self, direction: str, info: RtcpInfo, t: float) -> None:
        # feedback and reports are about streams of the other direction: we NACK what we receive
        about = self._streams[_OTHER[direction]]
        kind = info.packet_type
        if kind == "NACK" and info.media_ssrc is not None:
            stream = about.get(info.media_ssrc) or _placeholder(about, info.media_ssrc)
            stream.nack_count += 1
            stream.record_nack(info.lost)
        elif kind == "PLI" and info.media_ssrc is not None:
            (about.get(info.media_ssrc) or _placeholder(about, info.media_ssrc)).pli_count += 1
        elif kind == "FIR":
            for ssrc in info.targets:
                (about.get(ssrc) or _placeholder(about, ssrc)).fir_count += 1
        elif kind == "SR" and info.sender_info is not None and info.sender_ssrc is not None:
            own = self._streams[direction].get(info.sender_ssrc)
            if own is not None and direction == SENT:
                own.record_sr(info.sender_info.lsr, t)
            elif own is not None:
                own.sender_info = info.sender_info
                own.sender_reports += 1
        if direction == RECEIVED:
            for block in info.reports:
                stream = about.get(block.ssrc)
                if stream is not None:
                    stream.record_report(block, t)

    # -- results ---------------------------------------------------------------------------
    def packets_sent(self) -> int:
        """RTP packets sent, as W3C packetsSent counts them (RTX retransmissions included)."""
        return sum(s.packets_total for s in self._streams[SENT].values() if s.rtx_of is None)

    def rtcp_counts(self) -> dict[str, dict[str, int]]:
        """RTCP packets by type (events.RTCP_TYPES names), per direction."""
        return {direction: dict(counts) for direction, counts in self.rtcp.items()}

    def extensions_seen(self) -> dict[str, dict[int, list[int]]]:
        """Header extension ids seen on the wire, per direction and SSRC."""
        return {direction: {s.ssrc: sorted(s.ext_ids) for s in streams.values() if s.ext_ids}
                for direction, streams in self._streams.items()}

    def final_events(self) -> list[dict[str, Any]]:
        """One `extensions_seen` event per direction and SSRC, with every id seen so far."""
        t = self.clock() if self.clock else None
        return [{"event": events.EXTENSIONS_SEEN, "t": t if t is not None else s.last_t,
                 "direction": direction, "ssrc": s.ssrc, "ids": sorted(s.ext_ids)}
                for direction, streams in self._streams.items()
                for s in streams.values() if s.ext_ids]

    def _reported_transports(self) -> dict[str, RTCDtlsTransport]:
        """The peer connection's current transports (one, once BUNDLE applies), else all watched."""
        if self.pc is None:
            return dict(self._transports)
        return {self.watch_transport(t): t for t in peer_connection_transports(self.pc)}

    async def measure_ice_rtt(self) -> None:
        """Measure each transport's ICE round-trip time (one STUN check) for the next snapshot."""
        for tid, transport in self._reported_transports().items():
            rtt = await measure_ice_rtt(transport)
            if rtt is not None:
                self._ice_rtt[tid] = rtt

    def snapshot(self, now: float) -> list[dict[str, Any]]:
        """Every report: RTP streams, their codecs, then transports and selected pairs."""
        self._refresh_media()
        transports = self._reported_transports()
        only = next(iter(transports)) if len(transports) == 1 else None
        reports: list[dict[str, Any]] = []
        codecs: dict[str, dict[str, Any]] = {}
        for direction, streams in self._streams.items():
            for s in streams.values():
                if s.rtx_of is None and s.last_t is not None:  # RTX folds into its media stream
                    part = rtp_reports(direction, s, self.media, now, s.transport_id or only, codecs)
                    for fields in self._inbound_fields if direction == RECEIVED else self._outbound_fields:
                        part[0].update(fields(s.ssrc))  # the inbound-rtp report comes first
                    reports += part
        reports += codecs.values()
        for tid, transport in transports.items():
            remb = self._remb.get(tid, self._remb.get(None) if only else None)
            transport_part = transport_reports(transport, tid, now, self._ice_rtt.get(tid), remb)
            for report in transport_part:
                if report["type"] == "candidate-pair":
                    for fields in self._pair_fields.get(tid, ()):
                        report.update(fields())
            reports += transport_part
        return reports


def _placeholder(streams: dict[int, StreamCounters], ssrc: int) -> StreamCounters:
    """An SSRC named by feedback or RTX before any of its packets: keep the counts anyway."""
    stream = streams[ssrc] = StreamCounters(ssrc, -1)
    return stream
