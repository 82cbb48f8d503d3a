"""RTP streams over time: bitrate, round-trip time, jitter and loss per SSRC, from the stats samples.

A sent stream's RTT, jitter and loss are what the far end reported about it (remote-inbound-rtp,
from its receiver reports); a received stream's are measured here (inbound-rtp). Counters are
cumulative in W3C stats, so rates come from differences between samples; two samples closer than
`MIN_INTERVAL` (the final sample right after the last periodic one) are merged into one interval
instead of producing a spike.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..capture import Capture

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


@dataclass
class StreamSeries:
    direction: str  # "sent" | "received"
    ssrc: int
    kind: str | None
    mid: str | None
    points: list[StreamPoint] = field(default_factory=list)

    @property
    def label(self) -> str:
        return f"{self.direction} {self.kind or 'media'} {self.ssrc}"


def _number(report: dict[str, Any] | None, name: str) -> float | None:
    value = (report or {}).get(name)
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def _int(value: float | None) -> int | None:
    return None if value is None else int(value)


def _sample_time(sample: dict[str, Any], report: dict[str, Any]) -> float:
    stamp = report.get("timestamp")
    return float(stamp) if isinstance(stamp, int | float) else float(sample.get("t", 0.0))


def stream_series(capture: Capture) -> list[StreamSeries]:
    """One series per outbound-rtp / inbound-rtp SSRC, in order of first appearance."""
    series: dict[str, StreamSeries] = {}
    baseline: dict[str, tuple[float, float, float, float]] = {}  # id -> (t, bytes, media packets, lost)
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
            if last is None:
                baseline[rid] = (t, octets or 0.0, media_packets or 0.0, lost or 0.0)
            elif t - last[0] >= MIN_INTERVAL:
                bitrate = ((octets or 0.0) - last[1]) * 8 / (t - last[0])
                if not sent:
                    got, missed = (media_packets or 0.0) - last[2], (lost or 0.0) - last[3]
                    loss = max(missed, 0.0) / (got + missed) if got + missed > 0 else 0.0
                baseline[rid] = (t, octets or 0.0, media_packets or 0.0, lost or 0.0)
            else:
                continue  # folded into the next interval
            entry.points.append(StreamPoint(t, bitrate, _int(packets), rtt, jitter, loss, _int(lost)))
    return list(series.values())


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
