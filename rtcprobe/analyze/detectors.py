"""Issue detectors: one pass over a capture (probe or imported dump), findings a person acts on.

Each detector is a pure function of the capture; each finding names the rule that fired and the
numbers it fired on. Names and thresholds follow public monitoring tools, so that a finding means
what it means there:

| code | severity | rule (fires when) | after |
|---|---|---|---|
| `ice_failed` | error | no candidate pair was ever selected and the session ended in ICE | peermetrics `ice_failed` |
| `turn_used` | warning | the selected pair has a relay candidate | peermetrics `turn_used` |
| `tcp_used` | warning | the selected pair is TCP (or a TURN allocation over TCP/TLS) | peermetrics `tcp_used` |
| `slow_setup` | warning | set-up took >= 5 s (capture start -> media; else connecting -> connected) | ObserveRTC `long-pc-connection-establishment` (thresholdInMs 5000) |
| `congestion` | warning | qualityLimitationReason = bandwidth, or availableOutgoingBitrate fell to <= 50 % of its earlier peak | ObserveRTC `CongestionDetector` (before/after bitrates) |
| `outbound_network_throughput` | warning | sending video while availableOutgoingBitrate < 100 kbit/s | webrtc-issue-detector `AvailableOutgoingBitrateIssueDetector` |
| `video_freeze` | warning | inbound video freezeCount grew (W3C freeze definition) | ObserveRTC `VideoFreezesDetector` |
| `frozen_video_track` | warning | frames received but none decoded for >= 10 s | webrtc-issue-detector `FrozenVideoTrackDetector` (timeoutMs 10000) |
| `stuck_inbound_track` | error | an inbound stream received no packet in its first >= 5 s | ObserveRTC `stucked-inbound-track` / `DryInboundTrackDetector` (thresholdInMs 5000) |
| `dry_inbound_track` | warning | an inbound stream that had packets received none for >= 5 s | ObserveRTC `DryInboundTrackDetector` (thresholdInMs 5000) |
| `low_mos` / `very_low_mos` | warning / error | a direction's estimated MOS < 4 / < 3 | peermetrics `low_emos` / `very_low_emos` |
| `network_quality` | warning | a direction's loss > 5 % or jitter >= 200 ms | webrtc-issue-detector `InboundNetworkIssueDetector` |
| `server_side_delay` | warning | RTT >= 250 ms while jitter < 200 ms and loss <= 5 % | webrtc-issue-detector `server-issue` |
| `codec_mismatch` | warning | RTP arrived with a payload type the answer did not negotiate for its mid, or video frames arrived with decoderImplementation "unknown" | webrtc-issue-detector `VideoCodecMismatchDetector` |
| `frames_dropped` | warning | in a stats interval, >= 50 % of the frames received were dropped | webrtc-issue-detector `FramesDroppedIssueDetector` (threshold 0.5) |

Sources: github.com/peermetrics/api (app/models/issue.py, check_emos_score),
github.com/ObserveRTC/client-monitor-js (src/detectors, default config),
github.com/VLprojects/webrtc-issue-detector (src/detectors). A detector whose fields a capture
lacks (frame counters, availableOutgoingBitrate) says nothing: absence of data is not a finding.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..capture import Capture
from ..capture import events as ev
from .connection import SelectedPair, selected_pair
from .latency import connect_breakdown
from .mos import DirectionMos, StreamQuality, direction_mos, stream_quality

#: Seconds of set-up beyond which `slow_setup` fires (ObserveRTC longPcConnectionEstablishment).
SLOW_SETUP_S = 5.0
#: Seconds without a packet on an inbound stream (ObserveRTC stuckedInboundTrack / dryInboundTrack).
STUCK_TRACK_S = 5.0
#: Available outgoing bitrate, bit/s, under which sending video is throughput-limited (webrtc-issue-detector).
LOW_AVAILABLE_BPS = 100_000
#: A fall of the available outgoing bitrate to this fraction of its earlier peak is congestion.
CONGESTION_FALL = 0.5
#: MOS thresholds of peermetrics' low_emos / very_low_emos.
LOW_MOS, VERY_LOW_MOS = 4.0, 3.0
#: webrtc-issue-detector's network thresholds: loss %, jitter s, RTT s.
HIGH_LOSS_PCT, HIGH_JITTER_S, HIGH_RTT_S = 5.0, 0.200, 0.250
#: Seconds of frames received without one decoded (webrtc-issue-detector FrozenVideoTrackDetector).
FROZEN_VIDEO_S = 10.0
#: Share of received frames dropped in one interval (webrtc-issue-detector FramesDroppedIssueDetector).
FRAMES_DROPPED_SHARE = 0.5


@dataclass(frozen=True)
class Finding:
    """One issue: what (code), how bad, the rule with its threshold, and the numbers it fired on."""

    code: str
    severity: str  # "error" | "warning"
    title: str
    rule: str
    measured: dict[str, Any]
    detail: str  # one line with the numbers, for people
    source: str  # the public detector the rule follows
    t: float | None = None  # capture clock, when the finding has a moment
    stream: str | None = None


@dataclass
class Detection:
    """The pass over one capture: the ICE outcome, per-stream quality, MOS per direction, findings."""

    ice_outcome: str  # "direct" | "relay" | "failed" | "unknown"
    ice_detail: str
    streams: list[StreamQuality] = field(default_factory=list)
    mos: list[DirectionMos] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)

    @property
    def errors(self) -> list[Finding]:
        return [f for f in self.findings if f.severity == "error"]


PEERMETRICS, OBSERVERTC, WID = "peermetrics", "ObserveRTC client-monitor", "webrtc-issue-detector"


def detect(capture: Capture) -> Detection:
    """Every detector over one capture; findings errors first, then in time order."""
    from .detectors_media import codec_mismatch, congestion, frames, stuck_tracks

    streams = stream_quality(capture)
    mos = direction_mos(streams)
    pair = selected_pair(capture)
    outcome, detail, ice_findings = ice_outcome(capture, pair)
    findings = [*ice_findings, *slow_setup(capture), *congestion(capture), *frames(capture),
                *stuck_tracks(capture), *low_mos(mos), *network(streams), *codec_mismatch(capture)]
    findings.sort(key=lambda f: (f.severity != "error", f.t if f.t is not None else -1.0))
    return Detection(outcome, detail, streams, mos, findings)


def _tcp_allocation(capture: Capture) -> str | None:
    """The carrier of the TURN allocation the relay candidate came from, when not UDP."""
    for event in capture.of(ev.ICE_SERVERS):
        for allocation in event.get("allocations") or []:
            if allocation.get("ok") and allocation.get("carrier") in ("tcp", "tls"):
                return str(allocation["carrier"])
    return None


def ice_outcome(capture: Capture, pair: SelectedPair | None) -> tuple[str, str, list[Finding]]:
    """direct / relay / failed, with peermetrics' ice_failed, turn_used and tcp_used."""
    if pair is None:
        if capture.reason in ("ice", "dtls", "timeout") or capture.state_reached("ice_connection", "failed") is not None:
            checked = next((len(e.get("pairs") or []) for e in reversed(capture.of(ev.ICE_PAIRS))), 0)
            detail = f"no candidate pair was selected ({checked} pair(s) checked; end: {capture.reason})"
            return "failed", detail, [Finding("ice_failed", "error", "Connection could not be established",
                                              "no selected candidate pair, session ended in ICE",
                                              {"pairs_checked": checked, "end": capture.reason}, detail, PEERMETRICS)]
        return "unknown", "no selected candidate pair recorded", []
    types = f"{pair.local_type or '?'} -> {pair.remote_type or '?'}"
    detail = f"{pair.local} -> {pair.remote} ({types})"
    findings = []
    relay = "relay" in (pair.local_type, pair.remote_type)
    if relay:
        side = "local" if pair.local_type == "relay" else "remote"
        findings.append(Finding("turn_used", "warning", "Connection relayed through a TURN server",
                                "the selected pair has a relay candidate",
                                {"local_type": pair.local_type, "remote_type": pair.remote_type},
                                f"selected pair {detail}: the {side} candidate is a relay", PEERMETRICS))
    carrier = pair.local.transport if pair.local.transport == "tcp" else (_tcp_allocation(capture) if relay else None)
    if carrier in ("tcp", "tls"):
        findings.append(Finding("tcp_used", "warning", "Media sent over TCP",
                                "the selected pair (or its TURN allocation) is TCP", {"transport": carrier},
                                f"media over {carrier.upper()}: {detail}", PEERMETRICS))
    return ("relay" if relay else "direct"), detail, findings


