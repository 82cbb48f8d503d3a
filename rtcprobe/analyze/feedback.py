"""RTCP feedback counts per direction: from the capture's `rtcp` events (packets the probe saw), or
for a dump, which holds no packets, from the getStats counters that count the same messages."""

from __future__ import annotations

from dataclasses import dataclass, field

from ..capture import Capture
from ..capture import events as ev
from .evidence import counter, evidence, last_reports

#: The feedback a reader asks about first, in the order tables show them.
FEEDBACK_TYPES = ("NACK", "PLI", "FIR", "REMB", "TWCC", "SR", "RR", "XR", "SDES", "BYE")
#: What getStats counts (webrtc-stats: inbound-rtp counts what it sent, outbound-rtp what it received).
STATS_COUNTERS = {"NACK": "nackCount", "PLI": "pliCount", "FIR": "firCount"}

SOURCE_PACKETS = "packets"
SOURCE_STATS = "stats"
SOURCE_NONE = "none"


@dataclass
class FeedbackCounts:
    sent: dict[str, int] = field(default_factory=dict)
    received: dict[str, int] = field(default_factory=dict)
    nack_lost_sequence_numbers: dict[str, int] = field(default_factory=dict)  # direction -> count
    source: str = SOURCE_PACKETS  # "packets" | "stats" | "none"
    note: str = "counted from every decrypted RTCP packet, both ways (TWCC = transport-cc)"

    @property
    def types(self) -> tuple[str, ...]:
        """The packet types this source can count at all (stats count only NACK, PLI and FIR)."""
        if self.source == SOURCE_PACKETS:
            return FEEDBACK_TYPES
        return tuple(STATS_COUNTERS) if self.source == SOURCE_STATS else ()

    def rows(self) -> list[tuple[str, int | None, int | None]]:
        """(type, sent, received); from stats, a count no stream reports is None (unknown), not 0."""
        known = self.types
        extra = sorted((set(self.sent) | set(self.received)) - set(known))
        default = 0 if self.source == SOURCE_PACKETS else None
        return [(n, self.sent.get(n, default), self.received.get(n, default)) for n in list(known) + extra]


def feedback_counts(capture: Capture) -> FeedbackCounts:
    if not evidence(capture).packets:
        return stats_feedback(capture)
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


def stats_feedback(capture: Capture) -> FeedbackCounts:
    """NACK/PLI/FIR from inbound-rtp (sent by this side) and outbound-rtp (received), summed over
    every stream's last sample. A count no stream reports (audio has no PLI) is left out, not 0."""
    sent: dict[str, int] = {}
    received: dict[str, int] = {}
    for report in last_reports(capture, "inbound-rtp", "outbound-rtp"):
        bucket = sent if report.get("type") == "inbound-rtp" else received
        for name, member in STATS_COUNTERS.items():
            value = counter(report, member)
            if value is not None:
                bucket[name] = bucket.get(name, 0) + value
    if not sent and not received:
        return FeedbackCounts(source=SOURCE_NONE, note="no packets in a dump, and its stats hold no NACK, PLI or "
                                                      "FIR counters: RTCP feedback is unknown")
    return FeedbackCounts(sent, received, source=SOURCE_STATS,
                          note="from getStats counters (no packets in a dump): inbound-rtp nackCount/pliCount/"
                               "firCount were sent, outbound-rtp's received; other RTCP is not observable")
