"""Estimated MOS per direction and a quality row per RTP stream.

The estimate is the simplified ITU-T G.107 E-model that monitoring tools copy from one another
(PingPlotter's "Calculating MOS" manual page, VoIP-Info's E-model notes, webrtc-issue-detector's
NetworkScoresCalculator, callstats.io's blog): network numbers in, one MOS out.

    effective latency  Le = RTT + 2 * jitter + 10 ms                    (ms)
    R = 93.2 - Le / 40                 when Le < 160 ms
    R = 93.2 - (Le - 120) / 10         otherwise                       (PingPlotter's form)
    R = R - 2.5 * loss                 (loss in percent)
    MOS = 1 + 0.035 R + 7e-6 R (R - 60) (100 - R)   for 0 < R < 100    (ITU-T G.107, Annex B, B-4)
    MOS = 1 for R <= 0, 4.5 for R >= 100, never below 1               (G.107's own clamps)

93.2 is G.107's default R for an ideal narrow-band call; the two latency branches meet at 160 ms
(R = 89.2 on both). webrtc-issue-detector writes the second branch as 93.2 - Le/120 - 10, which
jumps by 5.2 at 160 ms; rtcprobe keeps PingPlotter's continuous form. The E-model rates voice: a
direction's MOS comes from its audio streams (the worst one), from video only when no audio
stream has the numbers.
"""

from __future__ import annotations

from dataclasses import dataclass
from statistics import median
from typing import Any

from ..capture import Capture
from .streams import pair_rtt, stream_series

#: ms added to the effective latency for the codec and jitter buffer (the formula's constant).
CODEC_DELAY_MS = 10.0
#: R of an ideal call in G.107's default parameters.
R_DEFAULT = 93.2


@dataclass(frozen=True)
class MosEstimate:
    """The E-model's inputs and its result, so a view can show how the number came about."""

    rtt_ms: float
    jitter_ms: float
    loss_pct: float
    effective_latency_ms: float
    r_factor: float  # after clamping to [0, 100]
    mos: float  # 1.0 .. 4.5


def r_to_mos(r: float) -> float:
    """ITU-T G.107 Annex B (B-4): MOS from the transmission rating R, clamped as G.107 does."""
    if r <= 0:
        return 1.0
    if r >= 100:
        return 4.5
    # the cubic dips below 1 for R under about 6.5: G.107's scale stops at 1
    return min(max(1 + 0.035 * r + 7e-6 * r * (r - 60) * (100 - r), 1.0), 4.5)


def estimate_mos(rtt_s: float, jitter_s: float, loss_fraction: float) -> MosEstimate:
    """MOS from round-trip time and jitter (seconds, as W3C stats give them) and loss (0..1)."""
    rtt_ms, jitter_ms = max(rtt_s, 0.0) * 1000, max(jitter_s, 0.0) * 1000
    loss_pct = min(max(float(loss_fraction), 0.0), 1.0) * 100
    latency = rtt_ms + 2 * jitter_ms + CODEC_DELAY_MS
    r = R_DEFAULT - latency / 40 if latency < 160 else R_DEFAULT - (latency - 120) / 10
    r = min(max(r - 2.5 * loss_pct, 0.0), 100.0)
    return MosEstimate(rtt_ms, jitter_ms, loss_pct, latency, r, r_to_mos(r))


@dataclass(frozen=True)
class StreamQuality:
    """One stream over the whole session: mean bitrate, loss, mean jitter, median RTT, its MOS.

    Sent streams' loss, jitter and RTT are what the far end reported (remote-inbound-rtp); received
    streams' are measured here, RTT from remote-outbound-rtp or else the selected pair's ICE RTT."""

    direction: str  # "sent" | "received"
    kind: str | None
    ssrc: int
    mid: str | None
    codec: str | None  # mimeType of the stream's codec report, e.g. audio/opus
    bitrate_bps: float | None
    packets: int | None
    packets_lost: int | None
    loss_fraction: float | None
    jitter_s: float | None
    rtt_s: float | None
    rtt_source: str | None  # "stream" | "candidate-pair"
    mos: MosEstimate | None

    @property
    def label(self) -> str:
        return f"{self.direction} {self.kind or 'media'} {self.ssrc}" + (f" (mid {self.mid})" if self.mid else "")


@dataclass(frozen=True)
class DirectionMos:
    direction: str  # "sent" | "received"
    estimate: MosEstimate | None
    stream: str | None  # the stream the estimate is of (the worst audio stream)
    note: str  # why there is none, or what it is based on


def _mean(values: list[float]) -> float | None:
    return sum(values) / len(values) if values else None


