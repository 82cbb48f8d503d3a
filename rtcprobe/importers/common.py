"""What every importer shares: one recorder per imported session, and the two sinks it writes
to — a capture file through CaptureWriter, or a Capture in memory.

Importers never build capture events themselves: they call a `Recorder`, which turns browser
facts (epoch milliseconds, descriptions, candidates, states, stats) into the events of
`rtcprobe.capture.events` on a capture clock that starts at the session's first event. The same
recorder feeds both sinks, so a file written by `rtcprobe import` and a dump handed to
`rtcprobe analyze` hold the same events.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

from ..capture import Capture, CaptureWriter, capture_header
from ..capture import events as ev
from ..redact import redact
from ..sdp import CandidateError, SdpError, parse_candidate, parse_description

#: What browsers and tools add to the name of a dump or HAR.
RECORD_SUFFIXES = frozenset({".gz", ".json", ".txt", ".har", ".jsonl", ".log"})


@dataclass
class SessionInfo:
    """Who an imported session is: its file, its format, its key in the file, and its start."""

    source: Path
    format: str  # "webrtc-internals" | "rtcstatsdump" | "har"
    key: str  # PeerConnection id ("7-1") or exchange number ("1")
    start_ms: float  # epoch ms of the first event: t = 0
    target: str = ""  # page URL (dumps) or signaling URL (HAR)
    protocol: str | None = None  # recognised signaling protocol (HAR); None for dumps
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def stem(self) -> str:
        """The file name without the suffixes a dump or HAR is saved with (`call.2025.txt.gz` → `call.2025`)."""
        name = self.source.name
        while (suffix := Path(name).suffix.lower()) in RECORD_SUFFIXES:
            name = name[: -len(suffix)]
        return name or self.source.name

    @property
    def id(self) -> str:
        return f"{self.stem}#{self.key}"

    @property
    def header_protocol(self) -> str:
        return f"import-{self.format}"

    @property
    def options(self) -> dict[str, Any]:
        return {"source": str(self.source), "format": self.format, "pc": self.key,
                "protocol": self.protocol, **self.extra}

    def header_overrides(self) -> dict[str, Any]:
        started = datetime.fromtimestamp(self.start_ms / 1000.0, UTC)
        return {"id": self.id, "started_at": started.isoformat(), "started_at_epoch": started.timestamp()}


class Sink(Protocol):
    def write(self, event: str, t: float | None = None, **fields: Any) -> dict[str, Any]: ...

    def close(self) -> None: ...


class FileSink(CaptureWriter):
    """CaptureWriter (one redacted line per event) whose header carries the imported session's
    wall clock and identity instead of the moment of the import."""

    def __init__(self, path: Path, info: SessionInfo) -> None:
        super().__init__(path, target=info.target, protocol=info.header_protocol, options=info.options,
                         **info.header_overrides())


class MemorySink:
    """The same events, redacted the same way, kept in a list for a Capture in memory."""

    def __init__(self, info: SessionInfo) -> None:
        self.info = info
        self.header = redact(capture_header(target=info.target, protocol=info.header_protocol,
                                            options=info.options, **info.header_overrides()))
        self.events: list[dict[str, Any]] = []

    def write(self, event: str, t: float | None = None, **fields: Any) -> dict[str, Any]:
        record = redact({"event": event, "t": round(t or 0.0, 6), **fields})
        self.events.append(record)
        return record

    def close(self) -> None:
        pass

    def capture(self, problems: list[str]) -> Capture:
        return Capture(str(self.info.source), self.header, self.events, cut=False, problems=list(problems))


SinkFactory = Callable[[SessionInfo], Sink]

#: What the browser state names map to (lower-cased, "on" prefix dropped) -> capture machine.
STATE_MACHINES = {
    "signalingstatechange": "signaling",
    "iceconnectionstatechange": "ice_connection",
    "connectionstatechange": "connection",
    "icegatheringstatechange": "ice_gathering",
}


class Recorder:
    """Turns one session's browser facts into capture events on the session's clock."""

    def __init__(self, info: SessionInfo, sink: Sink) -> None:
        self.info = info
        self.sink = sink
        self.problems: list[str] = []
        self.last_ms = info.start_ms
        self._candidates: set[tuple[str, str, str | None]] = set()
        self._states: dict[str, str] = {}
        self.reached: set[tuple[str, str]] = set()
        self.errors: list[str] = []
        self.answer_applied = False
        self.counts: dict[str, int] = {}

    def t(self, ms: float) -> float:
        self.last_ms = max(self.last_ms, ms)
        return max(0.0, (ms - self.info.start_ms) / 1000.0)

    def report_time(self, ms: Any) -> Any:
        """A stats report's own timestamp on the capture clock (seconds)."""
        return round((ms - self.info.start_ms) / 1000.0, 6) if isinstance(ms, int | float) else ms

    def _write(self, event: str, ms: float, **fields: Any) -> None:
        self.counts[event] = self.counts.get(event, 0) + 1
        self.sink.write(event, self.t(ms), **fields)

    def description(self, ms: float, role: str, kind: str, sdp: str) -> None:
        """An applied local or remote description, and every candidate written in it."""
        self._write(ev.SDP, ms, role=role, type=kind, sdp=sdp)
        if role == "remote" and kind in ("answer", "pranswer") or role == "local" and kind == "answer":
            self.answer_applied = True
        try:
            parsed = parse_description(sdp, f"{self.info.id} ({role} {kind})", type=kind)
        except SdpError as exc:
            self.problems.append(str(exc))
            return
        for section in parsed.media:
            for candidate in section.candidates:
                self.candidate(ms, role, candidate.to_sdp(), section.mid, section.index)
            if section.end_of_candidates:
                self.candidate(ms, role, "", section.mid, section.index)

    def candidate(self, ms: float, side: str, text: str, mid: str | None, mline_index: int | None) -> None:
        """A trickled or written candidate, in the probe's spelling; each one once per side."""
        text = (text or "").strip().removeprefix("a=")
        if text:
            try:
                text = parse_candidate(text, mid=mid).to_sdp()
            except CandidateError as exc:
                self.problems.append(f"{self.info.id}: {side} candidate kept as written ({exc})")
        key = (side, text or "end-of-candidates", mid)  # BUNDLE repeats a candidate in every m-line
        if key in self._candidates:
            return
        self._candidates.add(key)
        self._write(ev.CANDIDATE, ms, side=side, candidate=text, mid=mid,
                    mline_index=mline_index if isinstance(mline_index, int) else None)

    def state(self, ms: float, machine: str, state: str) -> None:
        if self._states.get(machine) == state:
            return
        self._states[machine] = state
        self.reached.add((machine, state))
        self._write(ev.STATE, ms, machine=machine, state=state)

    def stats(self, ms: float, reports: list[dict[str, Any]]) -> None:
        if reports:
            self._write(ev.STATS, ms, reports=reports)

    def error(self, ms: float, phase: str, message: str) -> None:
        self.errors.append(message)
        self._write(ev.ERROR, ms, phase=phase, message=message)

    def http(self, ms: float, event: dict[str, Any]) -> None:
        fields = {k: v for k, v in event.items() if k not in ("event", "t")}
        self._write(ev.HTTP, ms, **fields)

    def finish(self, reason: str | None = None, diagnosis: str | None = None) -> None:
        """The `end` event: what the record shows about how far the session got."""
        duration = round((self.last_ms - self.info.start_ms) / 1000.0, 6)
        if reason is None:
            reason, diagnosis = self._outcome()
        self.sink.write(ev.END, duration, reason=reason, diagnosis=diagnosis or "", duration=duration)
        self.sink.close()

    def _outcome(self) -> tuple[str, str]:
        source = f"imported from {self.info.format} {self.info.source.name} (PeerConnection {self.info.key})"
        connected = ("connection", "connected") in self.reached or any(
            (("ice_connection", s) in self.reached) for s in ("connected", "completed"))
        failed = ("connection", "failed") in self.reached or ("ice_connection", "failed") in self.reached
        last = ", ".join(f"{m} {s}" for m, s in self._states.items() if m in ("connection", "ice_connection"))
        if failed and not connected:
            return "ice", f"{source}: ICE failed ({last})"
        if connected:
            later = [f"{m} {s}" for m, s in self._states.items()
                     if m in ("connection", "ice_connection") and s not in ("connected", "completed")]
            return "completed", f"{source}: connected" + (f", then {', '.join(later)}" if later else "")
        if self.errors:
            return "error", f"{source}: {self.errors[0]}"
        if not self.answer_applied:
            return "error", f"{source}: no answer was applied before the record ends"
        return "ice", f"{source}: never connected ({last or 'no ICE state recorded'})"
