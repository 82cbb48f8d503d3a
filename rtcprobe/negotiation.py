"""What analyzers take: an offer and/or an answer, plus the HTTP facts of the exchange when known."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

from .sdp import SessionDescription


@dataclass
class Round:
    """One offer/answer exchange of a session; a renegotiation adds one (JSEP §5.1)."""

    offer: SessionDescription | None = None
    answer: SessionDescription | None = None
    local: str | None = None  # which of the two this side sent, "offer" or "answer"; None when unknown


@dataclass
class Negotiation:
    """The offer/answer an analyzer describes. Captures, snapshots, dumps and HARs all reduce to this.

    `offer`/`answer` are one round: by default the last applied one (the state the session ended
    in); `rounds` holds every round when the record has several, `at_round` picks another."""

    source: str
    offer: SessionDescription | None = None
    answer: SessionDescription | None = None
    http: list[dict[str, Any]] = field(default_factory=list)  # `http` events (rtcprobe.capture.events)
    protocol: str | None = None
    label: str | None = None
    local: str | None = None  # "offer" or "answer": the one this side sent (captures); None when unknown
    rounds: list[Round] = field(default_factory=list)  # every round, oldest first; empty for one-shot files
    round: int | None = None  # 1-based number of the round in offer/answer (None: the only one)
    problems: list[str] = field(default_factory=list)  # what the file's reader skipped (capture lines ...)

    @property
    def primary(self) -> SessionDescription:
        """The description that says what was agreed: the answer when there is one."""
        chosen = self.answer or self.offer
        if chosen is None:
            raise ValueError(f"{self.source}: holds no session description")
        return chosen

    def side(self, which: str) -> SessionDescription | None:
        return {"offer": self.offer, "answer": self.answer, "primary": self.answer or self.offer}[which]

    @property
    def round_count(self) -> int:
        return len(self.rounds) or 1

    def at_round(self, number: int) -> Negotiation:
        """The same session described from round `number` (1-based) of its offer/answer exchanges."""
        if not 1 <= number <= self.round_count:
            raise ValueError(f"{self.source}: has {self.round_count} offer/answer round(s); there is no round {number}")
        if not self.rounds:
            return self
        chosen = self.rounds[number - 1]
        return dataclasses.replace(self, offer=chosen.offer, answer=chosen.answer, local=chosen.local, round=number)

    @property
    def warnings(self) -> list[str]:
        return self.problems + [w for d in (self.offer, self.answer) if d for w in d.warnings]


def default_round(rounds: list[Round]) -> int:
    """The last applied round (1-based): the last one that was answered, else the last one."""
    answered = [i for i, r in enumerate(rounds, 1) if r.answer is not None]
    return answered[-1] if answered else len(rounds)
