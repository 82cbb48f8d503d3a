"""Which candidates each side offered during a capture, and which pair ICE selected.

Candidate rows reuse `candidate_row` (priority decoding, address family). The selected pair comes
from the last stats sample that names one (`transport.selectedCandidatePairId`), else from aioice's
check list (`ice_pairs`), so failed and stats-less captures still say what ICE tried.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..capture import Capture
from ..capture import events as ev
from ..sdp import Candidate, parse_candidate
from .candidates import CandidateRow, candidate_row


@dataclass(frozen=True)
class Endpoint:
    address: str
    port: int
    transport: str  # lower case: udp, tcp

    def __str__(self) -> str:
        host = f"[{self.address}]" if ":" in self.address else self.address
        return f"{host}:{self.port}/{self.transport}"


@dataclass(frozen=True)
class SelectedPair:
    local: Endpoint
    remote: Endpoint
    source: str  # "stats" (selectedCandidatePairId) or "ice_pairs" (aioice's nominated pair)
    local_type: str | None = None
    remote_type: str | None = None
    round_trip_time: float | None = None  # candidate-pair currentRoundTripTime, seconds


@dataclass
class SessionCandidate:
    """One distinct candidate of one side. BUNDLE repeats under every m-line count once (`mids`)."""

    side: str  # "local" | "remote"
    row: CandidateRow
    mids: list[str] = field(default_factory=list)
    t: float | None = None  # first seen on the capture clock
    selected: bool = False
    source: str = "signaled"  # "signaled" (SDP or trickle) or "checks" (learned during ICE, e.g. prflx)
    ignored: str | None = None  # why rtcprobe did not use it (the loopback policy), from its event

    @property
    def endpoint(self) -> Endpoint:
        return Endpoint(self.row.address, self.row.port, self.row.transport.lower())


def _key(c: Candidate) -> tuple:
    return (c.foundation, c.component, c.transport.lower(), c.address, c.port, c.type)


def _parse_endpoint(text: str) -> Endpoint | None:
    """aioice's `host:port/udp` (IPv6 hosts unbracketed: the port is after the last colon)."""
    where, _, transport = str(text).partition("/")
    host, _, port = where.rpartition(":")
    if not host or not port.isdigit():
        return None
    return Endpoint(host.strip("[]"), int(port), (transport or "udp").lower())


def _stats_endpoint(report: dict[str, Any] | None) -> Endpoint | None:
    if not report or report.get("address") is None or report.get("port") is None:
        return None
    return Endpoint(str(report["address"]), int(report["port"]), str(report.get("protocol") or "udp").lower())


def selected_pair(capture: Capture) -> SelectedPair | None:
    """The pair media flowed on, or None when ICE never selected one."""
    for sample in reversed(capture.stats_samples):
        reports = {r.get("id"): r for r in sample.get("reports", [])}
        for transport in (r for r in reports.values() if r.get("type") == "transport"):
            pair = reports.get(transport.get("selectedCandidatePairId"))
            if not pair:
                continue
            local_report = reports.get(pair.get("localCandidateId"))
            remote_report = reports.get(pair.get("remoteCandidateId"))
            local, remote = _stats_endpoint(local_report), _stats_endpoint(remote_report)
            if local and remote:
                return SelectedPair(local, remote, "stats", (local_report or {}).get("candidateType"),
                                    (remote_report or {}).get("candidateType"), pair.get("currentRoundTripTime"))
    for event in reversed(capture.of(ev.ICE_PAIRS)):
        for pair in event.get("pairs", []):
            if pair.get("nominated") and pair.get("state") == "succeeded":
                local, remote = _parse_endpoint(pair.get("local", "")), _parse_endpoint(pair.get("remote", ""))
                if local and remote:
                    return SelectedPair(local, remote, "ice_pairs")
    return None


def _signaled(capture: Capture, side: str) -> list[tuple[Candidate, float | None, str | None]]:
    """Candidates of one side as trickled/logged (with why one was ignored, if it was); those in
    the description when none were logged."""
    out: list[tuple[Candidate, float | None, str | None]] = []
    for e in capture.of(ev.CANDIDATE):
        if e.get("side") == side and e.get("candidate"):
            try:
                out.append((parse_candidate(e["candidate"], mid=e.get("mid")), e.get("t"), e.get("ignored")))
            except ValueError:
                continue  # Capture.candidate_list reports the same line as a problem
    if out:
        return out
    description = capture.local_description if side == "local" else capture.remote_description
    sdp_event = capture.first(ev.SDP, role=side)
    t = sdp_event.get("t") if sdp_event else None
    return [(c, t, None) for c in description.candidates] if description else []


def _from_stats(capture: Capture, side: str, endpoint: Endpoint) -> Candidate | None:
    """The stats report of a candidate that was never signaled (peer-reflexive, learned in checks)."""
    for sample in reversed(capture.stats_samples):
        for r in sample.get("reports", []):
            if r.get("type") == f"{side}-candidate" and _stats_endpoint(r) == endpoint:
                return Candidate(foundation=str(r.get("foundation") or "?"), component=1,
                                 transport=endpoint.transport, priority=int(r.get("priority") or 0),
                                 address=endpoint.address, port=endpoint.port,
                                 type=str(r.get("candidateType") or "prflx"))
    return None


def session_candidates(capture: Capture) -> list[SessionCandidate]:
    """Local then remote candidates, one row each, the selected pair's two flagged."""
    chosen = selected_pair(capture)
    out: list[SessionCandidate] = []
    for side in ("local", "remote"):
        by_key: dict[tuple, SessionCandidate] = {}
        for cand, t, ignored in _signaled(capture, side):
            entry = by_key.get(_key(cand))
            if entry is None:
                entry = by_key[_key(cand)] = SessionCandidate(side, candidate_row(cand), t=t, ignored=ignored)
            if cand.mid is not None and cand.mid not in entry.mids:
                entry.mids.append(cand.mid)
        rows = list(by_key.values())
        if chosen is not None:
            wanted = chosen.local if side == "local" else chosen.remote
            hits = [r for r in rows if r.endpoint == wanted and r.row.component == 1]
            if not hits:
                learned = _from_stats(capture, side, wanted)
                if learned is not None:
                    hits = [SessionCandidate(side, candidate_row(learned), source="checks")]
                    rows.extend(hits)
            for hit in hits[:1]:
                hit.selected = True
        out.extend(rows)
    return out
