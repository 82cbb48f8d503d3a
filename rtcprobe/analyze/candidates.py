"""Candidate analysis: a decoded table and the set-level facts the study's diff compares."""

from __future__ import annotations

from dataclasses import dataclass, field

from ..negotiation import Negotiation
from ..sdp import Candidate, SessionDescription

#: Ports at or above this are ephemeral (Linux 32768-60999, IANA 49152-65535): they change per session.
EPHEMERAL_PORT_FLOOR = 32768


@dataclass(frozen=True)
class CandidateRow:
    """One candidate with its priority taken apart, ready for a table."""

    mid: str | None
    foundation: str
    component: int
    transport: str
    address: str
    port: int
    type: str
    tcptype: str | None
    priority: int
    type_preference: int
    local_preference: int
    priority_component: int
    priority_note: str
    anomalies: list[str]  # Candidate.anomalies: grammar the RFCs do not allow, kept as written
    address_family: str
    mdns: bool
    raddr: str | None
    rport: int | None
    generation: int | None
    network_id: int | None
    ufrag: str | None
    extras: dict[str, str]


@dataclass
class CandidateSet:
    """What a set of candidates says about the service's reachability."""

    rows: list[CandidateRow]
    addresses: list[str]
    transports: list[str]
    ports_by_transport: dict[str, list[int]]
    rtcp_component: bool
    count: int
    end_of_candidates: bool
    types: list[str]
    priorities_by_transport: dict[str, list[int]]
    families: list[str] = field(default_factory=list)

    @property
    def ports_ephemeral(self) -> bool:
        ports = [p for ps in self.ports_by_transport.values() for p in ps]
        return bool(ports) and all(p >= EPHEMERAL_PORT_FLOOR for p in ports)


def candidate_row(candidate: Candidate) -> CandidateRow:
    decoded = candidate.decoded_priority
    return CandidateRow(
        mid=candidate.mid, foundation=candidate.foundation, component=candidate.component,
        transport=candidate.transport, address=candidate.address, port=candidate.port,
        type=candidate.type, tcptype=candidate.tcptype, priority=candidate.priority,
        type_preference=decoded.type_preference, local_preference=decoded.local_preference,
        priority_component=decoded.component, priority_note=decoded.note, anomalies=candidate.anomalies,
        address_family=candidate.address_family, mdns=candidate.is_mdns, raddr=candidate.raddr,
        rport=candidate.rport, generation=candidate.generation, network_id=candidate.network_id,
        ufrag=candidate.ufrag, extras=dict(candidate.extras),
    )


def _unique(values: list) -> list:
    return list(dict.fromkeys(values))


def candidate_set(description: SessionDescription) -> CandidateSet:
    """Set-level facts over every candidate in a description (or a bare candidate fragment).

    With BUNDLE, agents repeat the same candidates under every m-line; those repeats are one
    candidate, so they are counted once.
    """
    seen: set[tuple] = set()
    candidates: list[Candidate] = []
    for cand in description.candidates:
        key = (cand.foundation, cand.component, cand.transport, cand.address, cand.port, cand.type)
        if key not in seen:
            seen.add(key)
            candidates.append(cand)
    transports = _unique([c.transport.upper() for c in candidates])
    return CandidateSet(
        rows=[candidate_row(c) for c in candidates],
        addresses=_unique([c.address for c in candidates]),
        transports=transports,
        ports_by_transport={t: _unique([c.port for c in candidates if c.transport.upper() == t]) for t in transports},
        rtcp_component=any(c.component == 2 for c in candidates),
        count=len(candidates),
        end_of_candidates=description.end_of_candidates,
        types=_unique([c.type for c in candidates]),
        priorities_by_transport={
            t: _unique([c.priority for c in candidates if c.transport.upper() == t]) for t in transports
        },
        families=_unique([c.address_family for c in candidates]),
    )


@dataclass
class SideCandidates:
    """The candidates one side of a negotiation sent, with the side's name for a table's title."""

    side: str  # "offer" | "answer" | the description's type
    origin: str | None  # "local" | "remote" when the record says which side was ours, else None
    candidates: CandidateSet

    @property
    def title(self) -> str:
        return f"Candidates of the {self.side}" + (f" ({self.origin})" if self.origin else "")


def negotiated_candidates(negotiation: Negotiation) -> list[SideCandidates]:
    """Both sides' candidates: the offerer's and the answerer's (a server that offers, answered by
    a browser, has its candidates in the offer). One entry for a lone description."""
    sides = [(name, d) for name, d in (("offer", negotiation.offer), ("answer", negotiation.answer)) if d is not None]
    if len(sides) == 1:
        d = sides[0][1]
        return [SideCandidates(d.type or "description", None, candidate_set(d))]
    origin = {negotiation.local: "local"} if negotiation.local else {}
    if negotiation.local:
        origin[next(n for n, _ in sides if n != negotiation.local)] = "remote"
    return [SideCandidates(name, origin.get(name), candidate_set(d)) for name, d in sides]
