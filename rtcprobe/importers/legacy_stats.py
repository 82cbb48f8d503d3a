"""Stats reports of old browsers and old rtcstats clients, in W3C webrtc-stats names.

rtcstats dumps from before ~2019 hold two kinds of reports next to each other: the pre-standard
`goog*` reports (`ssrc`, `googTrack`, `VideoBwe`, ...), whose numbers have no W3C name, and the
early spec spelling (`inboundrtp`, `candidatepair`, `localcandidate` with `ipAddress` and
`portNumber`; RTCP-derived streams as `inboundrtp`/`outboundrtp` with `isRemote: true`, as Firefox
wrote them until version 66). The second kind is renamed here; the first is left out (and said),
because a W3C-named stats frame must never hold a number under a guessed meaning.
"""

from __future__ import annotations

from typing import Any

from .series import W3C_TYPES

#: Every RTCStatsType of webrtc-stats, the obsolete ones included (older dumps hold them).
_OLD_TYPES = {"inboundrtp": "inbound-rtp", "outboundrtp": "outbound-rtp", "candidatepair": "candidate-pair",
              "localcandidate": "local-candidate", "remotecandidate": "remote-candidate",
              "datachannel": "data-channel", "peerconnection": "peer-connection", "mediasource": "media-source"}
_REMOTE = {"inbound-rtp": "remote-inbound-rtp", "outbound-rtp": "remote-outbound-rtp"}
#: Early spec member names -> current, per report type family (only when the current name is absent).
_CANDIDATE_NAMES = {"ipAddress": "address", "portNumber": "port", "transport": "protocol"}
_RTP_NAMES = {"mediaType": "kind"}


def standard_type(report: dict[str, Any]) -> str | None:
    """The W3C type of a report, reading old spellings; None for a pre-standard (goog) report."""
    kind = report.get("type")
    if not isinstance(kind, str):
        return None
    kind = _OLD_TYPES.get(kind, kind)
    if report.get("isRemote") is True and kind in _REMOTE:
        kind = _REMOTE[kind]
    return kind if kind in W3C_TYPES else None


def standardise(reports: dict[str, Any], dropped: dict[str, int]) -> dict[str, dict[str, Any]]:
    """The W3C reports of one getStats() result, renamed; `dropped` counts what was left out by type."""
    out: dict[str, dict[str, Any]] = {}
    for stats_id, report in reports.items():
        if not isinstance(report, dict):
            continue
        kind = standard_type(report)
        if kind is None:
            name = str(report.get("type") or "untyped")
            dropped[name] = dropped.get(name, 0) + 1
            continue
        if kind == report.get("type"):
            out[stats_id] = report
            continue
        renamed = dict(report, type=kind)
        names = _CANDIDATE_NAMES if kind.endswith("candidate") else _RTP_NAMES if kind.endswith("rtp") else {}
        for old, new in names.items():
            if old in renamed and new not in renamed:
                renamed[new] = renamed.pop(old)
        out[stats_id] = renamed
    return out


def dropped_note(where: str, dropped: dict[str, int]) -> str | None:
    """One line saying which pre-standard reports were left out, or None."""
    if not dropped:
        return None
    kinds = ", ".join(f"{name} ({count})" for name, count in sorted(dropped.items(), key=lambda kv: -kv[1])[:8])
    return (f"{where}: pre-standard stats reports left out (their numbers have no W3C name): {kinds}"
            + (" ..." if len(dropped) > 8 else ""))
