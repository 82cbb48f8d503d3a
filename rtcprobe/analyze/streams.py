"""RTP streams over time: bitrate, round-trip time, jitter and loss per SSRC, from the stats samples.

A sent stream's RTT, jitter and loss are what the far end reported about it (remote-inbound-rtp,
from its receiver reports); a received stream's are measured here (inbound-rtp). Counters are
cumulative in W3C stats, so rates come from differences between samples; two samples closer than
`MIN_INTERVAL` (the final sample right after the last periodic one) are merged into one interval
instead of producing a spike.

An interval that ends at or after its stream stopped (an RTCP BYE for its SSRC, or the connection
closed or failed) is not a rate: the senders stopped inside it, so its bytes over its length would
show a drop (to 0 kbit/s after a hang-up) that the session never had. Such a point keeps its
counters and gauges, and its bitrate and interval loss are None.

Frame and audio gauges (framesPerSecond, frameWidth/Height, audioLevel) and feedback counters
(nackCount, pliCount) are taken as W3C names them, from the RTP report or, for a sent stream, its
media-source report: the probe, browser dumps and imports carry them alike.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

from ..capture import Capture
from ..capture import events as ev

#: Seconds: shorter intervals between samples are folded into the next one.
MIN_INTERVAL = 0.25


@dataclass(frozen=True)
class StreamPoint:
    t: float  # capture clock, seconds
    bitrate_bps: float | None  # payload bits per second over the interval ending at t
    packets: int | None  # cumulative packets sent or received
    round_trip_time: float | None  # seconds
    jitter: float | None  # seconds
    loss_fraction: float | None  # 0..1, over the interval (received) or the last report (sent)
    packets_lost: int | None  # cumulative
    frames_per_second: float | None = None
    frame_width: int | None = None
    frame_height: int | None = None
    audio_level: float | None = None  # 0..1, W3C audioLevel (linear)
    nack_count: int | None = None  # cumulative, sent (outbound: received by us) as W3C counts them
    pli_count: int | None = None  # cumulative


@dataclass
class StreamSeries:
    direction: str  # "sent" | "received"
    ssrc: int
    kind: str | None
    mid: str | None
    points: list[StreamPoint] = field(default_factory=list)
    codec: str | None = None  # as negotiated for its mid and payload type (VP8, opus), else the codec report's

    @property
    def label(self) -> str:
        """Kind, mid and codec first: what an engineer recognises; the SSRC last, to tell streams apart."""
        where = f" mid {self.mid}" if self.mid is not None else ""
        codec = f" {self.codec}" if self.codec else ""
        return f"{self.direction} {self.kind or 'media'}{where}{codec} ({self.ssrc})"


def _number(report: dict[str, Any] | None, name: str) -> float | None:
    value = (report or {}).get(name)
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def _int(value: float | None) -> int | None:
    return None if value is None else int(value)


def _sample_time(sample: dict[str, Any], report: dict[str, Any]) -> float:
    stamp = report.get("timestamp")
    return float(stamp) if isinstance(stamp, int | float) else float(sample.get("t", 0.0))


def _stops(capture: Capture) -> tuple[dict[int, float], float | None]:
    """When media stopped: the first RTCP BYE per SSRC (sent or received), and when the connection
    first closed or failed (every stream stopped then)."""
    byes: dict[int, float] = {}
    for event in capture.of(ev.RTCP):
        if event.get("packet_type") == "BYE" and isinstance(event.get("sender_ssrc"), int):
            byes.setdefault(event["sender_ssrc"], float(event["t"]))
    closed = next((t for t, state in capture.states("connection") if state in ("closed", "failed")), None)
    return byes, closed


def _codec_names(capture: Capture) -> dict[tuple[str | None, int], str]:
    """(mid, payload type) -> codec name as the answer (else the offer) negotiated it."""
    description = capture.answer or capture.offer
    if description is None:
        return {}
    return {(m.mid, c.payload_type): c.display_name for m in description.media for c in m.codecs}


def _codec(report: dict[str, Any], reports: dict[Any, dict[str, Any]], names: dict[tuple[str | None, int], str]) -> str | None:
    """The stream's codec: its payload type looked up in its own m-line (a codec report keyed by
    payload type alone can name another m-line's codec), else the codec report's mimeType."""
    codec = reports.get(report.get("codecId")) or {}
    pt = codec.get("payloadType")
    if isinstance(pt, int) and (report.get("mid"), pt) in names:
        return names[(report.get("mid"), pt)]
    mime = codec.get("mimeType")
    return mime.partition("/")[2] or mime if isinstance(mime, str) else None


def _gauge(name: str, *reports: dict[str, Any] | None) -> float | None:
    """A W3C gauge from the first report that has it (the RTP report, then its media source)."""
    return next((v for r in reports if (v := _number(r, name)) is not None), None)


def stream_series(capture: Capture) -> list[StreamSeries]:
    """One series per outbound-rtp / inbound-rtp SSRC, in order of first appearance."""
    series: dict[str, StreamSeries] = {}
    baseline: dict[str, tuple[float, float, float, float]] = {}  # id -> (t, bytes, media packets, lost)
    byes, closed = _stops(capture)
    names = _codec_names(capture)
    folded: dict[str, tuple[StreamSeries, StreamPoint]] = {}  # id -> a sample too close to its previous one
    for sample in capture.stats_samples:
        reports = {r.get("id"): r for r in sample.get("reports", [])}
        by_local = {r.get("localId"): r for r in reports.values() if r.get("localId")}
        for rid, report in reports.items():
            kind_of = report.get("type")
            if kind_of not in ("outbound-rtp", "inbound-rtp") or not isinstance(report.get("ssrc"), int):
                continue
            sent = kind_of == "outbound-rtp"
            entry = series.get(rid)
            if entry is None:
                entry = series[rid] = StreamSeries("sent" if sent else "received", report["ssrc"],
                                                   report.get("kind"), report.get("mid"))
            entry.codec = entry.codec or _codec(report, reports, names)
            t = _sample_time(sample, report)
            octets = _number(report, "bytesSent" if sent else "bytesReceived")
            packets = _number(report, "packetsSent" if sent else "packetsReceived")
            # W3C packetsReceived includes retransmissions; loss is counted in the media sequence space
            media_packets = None if packets is None else packets - (_number(report, "retransmittedPacketsReceived") or 0.0)
            remote = reports.get(report.get("remoteId")) or by_local.get(rid)
            if sent:
                lost = _number(remote, "packetsLost")
                jitter = _number(remote, "jitter")
                rtt = _number(remote, "roundTripTime")
                loss = _number(remote, "fractionLost")
            else:
                lost = _number(report, "packetsLost")
                jitter = _number(report, "jitter")
                rtt = _number(remote, "roundTripTime")
                loss = None
            bitrate = None
            last = baseline.get(rid)
            stop = min((x for x in (byes.get(report["ssrc"]), closed) if x is not None), default=None)
            source = reports.get(report.get("mediaSourceId")) if sent else None
            width, height = _gauge("frameWidth", report, source), _gauge("frameHeight", report, source)
            point = StreamPoint(
                t, None, _int(packets), rtt, jitter, loss, _int(lost),  # rate and interval loss: below
                frames_per_second=_gauge("framesPerSecond", report, source),
                frame_width=_int(width), frame_height=_int(height),
                audio_level=_gauge("audioLevel", report, source),
                nack_count=_int(_number(report, "nackCount")), pli_count=_int(_number(report, "pliCount")))
            if last is None:
                baseline[rid] = (t, octets or 0.0, media_packets or 0.0, lost or 0.0)
            elif t - last[0] >= MIN_INTERVAL:
                if stop is None or t < stop:  # else the senders stopped inside the interval: no rate
                    bitrate = ((octets or 0.0) - last[1]) * 8 / (t - last[0])
                    if not sent:
                        got, missed = (media_packets or 0.0) - last[2], (lost or 0.0) - last[3]
                        loss = max(missed, 0.0) / (got + missed) if got + missed > 0 else 0.0
                baseline[rid] = (t, octets or 0.0, media_packets or 0.0, lost or 0.0)
            else:  # folded into the next interval; the stream's last sample still shows its counters
                folded[rid] = (entry, point)
                continue
            folded.pop(rid, None)
            entry.points.append(dataclasses.replace(point, bitrate_bps=bitrate, loss_fraction=loss))
    for entry, point in folded.values():  # too soon after the previous one for a rate: counters only
        entry.points.append(point)
    return list(series.values())


def available_bitrate(capture: Capture) -> list[tuple[float, float | None, float | None]]:
    """(t, availableOutgoingBitrate, availableIncomingBitrate) of the selected candidate pair, bit/s:
    the bandwidth estimate, where the record has it."""
    out = []
    for sample in capture.stats_samples:
        reports = {r.get("id"): r for r in sample.get("reports", [])}
        for pair in _selected_pairs(reports):
            up, down = _number(pair, "availableOutgoingBitrate"), _number(pair, "availableIncomingBitrate")
            if up is not None or down is not None:
                out.append((_sample_time(sample, pair), up, down))
    return out


def _selected_pairs(reports: dict[Any, dict[str, Any]]) -> list[dict[str, Any]]:
    """The transports' selected candidate pairs (W3C selectedCandidatePairId)."""
    pairs = (reports.get(t.get("selectedCandidatePairId")) for t in reports.values() if t.get("type") == "transport")
    return [p for p in pairs if p is not None]


def pair_rtt(capture: Capture) -> list[tuple[float, float]]:
    """(t, seconds) of the selected candidate pair's currentRoundTripTime: ICE's own RTT."""
    out = []
    for sample in capture.stats_samples:
        reports = {r.get("id"): r for r in sample.get("reports", [])}
        for transport in (r for r in reports.values() if r.get("type") == "transport"):
            pair = reports.get(transport.get("selectedCandidatePairId"))
            rtt = _number(pair, "currentRoundTripTime")
            if pair is not None and rtt is not None:
                out.append((_sample_time(sample, pair), rtt))
    return out