def slow_setup(capture: Capture) -> list[Finding]:
    breakdown = connect_breakdown(capture)
    took, how = breakdown.total, "capture start -> media flowing"
    if took is None:
        connecting = capture.state_reached("connection", "connecting")
        connected = capture.state_reached("connection", "connected")
        if connecting is None or connected is None:
            return []
        took, how = connected - connecting, "connectionState connecting -> connected"
    if took < SLOW_SETUP_S:
        return []
    return [Finding("slow_setup", "warning", "Slow connection set-up", f"set-up >= {SLOW_SETUP_S:.0f} s ({how})",
                    {"setup_s": round(took, 3), "threshold_s": SLOW_SETUP_S},
                    f"set-up took {took * 1000:.0f} ms ({how}), threshold {SLOW_SETUP_S * 1000:.0f} ms", OBSERVERTC)]


def low_mos(directions: list[DirectionMos]) -> list[Finding]:
    out = []
    for d in directions:
        if d.estimate is None or d.estimate.mos >= LOW_MOS:
            continue
        e = d.estimate
        very = e.mos < VERY_LOW_MOS
        limit = VERY_LOW_MOS if very else LOW_MOS
        out.append(Finding("very_low_mos" if very else "low_mos", "error" if very else "warning",
                           f"{'Very low' if very else 'Low'} estimated MOS ({d.direction})", f"MOS < {limit:.0f}",
                           {"mos": round(e.mos, 2), "r_factor": round(e.r_factor, 1), "rtt_ms": round(e.rtt_ms, 1),
                            "jitter_ms": round(e.jitter_ms, 1), "loss_pct": round(e.loss_pct, 2)},
                           f"{d.direction}: MOS {e.mos:.2f} < {limit:.0f} (R {e.r_factor:.1f}; RTT {e.rtt_ms:.0f} ms, "
                           f"jitter {e.jitter_ms:.1f} ms, loss {e.loss_pct:.2f} %)", PEERMETRICS, stream=d.stream))
    return out


