"""What a probe run reports: its live status, its result, and the failure that ends a phase."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any

#: The live view ticks this often (seconds) whatever the session waits for: an HTTP answer that
#: takes 12 s must not show "elapsed 0.0 s" for 12 s.
TICK = 1.0


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
    #: When (session time, s) the current wait ends: the HTTP answer's timeout while signaling,
    #: the run's end while running; None when no deadline is known for the phase.
    deadline: float | None = None
    #: Over the last stats interval (bit/s, RTP payload and headers as counted by bytesSent/Received).
    bitrate_sent: float | None = None
    bitrate_received: float | None = None
    #: Of what was sent to us, the share lost so far (inbound-rtp packetsLost / expected); and of
    #: what we sent, the share the peer reports lost (remote-inbound-rtp). None until reported.
    loss_received: float | None = None
    loss_sent: float | None = None
    _counters: tuple[float, int, int] | None = field(default=None, repr=False, compare=False)

    @property
    def time_left(self) -> float | None:
        return None if self.deadline is None else max(0.0, self.deadline - self.elapsed)

    def update_from_stats(self, reports: list[dict[str, Any]], now: float) -> None:
        """Rates and losses of one stats snapshot (W3C reports). A rate needs two snapshots: the
        first only records the counters."""
        sent = sum(r.get("bytesSent", 0) for r in reports if r.get("type") == "outbound-rtp")
        received = sum(r.get("bytesReceived", 0) for r in reports if r.get("type") == "inbound-rtp")
        if self._counters is not None and now > self._counters[0]:
            span = now - self._counters[0]
            self.bitrate_sent = max(0, sent - self._counters[1]) * 8 / span
            self.bitrate_received = max(0, received - self._counters[2]) * 8 / span
        self._counters = (now, sent, received)
        self.loss_received = _loss_share([r for r in reports if r.get("type") == "inbound-rtp"], "packetsReceived")
        remote = [r for r in reports if r.get("type") == "remote-inbound-rtp"]
        outbound = {r.get("ssrc"): r.get("packetsSent", 0) for r in reports if r.get("type") == "outbound-rtp"}
        if remote:
            lost = sum(max(0, r.get("packetsLost", 0)) for r in remote)
            sent_packets = sum(outbound.get(r.get("ssrc"), 0) for r in remote)
            self.loss_sent = lost / sent_packets if sent_packets else None


def _loss_share(reports: list[dict[str, Any]], counted: str) -> float | None:
    """lost / (counted + lost) over the reports carrying packetsLost; None when none does."""
    carrying = [r for r in reports if "packetsLost" in r]
    if not carrying:
        return None
    lost = sum(max(0, r["packetsLost"]) for r in carrying)
    total = lost + sum(r.get(counted, 0) for r in carrying)
    return lost / total if total else None


@contextlib.asynccontextmanager
async def ticking(publish: Callable[[], None], interval: float = TICK) -> AsyncIterator[None]:
    """Publish the status every `interval` while the body runs, whatever the body awaits (an HTTP
    answer, ICE): elapsed time and time left move on their own."""

    async def tick() -> None:
        while True:
            await asyncio.sleep(interval)
            publish()

    task = asyncio.ensure_future(tick())
    try:
        yield
    finally:  # not awaited: a cancellation of the body must reach its caller untouched
        task.cancel()


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
