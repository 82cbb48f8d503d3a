"""A capture as loaded: header, events on the capture clock, and the negotiation they hold."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cached_property
from typing import TYPE_CHECKING, Any

from ..negotiation import Negotiation, Round, default_round
from ..sdp import Candidate, SdpError, SessionDescription, parse_candidate, parse_description
from . import events as ev
from .rounds import build_rounds
from .views import view

if TYPE_CHECKING:
    import pandas as pd


@dataclass
class Capture:
    """One session's record. `cut` is true when it ended without an `end` event (crash, kill)."""

    path: str
    header: dict[str, Any]
    events: list[dict[str, Any]]
    cut: bool = False
    problems: list[str] = field(default_factory=list)

    # -- identity -------------------------------------------------------------------------
    @property
    def id(self) -> str:
        return self.header.get("id") or self.path.rsplit("/", 1)[-1].removesuffix(".jsonl")

    @property
    def protocol(self) -> str | None:
        return self.header.get("protocol")

    @property
    def target(self) -> str | None:
        return self.header.get("target")

    @property
    def started_at(self) -> datetime | None:
        epoch = self.header.get("started_at_epoch")
        return datetime.fromtimestamp(epoch, UTC) if isinstance(epoch, int | float) else None

    def wall_clock(self, t: float) -> datetime | None:
        """The wall-clock instant of capture time `t`."""
        epoch = self.header.get("started_at_epoch")
        return datetime.fromtimestamp(epoch + t, UTC) if isinstance(epoch, int | float) else None

    # -- events ---------------------------------------------------------------------------
    def of(self, *names: str) -> list[dict[str, Any]]:
        return [e for e in self.events if e.get("event") in names]

    def first(self, name: str, **match: Any) -> dict[str, Any] | None:
        return next((e for e in self.events if e.get("event") == name
                     and all(e.get(k) == v for k, v in match.items())), None)

    @property
    def end(self) -> dict[str, Any] | None:
        return self.first(ev.END)

    @property
    def reason(self) -> str:
        return self.end["reason"] if self.end else "cut"

    @property
    def ok(self) -> bool:
        return self.reason == "completed"

    @property
    def diagnosis(self) -> str:
        if self.end:
            return self.end.get("diagnosis", "")
        return "the capture ends without an end event: the probe was killed or crashed"

    @property
    def duration(self) -> float:
        if self.end and isinstance(self.end.get("duration"), int | float):
            return float(self.end["duration"])
        return max((float(e.get("t", 0)) for e in self.events), default=0.0)

    def states(self, machine: str) -> list[tuple[float, str]]:
        return [(e["t"], e["state"]) for e in self.of(ev.STATE) if e.get("machine") == machine]

    def state_reached(self, machine: str, state: str) -> float | None:
        return next((t for t, s in self.states(machine) if s == state), None)

    @property
    def http(self) -> list[dict[str, Any]]:
        return self.of(ev.HTTP)

    @property
    def stats_samples(self) -> list[dict[str, Any]]:
        return self.of(ev.STATS)

    def last_stats(self) -> list[dict[str, Any]]:
        samples = self.stats_samples
        return samples[-1]["reports"] if samples else []

    # -- negotiation ----------------------------------------------------------------------
    def _description(self, role: str) -> SessionDescription | None:
        event = self.first(ev.SDP, role=role)
        if event is None:
            return None
        try:
            return parse_description(event["sdp"], f"{self.path} ({role} {event.get('type')})", type=event.get("type"))
        except SdpError as exc:
            self.problems.append(str(exc))
            return None

    @cached_property
    def local_description(self) -> SessionDescription | None:
        return self._description("local")

    @cached_property
    def remote_description(self) -> SessionDescription | None:
        return self._description("remote")

    @property
    def offer(self) -> SessionDescription | None:
        return next((d for d in (self.local_description, self.remote_description) if d and d.type == "offer"), None)

    @property
    def answer(self) -> SessionDescription | None:
        return next((d for d in (self.local_description, self.remote_description) if d and d.type == "answer"), None)

    @cached_property
    def rounds(self) -> list[Round]:
        """Every offer/answer round, oldest first, each description with its side's trickled candidates."""
        return build_rounds(self.path, self.events, self.problems)

    @property
    def negotiation(self) -> Negotiation:
        """The session as analyzers see it: the last applied round (`at_round` picks another), candidates
        from the descriptions and from `candidate` events alike."""
        rounds = self.rounds
        base = Negotiation(self.path, None, None, self.http, self.protocol, label=self.id, rounds=rounds,
                           problems=self.problems)
        return base.at_round(default_round(rounds)) if rounds else base

    def candidate_list(self, side: str) -> list[Candidate]:
        """Candidates as trickled or found in the descriptions ("local" or "remote")."""
        out = []
        for e in self.of(ev.CANDIDATE):
            if e.get("side") == side and e.get("candidate"):
                try:
                    out.append(parse_candidate(e["candidate"], mid=e.get("mid")))
                except ValueError as exc:
                    self.problems.append(f"{self.path}: bad {side} candidate at t={e.get('t')}: {exc}")
        return out

    # -- views: pandas frames (rtcprobe.frames documents the columns) and notebook display ---------
    def candidates(self) -> pd.DataFrame:
        """Local and remote candidates, priority decoded, the selected pair flagged."""
        return view("frame", "candidates")(self)

    def timeline(self) -> pd.DataFrame:
        """One row per event."""
        return view("frame", "timeline")(self)

    def stats(self) -> pd.DataFrame:
        """Long format: time, stats type, id/SSRC, kind, metric, value."""
        return view("frame", "stats")(self)

    def stats_wide(self, type: str | None = None) -> pd.DataFrame:  # noqa: A002 - the W3C name
        """One row per sample and stats object; `type` picks one W3C type, e.g. "outbound-rtp"."""
        return view("frame", "stats_wide")(self, type)

    def rtcp(self) -> pd.DataFrame:
        """One row per RTCP packet, both directions."""
        return view("frame", "rtcp")(self)

    def datachannel(self) -> pd.DataFrame:
        """Data-channel messages both ways, with sizes and JSON `type`."""
        return view("frame", "datachannel")(self)

    def latency(self) -> pd.DataFrame:
        """Connect-time phases and response latencies."""
        return view("frame", "latency")(self)

    def turns(self) -> pd.DataFrame:
        """Scripted voice turns (capture --turns): voice-to-voice latency and its breakdown."""
        return view("frame", "turns")(self)

    def _repr_html_(self) -> str:
        return view("html", "capture_summary_html")(self)

    def __repr__(self) -> str:
        return (f"<Capture {self.id} protocol={self.protocol} reason={self.reason} "
                f"duration={self.duration:.1f}s events={len(self.events)}>")
