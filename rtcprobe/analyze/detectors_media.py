"""Detectors over the stats series of a capture: congestion, frames, stuck tracks, codec mismatch.
The table of rules and their sources is in `rtcprobe.analyze.detectors`."""

from __future__ import annotations

from typing import Any

from ..capture import Capture
from ..capture import events as ev
from .detectors import (
    CONGESTION_FALL,
    FRAMES_DROPPED_SHARE,
    FROZEN_VIDEO_S,
    LOW_AVAILABLE_BPS,
    OBSERVERTC,
    STUCK_TRACK_S,
    WID,
    Finding,
)

Series = list[tuple[float, dict[str, Any]]]


def _by_id(capture: Capture, *types: str) -> dict[str, Series]:
    """Each stats object of these types over time: id -> [(t, report)], in sample order."""
    out: dict[str, Series] = {}
    for sample in capture.stats_samples:
        for r in sample.get("reports") or []:
            if r.get("type") in types:
                stamp = r.get("timestamp")
                t = float(stamp) if isinstance(stamp, int | float) else float(sample.get("t", 0.0))
                out.setdefault(str(r.get("id")), []).append((t, r))
    return out


def _num(report: dict[str, Any], name: str) -> float | None:
    value = report.get(name)
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def _label(report: dict[str, Any]) -> str:
    return f"received {report.get('kind') or 'media'} {report.get('ssrc')}"


def _selected_pairs(capture: Capture) -> Series:
    """The selected candidate pair's report in each sample (the pair media flows on)."""
    out: Series = []
    for sample in capture.stats_samples:
        reports = {r.get("id"): r for r in sample.get("reports") or []}
        for transport in (r for r in reports.values() if r.get("type") == "transport"):
            pair = reports.get(transport.get("selectedCandidatePairId"))
            if pair is not None:
                stamp = pair.get("timestamp")
                out.append((float(stamp) if isinstance(stamp, int | float) else float(sample.get("t", 0.0)), pair))
                break
    return out


def congestion(capture: Capture) -> list[Finding]:
    """ObserveRTC: an outbound stream limited by bandwidth, or the available bitrate falling from its
    peak; webrtc-issue-detector: video sent while less than 100 kbit/s is available."""
    out = []
    limited = [(t, r) for series in _by_id(capture, "outbound-rtp").values() for t, r in series
               if r.get("qualityLimitationReason") == "bandwidth"]
    available = [(t, v) for t, r in _selected_pairs(capture) if (v := _num(r, "availableOutgoingBitrate")) is not None]
    peak: tuple[float, float] | None = None
    fall: tuple[float, float, float, float] | None = None  # peak t, peak, low t, low
    for t, value in available:
        if peak is None or value > peak[1]:
            peak = (t, value)
        elif value <= peak[1] * CONGESTION_FALL and (fall is None or value < fall[3]):
            fall = (peak[0], peak[1], t, value)
    if fall is not None or limited:
        numbers: dict[str, Any] = {"bandwidth_limited_samples": len(limited)}
        parts = []
        if fall is not None:
            numbers |= {"before_bps": round(fall[1]), "after_bps": round(fall[3]), "at": round(fall[2], 3)}
            parts.append(f"available outgoing bitrate fell from {fall[1] / 1000:.0f} kbit/s (t={fall[0]:.1f} s) to "
                         f"{fall[3] / 1000:.0f} kbit/s (t={fall[2]:.1f} s), <= {CONGESTION_FALL:.0%} of its peak")
        if limited:
            parts.append(f"qualityLimitationReason bandwidth in {len(limited)} sample(s) from t={limited[0][0]:.1f} s")
        out.append(Finding("congestion", "warning", "Congestion: the available bitrate fell",
                           f"qualityLimitationReason = bandwidth, or availableOutgoingBitrate <= "
                           f"{CONGESTION_FALL:.0%} of its earlier peak", numbers, "; ".join(parts), OBSERVERTC,
                           t=fall[2] if fall else limited[0][0]))
    video_sent = {t for series in _by_id(capture, "outbound-rtp").values() for t, r in series
                  if r.get("kind") == "video" and (_num(r, "bytesSent") or 0) > 0}
    low = [(t, v) for t, v in available if v < LOW_AVAILABLE_BPS and any(abs(t - s) < 0.5 for s in video_sent)]
    if low:
        t, v = min(low, key=lambda x: x[1])
        out.append(Finding("outbound_network_throughput", "warning", "Too little bitrate available for video",
                           f"sending video with availableOutgoingBitrate < {LOW_AVAILABLE_BPS / 1000:.0f} kbit/s",
                           {"available_bps": round(v), "samples": len(low)},
                           f"available outgoing bitrate {v / 1000:.0f} kbit/s at t={t:.1f} s while sending video "
                           f"({len(low)} sample(s) under {LOW_AVAILABLE_BPS / 1000:.0f} kbit/s)", WID, t=t))
    return out


