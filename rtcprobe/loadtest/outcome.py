"""One load session's figures, read from its capture with the analyzers `report` uses."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from ..analyze.latency import connect_breakdown
from ..analyze.streams import pair_rtt
from ..analyze.voice import voice_summary
from ..capture import Capture

#: The metrics a summary gives percentiles of (milliseconds, but loss: percent).
METRICS = ("http", "ice", "dtls", "first_media", "connected", "connect", "loss_pct", "rtt", "v2v")


@dataclass
class Outcome:
    """What one session did: its end reason as a failure label ("" when completed) and its figures."""

    index: int
    capture: str  # file name, relative to the load's output directory
    failure: str = ""  # "" when completed; else "http 401", "ice", "target busy (503, Retry-After 5)", ...
    diagnosis: str = ""
    retried: bool = False  # a 503 whose Retry-After was honoured once; the figures are the retry's
    retry_after: float | None = None  # the Retry-After of a 503 answer, seconds
    figures: dict[str, float | None] = field(default_factory=dict)  # METRICS -> value (ms or %)
    v2v: list[float] = field(default_factory=list)  # every answered turn's voice-to-voice, ms

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _ms(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds * 1000, 3)


def busy_retry_after(capture: Capture) -> float | None:
    """The Retry-After (s) of the offer's 503 answer; None when the offer was not answered 503."""
    for exchange in capture.http:
        if exchange.get("status") == 503:
            headers = {k.lower(): v for k, v in (exchange.get("response_headers") or {}).items()}
            try:
                return float(headers.get("retry-after", ""))
            except ValueError:
                return 0.0  # a 503 without a usable delay (or an HTTP date): busy, no wait said
    return None


def failure_label(capture: Capture) -> str:
    """The reason a summary counts a failure under: the end reason, with the HTTP status for `http`."""
    if capture.ok:
        return ""
    retry_after = busy_retry_after(capture)
    if retry_after is not None:
        return f"target busy (503, Retry-After {retry_after:g})"
    if capture.reason == "http":
        status = next((e.get("status") for e in capture.http if e.get("status")), None)
        return f"http {status}" if status else "http (no answer)"
    return capture.reason or "unfinished"


def _loss_pct(capture: Capture) -> float | None:
    """Packets lost of those expected, over the inbound RTP streams of the last stats sample."""
    inbound = [r for r in capture.last_stats() if r.get("type") == "inbound-rtp"]
    received = sum(r.get("packetsReceived") or 0 for r in inbound)
    lost = sum(max(r.get("packetsLost") or 0, 0) for r in inbound)
    return round(100 * lost / (received + lost), 3) if received + lost else None


def outcome_of(capture: Capture, index: int, name: str) -> Outcome:
    """The figures of one capture (None where the session never got there)."""
    breakdown = connect_breakdown(capture)
    phases = {p.name: p.duration for p in breakdown.phases}
    dtls = breakdown.phase("dtls")  # capture start to connected: a browser's offer-to-"connected" span
    rtts = [rtt for _, rtt in pair_rtt(capture)]
    voice = voice_summary(capture)
    v2v = [t["v2v_ms"] for t in voice.turns if t.get("answered") and isinstance(t.get("v2v_ms"), int | float)]
    figures = {"http": _ms(phases.get("http")), "ice": _ms(phases.get("ice")), "dtls": _ms(phases.get("dtls")),
               "first_media": _ms(phases.get("first media")),
               "connected": _ms(dtls.end if dtls is not None and breakdown.failed_phase != "dtls" else None),
               "connect": _ms(breakdown.total),
               "loss_pct": _loss_pct(capture), "rtt": _ms(sorted(rtts)[len(rtts) // 2] if rtts else None)}
    end = capture.end or {}
    return Outcome(index, name, failure_label(capture), str(end.get("diagnosis", "")),
                   retry_after=busy_retry_after(capture), figures=figures, v2v=v2v)
