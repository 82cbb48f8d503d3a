"""What a capture can know, decided once for every analyzer: packets, or only a browser's stats.

The probe's taps see every decrypted RTP and RTCP packet, so its captures can count feedback
packets and header extensions on the wire. An imported dump (webrtc-internals, RTCStatsDump,
rtcstats, HAR) holds what the browser logged and its getStats() counters, never a packet: an
analyzer reading one must fall back to the counters and say so, not report zeros.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..capture import Capture

IMPORT_PREFIX = "import-"


@dataclass(frozen=True)
class Evidence:
    packets: bool  # RTP/RTCP packets were observed (a probe capture)
    recorder: str  # who recorded it, for "where from" notes
    stats_samples: int = 0  # getStats samples the capture holds
    described: bool = False  # an offer or answer SDP was recorded
    recorded_by: str = ""  # the software that recorded it (the browser's user agent for a dump)


def evidence(capture: Capture) -> Evidence:
    protocol = str(capture.protocol or "")
    samples = len(capture.stats_samples)
    described = capture.offer is not None or capture.answer is not None
    if protocol.startswith(IMPORT_PREFIX):
        options = capture.header.get("options") or {}
        agent = options.get("user_agent")
        by = f"{agent}, " if isinstance(agent, str) and agent else ""
        return Evidence(False, f"the imported {protocol.removeprefix(IMPORT_PREFIX)} dump", samples, described,
                        f"{by}dump format {protocol.removeprefix(IMPORT_PREFIX)}; imported by rtcprobe "
                        f"{capture.header.get('rtcprobe', '?')}")
    return Evidence(True, "rtcprobe's packet taps", samples, described,
                    f"rtcprobe {capture.header.get('rtcprobe', '?')}, aiortc {capture.header.get('aiortc', '?')}")


def last_reports(capture: Capture, *types: str) -> list[dict[str, Any]]:
    """The last sample of every stats object of these types, across the whole capture: an object
    that disappeared (a stream removed, a channel closed) still counts with what it reached."""
    last: dict[str, dict[str, Any]] = {}
    for sample in capture.stats_samples:
        for report in sample.get("reports", []):
            if report.get("type") in types and report.get("id") is not None:
                last[str(report["id"])] = report
    return list(last.values())


def counter(report: dict[str, Any], name: str) -> int | None:
    value = report.get(name)
    return int(value) if isinstance(value, int | float) and not isinstance(value, bool) else None
