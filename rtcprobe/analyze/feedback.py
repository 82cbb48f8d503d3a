"""RTCP feedback counts per direction, counted from the capture's `rtcp` events."""

from __future__ import annotations

from dataclasses import dataclass, field

from ..capture import Capture
from ..capture import events as ev

#: The feedback a reader asks about first, in the order tables show them.
FEEDBACK_TYPES = ("NACK", "PLI", "FIR", "REMB", "TWCC", "SR", "RR", "XR", "SDES", "BYE")


@dataclass
class FeedbackCounts:
    sent: dict[str, int] = field(default_factory=dict)
    received: dict[str, int] = field(default_factory=dict)
    nack_lost_sequence_numbers: dict[str, int] = field(default_factory=dict)  # direction -> count

    def rows(self) -> list[tuple[str, int, int]]:
        names = list(FEEDBACK_TYPES) + sorted((set(self.sent) | set(self.received)) - set(FEEDBACK_TYPES))
        return [(n, self.sent.get(n, 0), self.received.get(n, 0)) for n in names]


def feedback_counts(capture: Capture) -> FeedbackCounts:
    counts = FeedbackCounts()
    for e in capture.of(ev.RTCP):
        direction = e.get("direction")
        bucket = counts.sent if direction == "sent" else counts.received
        name = e.get("packet_type", "UNKNOWN")
        bucket[name] = bucket.get(name, 0) + 1
        if name == "NACK":
            counts.nack_lost_sequence_numbers[direction] = (
                counts.nack_lost_sequence_numbers.get(direction, 0) + len(e.get("lost") or []))
    return counts