def _codecs(capture: Capture) -> dict[int, str]:
    """SSRC -> codec mimeType from the last sample that names one."""
    out: dict[int, str] = {}
    for sample in reversed(capture.stats_samples):
        reports: dict[Any, dict[str, Any]] = {r.get("id"): r for r in sample.get("reports", [])}
        for r in reports.values():
            if r.get("type") in ("inbound-rtp", "outbound-rtp") and isinstance(r.get("ssrc"), int):
                mime = (reports.get(r.get("codecId")) or {}).get("mimeType")
                if isinstance(mime, str):
                    out.setdefault(r["ssrc"], mime)
    return out


def _counters(capture: Capture) -> dict[tuple[str, int], tuple[int, int]]:
    """(direction, SSRC) -> (packets, lost) from the last sample that has both: the stream series fold
    a final sample taken right after a periodic one, but its counters are the session's last word.
    Sent: packetsSent and the far end's packetsLost; received: media packets (retransmissions out)."""
    out: dict[tuple[str, int], tuple[int, int]] = {}
    for sample in capture.stats_samples:
        reports: dict[Any, dict[str, Any]] = {r.get("id"): r for r in sample.get("reports", [])}
        by_local = {r.get("localId"): r for r in reports.values() if r.get("localId")}
        for rid, r in reports.items():
            kind, ssrc = r.get("type"), r.get("ssrc")
            if kind not in ("inbound-rtp", "outbound-rtp") or not isinstance(ssrc, int):
                continue
            if kind == "outbound-rtp":
                remote = reports.get(r.get("remoteId")) or by_local.get(rid) or {}
                packets, lost = r.get("packetsSent"), remote.get("packetsLost")
            else:
                received, lost = r.get("packetsReceived"), r.get("packetsLost")
                rtx = r.get("retransmittedPacketsReceived") or 0
                packets = received - rtx if isinstance(received, int | float) and isinstance(rtx, int | float) else None
            if isinstance(packets, int | float) and isinstance(lost, int | float):
                out[("sent" if kind == "outbound-rtp" else "received", ssrc)] = (int(packets), int(lost))
    return out


def _loss(counts: tuple[int, int] | None, direction: str) -> float | None:
    if counts is None:
        return None
    packets, lost = counts[0], max(counts[1], 0)
    # sent: the far end's lost count over what was sent; received: lost over expected
    total = packets if direction == "sent" else packets + lost
    return min(lost / total, 1.0) if total > 0 else None


def stream_quality(capture: Capture) -> list[StreamQuality]:
    """One row per RTP stream of the capture's stats, in order of first appearance."""
    codecs, counters = _codecs(capture), _counters(capture)
    ice_rtt = [v for _, v in pair_rtt(capture)]
    out = []
    for s in stream_series(capture):
        rates = [p.bitrate_bps for p in s.points if p.bitrate_bps is not None]
        jitters = [p.jitter for p in s.points if p.jitter is not None]
        rtts = [p.round_trip_time for p in s.points if p.round_trip_time is not None]
        source = "stream" if rtts else "candidate-pair" if ice_rtt else None
        rtt = median(rtts or ice_rtt) if (rtts or ice_rtt) else None
        counts = counters.get((s.direction, s.ssrc))
        packets, lost = counts if counts else (None, None)
        loss = _loss(counts, s.direction)
        jitter = _mean(jitters)
        mos = estimate_mos(rtt, jitter, loss) if None not in (rtt, jitter, loss) else None  # type: ignore[arg-type]
        out.append(StreamQuality(s.direction, s.kind, s.ssrc, s.mid, codecs.get(s.ssrc), _mean(rates), packets, lost,
                                 loss, jitter, rtt, source, mos))
    return out


def direction_mos(qualities: list[StreamQuality]) -> list[DirectionMos]:
    """MOS of each direction that has streams: the worst audio stream's (video's when no audio)."""
    out = []
    for direction in ("sent", "received"):
        streams = [q for q in qualities if q.direction == direction]
        if not streams:
            continue
        audio = [q for q in streams if q.kind == "audio" and q.mos is not None]
        rated = audio or [q for q in streams if q.mos is not None]
        if not rated:
            missing = "RTT" if all(q.rtt_s is None for q in streams) else "jitter or loss"
            out.append(DirectionMos(direction, None, None, f"not measured: no {missing} for its streams"))
            continue
        worst = min(rated, key=lambda q: q.mos.mos)  # type: ignore[union-attr]
        basis = "audio" if audio else "video (no audio stream with numbers)"
        out.append(DirectionMos(direction, worst.mos, worst.label, f"from {basis}: {worst.label}"))
    return out
