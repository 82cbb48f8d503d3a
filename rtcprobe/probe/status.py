"""What a probe run reports: its live status, its result, and the failure that ends a phase."""

from __future__ import annotations

from dataclasses import dataclass, field


class ProbeFailure(Exception):
    """A phase failed: `reason` is one of capture.events.END_REASONS."""

    def __init__(self, reason: str, diagnosis: str) -> None:
        super().__init__(diagnosis)
        self.reason = reason
        self.diagnosis = diagnosis


@dataclass
class ProbeStatus:
    """What a live view shows; updated by the session, read by the view."""

    phase: str = "starting"
    elapsed: float = 0.0
    connection_state: str = "new"
    ice_state: str = "new"
    packets_sent: int = 0
    packets_received: int = 0
    round_trip_time: float | None = None
    messages_received: int = 0
    reason: str | None = None
    diagnosis: str = ""


@dataclass
class ProbeResult:
    path: str
    reason: str
    diagnosis: str
    duration: float
    status: ProbeStatus = field(default_factory=ProbeStatus)
    #: What went wrong without failing the session (a refused teardown): shown, but the exit status
    #: stays that of the session, since the measurement itself is sound.
    warnings: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.reason == "completed"