def network(streams: list[StreamQuality]) -> list[Finding]:
    """Loss and jitter per direction (the worst stream); high RTT without them is the server's."""
    out = []
    for direction in ("sent", "received"):
        mine = [s for s in streams if s.direction == direction]
        losses = [s for s in mine if s.loss_fraction is not None]
        jitters = [s for s in mine if s.jitter_s is not None]
        rtts = [s.rtt_s for s in mine if s.rtt_s is not None]
        worst_loss = max(losses, key=lambda s: s.loss_fraction or 0.0, default=None)
        worst_jitter = max(jitters, key=lambda s: s.jitter_s or 0.0, default=None)
        loss_pct = (worst_loss.loss_fraction or 0.0) * 100 if worst_loss else None
        jitter = worst_jitter.jitter_s if worst_jitter else None
        numbers = {"loss_pct": None if loss_pct is None else round(loss_pct, 2),
                   "jitter_ms": None if jitter is None else round(jitter * 1000, 1)}
        lossy = loss_pct is not None and loss_pct > HIGH_LOSS_PCT
        jittery = jitter is not None and jitter >= HIGH_JITTER_S
        if lossy or jittery:
            what = [f"loss {loss_pct:.2f} % > {HIGH_LOSS_PCT:.0f} %" if lossy else "",
                    f"jitter {jitter * 1000:.0f} ms >= {HIGH_JITTER_S * 1000:.0f} ms" if jittery and jitter else ""]
            out.append(Finding("network_quality", "warning", f"Poor network quality ({direction})",
                               f"loss > {HIGH_LOSS_PCT:.0f} % or jitter >= {HIGH_JITTER_S * 1000:.0f} ms", numbers,
                               f"{direction}: " + "; ".join(w for w in what if w), WID,
                               stream=(worst_loss if lossy else worst_jitter).label))  # type: ignore[union-attr]
        if rtts and not lossy and not jittery and loss_pct is not None and jitter is not None:
            rtt = max(rtts)
            if rtt >= HIGH_RTT_S:
                out.append(Finding("server_side_delay", "warning", f"High RTT with low jitter and loss ({direction})",
                                   f"RTT >= {HIGH_RTT_S * 1000:.0f} ms, jitter < {HIGH_JITTER_S * 1000:.0f} ms, "
                                   f"loss <= {HIGH_LOSS_PCT:.0f} %", numbers | {"rtt_ms": round(rtt * 1000, 1)},
                                   f"{direction}: RTT {rtt * 1000:.0f} ms with jitter {jitter * 1000:.1f} ms and loss "
                                   f"{loss_pct:.2f} %: the delay is steady, not queueing (a far server or a slow peer)",
                                   WID))
    return out
