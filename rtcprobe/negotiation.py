"""What analyzers take: an offer and/or an answer, plus the HTTP facts of the exchange when known."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .sdp import SessionDescription


@dataclass
class Negotiation:
    """One offer/answer exchange. Captures, snapshots, dumps and HARs all reduce to this."""

    source: str
    offer: SessionDescription | None = None
    answer: SessionDescription | None = None
    http: list[dict[str, Any]] = field(default_factory=list)  # `http` events (rtcprobe.capture.events)
    protocol: str | None = None
    label: str | None = None

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
    def warnings(self) -> list[str]:
        return [w for d in (self.offer, self.answer) if d for w in d.warnings]