def frames(capture: Capture) -> list[Finding]:
    """Inbound video: freezes (W3C freezeCount), a track received but not decoded, dropped frames."""
    out = []
    for series in _by_id(capture, "inbound-rtp").values():
        if series[0][1].get("kind") != "video":
            continue
        label = _label(series[-1][1])
        counts = [(t, c, _num(r, "totalFreezesDuration")) for t, r in series if (c := _num(r, "freezeCount")) is not None]
        if counts and counts[-1][1] > 0:  # counted since the stream began: a dump's first sample may hold some
            first = next(t for t, c, _ in counts if c > 0)
            total = counts[-1][2]
            out.append(Finding("video_freeze", "warning", "Video froze", "inbound-rtp freezeCount > 0 (W3C freeze: a "
                               "frame later than max(3 x mean frame duration, mean + 150 ms))",
                               {"freezes": int(counts[-1][1]), "total_freezes_s": total},
                               f"{label}: {int(counts[-1][1])} freeze(s)" + (f", {total:.2f} s frozen" if total else "")
                               + f", first seen at t={first:.1f} s", OBSERVERTC, t=first, stream=label))
        stalled_from: float | None = None
        for (t0, a), (t1, b) in zip(series, series[1:], strict=False):
            received = (_num(b, "framesReceived") or 0) - (_num(a, "framesReceived") or 0)
            decoded = _num(b, "framesDecoded")
            if decoded is None or _num(a, "framesDecoded") is None:
                continue
            dropped = (_num(b, "framesDropped") or 0) - (_num(a, "framesDropped") or 0)
            if received > 0 and dropped / received >= FRAMES_DROPPED_SHARE:
                out.append(Finding("frames_dropped", "warning", "Frames dropped before decoding",
                                   f">= {FRAMES_DROPPED_SHARE:.0%} of the frames received in a stats interval dropped",
                                   {"dropped": int(dropped), "received": int(received), "from": round(t0, 3),
                                    "to": round(t1, 3)},
                                   f"{label}: {int(dropped)} of {int(received)} frames dropped between t={t0:.1f} s "
                                   f"and t={t1:.1f} s (decoder or CPU throttling)", WID, t=t1, stream=label))
                break
            if received > 0 and decoded - (_num(a, "framesDecoded") or 0) == 0:
                stalled_from = t0 if stalled_from is None else stalled_from
                if t1 - stalled_from >= FROZEN_VIDEO_S:
                    out.append(Finding("frozen_video_track", "warning", "Video received but not decoded",
                                       f"frames received, none decoded, for >= {FROZEN_VIDEO_S:.0f} s",
                                       {"from": round(stalled_from, 3), "to": round(t1, 3)},
                                       f"{label}: frames arrived but none was decoded from t={stalled_from:.1f} s "
                                       f"to t={t1:.1f} s", WID, t=stalled_from, stream=label))
                    break
            else:
                stalled_from = None
    return out


def stuck_tracks(capture: Capture) -> list[Finding]:
    """An inbound stream without a new packet for >= 5 s: from its start (stuck) or later (dry)."""
    out = []
    for series in _by_id(capture, "inbound-rtp").values():
        label = _label(series[-1][1])
        packets = [(t, p) for t, r in series if (p := _num(r, "packetsReceived")) is not None]
        if len(packets) < 2:
            continue
        longest = (0.0, packets[0][0], packets[0][0], packets[0][1])  # gap, from, to, count
        since, value = packets[0]
        for t, p in packets[1:]:
            if p != value:
                since, value = t, p
            elif t - since > longest[0]:
                longest = (t - since, since, t, p)
        gap, start, end, count = longest
        if gap < STUCK_TRACK_S:
            continue
        never = count == 0
        out.append(Finding("stuck_inbound_track" if never else "dry_inbound_track", "error" if never else "warning",
                           "Inbound track received nothing" if never else "Inbound track stopped receiving",
                           f"no new packet for >= {STUCK_TRACK_S:.0f} s" + (" from its start" if never else ""),
                           {"silent_s": round(gap, 3), "from": round(start, 3), "to": round(end, 3),
                            "packets_received": int(count)},
                           f"{label}: packetsReceived stayed at {int(count)} from t={start:.1f} s to t={end:.1f} s "
                           f"({gap:.1f} s >= {STUCK_TRACK_S:.0f} s)", OBSERVERTC, t=start, stream=label))
    return out


def codec_mismatch(capture: Capture) -> list[Finding]:
    """RTP received with a payload type its mid never negotiated; a decoder that is "unknown"."""
    out = []
    answer = capture.negotiation.answer
    negotiated = {m.mid: {c.payload_type for c in m.codecs} for m in (answer.media if answer else []) if m.mid}
    for e in capture.of(ev.RTP_FIRST):
        pts = negotiated.get(e.get("mid"))
        if e.get("direction") == "received" and pts and e.get("payload_type") not in pts:
            label = f"received {e.get('kind') or 'media'} {e.get('ssrc')}"
            out.append(Finding("codec_mismatch", "warning", "RTP with a payload type that was not negotiated",
                               "received payload type not in the answer's m-line", {
                                   "payload_type": e.get("payload_type"), "negotiated": sorted(pts)},
                               f"{label} (mid {e.get('mid')}): payload type {e.get('payload_type')}, the answer "
                               f"negotiated {', '.join(map(str, sorted(pts)))}", WID, t=e.get("t"), stream=label))
    for series in _by_id(capture, "inbound-rtp").values():
        unknown = [(t, r) for t, r in series[1:] if r.get("kind") == "video" and r.get("decoderImplementation") == "unknown"
                   and (_num(r, "framesReceived") or 0) > 0]  # no frame yet: no decoder was needed
        if unknown:
            t, r = unknown[0]
            out.append(Finding("codec_mismatch", "warning", "No decoder for the received video",
                               'decoderImplementation "unknown" after the first sample, with frames received',
                               {"decoderImplementation": "unknown", "samples": len(unknown)},
                               f"{_label(r)}: decoderImplementation unknown from t={t:.1f} s", WID, t=t,
                               stream=_label(r)))
    return out
