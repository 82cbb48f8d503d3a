"""A capture's offer/answer rounds, each description carrying the candidates its side trickled.

A session may negotiate more than once (a data channel or a track added later, an ICE restart):
every applied description is an `sdp` event, in order, and an offer opens a round that its
answer closes. Browsers send most candidates apart from the description (`candidate` events);
a candidate belongs to the description its side had applied when it was sent, and stays valid
for every description of that side with the same ICE credentials (no ICE restart in between).
Attaching them here is what lets analyzers read a description and see every candidate.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..negotiation import Round
from ..sdp import (
    Candidate,
    CandidateError,
    SdpError,
    SessionDescription,
    parse_candidate,
    parse_description,
)
from . import events as ev


@dataclass
class _Applied:
    index: int  # position in the capture's events
    role: str  # "local" | "remote"
    description: SessionDescription

    @property
    def ufrag(self) -> str | None:
        return next((m.ice_ufrag for m in self.description.media if m.ice_ufrag), None)


def _key(c: Candidate) -> tuple:
    return (c.foundation, c.component, c.transport.lower(), c.address, c.port, c.type)


def build_rounds(path: str, events: list[dict[str, Any]], problems: list[str]) -> list[Round]:
    """Every offer/answer round of the events, oldest first; unparsable descriptions go to `problems`."""
    applied: list[_Applied] = []
    for i, e in enumerate(events):
        if e.get("event") != ev.SDP or e.get("role") not in ("local", "remote"):
            continue
        try:
            parsed = parse_description(e.get("sdp") or "", f"{path} ({e['role']} {e.get('type')})", type=e.get("type"))
        except SdpError as exc:
            if str(exc) not in problems:  # Capture.local_description may have said it already
                problems.append(str(exc))
            continue
        applied.append(_Applied(i, e["role"], parsed))
    _attach_candidates(applied, events)
    rounds: list[Round] = []
    for a in applied:
        kind = a.description.type
        if kind == "offer" or not rounds or rounds[-1].answer is not None and kind not in ("answer", "pranswer"):
            rounds.append(Round())
        current = rounds[-1]
        if kind == "offer":
            current.offer = a.description
            current.local = "offer" if a.role == "local" else "answer"
        else:  # answer, pranswer (a final answer replaces a provisional one), or a description without a type
            current.answer = a.description
            current.local = current.local or ("answer" if a.role == "local" else "offer")
    return rounds


def _attach_candidates(applied: list[_Applied], events: list[dict[str, Any]]) -> None:
    """Add each `candidate` event to the descriptions of its side that share its ICE session."""
    for role in ("local", "remote"):
        mine = [a for a in applied if a.role == role]
        if not mine:
            continue
        for i, e in enumerate(events):
            if e.get("event") != ev.CANDIDATE or e.get("side") != role:
                continue
            owner = next((a for a in reversed(mine) if a.index < i), mine[0])
            text = (e.get("candidate") or "").strip().removeprefix("a=")
            candidate = None
            if text:
                try:
                    candidate = parse_candidate(text, mid=e.get("mid"))
                except (CandidateError, ValueError):
                    continue  # Capture.candidate_list reports it
            for a in mine:
                ufrag = a.ufrag
                same_session = (candidate.ufrag == ufrag if candidate is not None and candidate.ufrag and ufrag
                                else owner.ufrag == ufrag)
                if same_session:
                    _add(a.description, candidate, e.get("mid"), e.get("mline_index"))


def _add(d: SessionDescription, candidate: Candidate | None, mid: Any, index: Any) -> None:
    """One trickled candidate (None: end-of-candidates) under its m-line, unless already written there."""
    section = d.section(str(mid)) if mid is not None else None
    if section is None and isinstance(index, int) and 0 <= index < len(d.media):
        section = d.media[index]
    if candidate is None:
        if section is not None:
            section.end_of_candidates = True
        else:
            d.loose_end_of_candidates = True
        return
    target = section.candidates if section is not None else d.loose_candidates
    known = {_key(c) for c in (target if section is not None else d.candidates)}
    if _key(candidate) not in known:
        target.append(candidate)
