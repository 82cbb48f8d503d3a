"""rtcstats-server dumps: what Jitsi's rtcstats-server (and the original rtcstats-server) store.

Layout (jitsi/rtcstats-server `src/test/dumps/*`, `StandardFeatureExtractor.js`,
`utils/getstats-deltacompression.js`): no `RTCStatsDump` header and no metadata line; one JSON
array per line, `[method, connectionId, value, timestamp, (sequence)]`, where the timestamp is
absolute (epoch ms) on every line, not a delta. Page events have a null connection id
(`connectionInfo` carries the page URL and user agent). The original rtcstats-server wrote the
same lines after a first line holding the client object (`{"url", "userAgent", ...}`).
`getstats` (lower case) is delta-compressed the Jitsi way: a report absent from a line was
removed, a report present holds only what changed, the shared timestamp sits in the top-level
key `timestamp` and a report's own `timestamp: 0` means "that one". `getStats` is a full report.
Old clients sent pre-standard stats; `legacy_stats` keeps only what has a W3C name.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import InputError, json_value
from .common import Recorder, SessionInfo, SinkFactory
from .files import NoProgress, Progress, epoch_ms, ice_server_urls, iter_lines
from .legacy_stats import dropped_note, standardise
from .rtcstatsdump import PAGE_EVENTS, Connection, apply_trace, shape, user_agent
from .trace import TraceMapper

FORMAT = "rtcstats-server"
EXPECTED = "one JSON array per line: [method, connection id, value, timestamp]"
_ARRAY_LINE = re.compile(rb'\[\s*"[^"\r\n]{1,100}"\s*,\s*(?:null|"[^"\r\n]*"|-?\d+)\s*,')
_OBJECT_THEN_ARRAY = re.compile(rb'\{[^\n]*\}\s*\r?\n\s*\[\s*"')
_DESCRIPTION_CALLS = ("setlocaldescription", "setremotedescription", "createofferonsuccess", "createansweronsuccess")
_CANDIDATE_CALLS = ("addicecandidate", "onicecandidate", "icecandidate")


def sniff(head: bytes) -> bool:
    """A first line `[method, connection id, value, epoch ms, ...]` (whole when it fits in the head,
    else by its start), or a client object line followed by such a line."""
    text = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    if _OBJECT_THEN_ARRAY.match(text):
        return True
    if not _ARRAY_LINE.match(text):
        return False
    first, newline, _ = text.partition(b"\n")
    if not newline:
        return True  # a first line longer than the head: its start has the shape
    try:
        item = json_value(first)
    except ValueError:
        return False
    return len(item) >= 4 and isinstance(item[3], int | float) and not isinstance(item[3], bool)


def decompress(base: dict[str, Any], delta: dict[str, Any]) -> dict[str, Any]:
    """One full getStats() result from the previous one and a Jitsi `getstats` delta (see module doc)."""
    shared = delta.get("timestamp")
    full: dict[str, Any] = {}
    for stats_id, report in delta.items():
        if stats_id == "timestamp" or not isinstance(report, dict):
            continue
        old = base.get(stats_id)
        merged = {**old, **report} if isinstance(old, dict) else dict(report)
        if report.get("timestamp") == 0 or "timestamp" not in merged:
            merged["timestamp"] = shared
        merged.setdefault("id", stats_id)
        full[stats_id] = merged
    return full


@dataclass
class Session:
    """One PeerConnection being imported, and what its lines said that the events cannot."""

    connection: Connection
    dropped: dict[str, int] = field(default_factory=dict)
    empty_descriptions: int = 0
    empty_candidates: int = 0

    @property
    def recorder(self) -> Recorder:
        return self.connection.recorder


def apply_line(session: Session, name: str, value: Any, ms: float, stats: bool) -> None:
    """One trace entry of an rtcstats client (line file or JSON) onto its session."""
    rec = session.recorder
    lower = name.lower()
    if lower == "getstats":
        if not stats or not isinstance(value, dict):
            return
        full = decompress(session.connection.base, value) if name == "getstats" else value
        session.connection.base = full
        reports = standardise(full, session.dropped)
        rec.stats(ms, [shape(rec, i, r) for i, r in reports.items()])
        return
    if value == "" and lower in _DESCRIPTION_CALLS + _CANDIDATE_CALLS:  # left out by the client or server
        if lower in _DESCRIPTION_CALLS:
            session.empty_descriptions += 1
        else:
            session.empty_candidates += 1
        return
    apply_trace(session.connection, name, value, ms)


def finish(session: Session) -> None:
    """The notes only the whole session can give, then the end event."""
    rec = session.recorder
    if session.empty_descriptions:
        rec.problems.append(f"{rec.info.id}: the dump holds no SDP ({session.empty_descriptions} description "
                            "call(s) logged empty: the rtcstats client or server left the SDP out): codecs, "
                            "extensions and the negotiated profile are unknown")
    if session.empty_candidates:
        rec.problems.append(f"{rec.info.id}: {session.empty_candidates} candidate call(s) logged empty (left out "
                            "of the dump): those candidates are unknown")
    note = dropped_note(rec.info.id, session.dropped)
    if note:
        rec.problems.append(note)
    session.connection.mapper.finish()
    rec.finish()


def new_session(info: SessionInfo, sinks: SinkFactory) -> Session:
    recorder = Recorder(info, sinks(info))
    return Session(Connection(recorder, TraceMapper(recorder)))


def read(path: Path, *, pc: str | None, sinks: SinkFactory, stats: bool = True,
         progress: Progress | None = None) -> tuple[list[Recorder], list[str]]:
    """Every PeerConnection of the file (or only `pc`), streamed line by line into one sink each."""
    progress = progress or NoProgress()
    progress.stage(f"importing {path.name}", path.stat().st_size)
    problems: list[str] = []
    sessions: dict[str, Session] = {}
    client: dict[str, Any] = {}
    bad: list[int] = []
    seen: dict[str, None] = {}
    untimed, last_ms, done, first = 0, None, 0, True
    for number, line, position in iter_lines(path, problems):
        progress.advance(position - done)
        done = position
        if not line.strip():
            continue
        try:
            item = json_value(line)
        except ValueError:
            item = None
        if first and isinstance(item, dict):  # the original rtcstats-server's client object
            client.update(item)
            first = False
            continue
        first = False
        if not isinstance(item, list) or len(item) < 3 or not isinstance(item[0], str):
            bad.append(number)
            continue
        name, connection_id, value = item[0], item[1], item[2]
        ms = epoch_ms(item[3]) if len(item) > 3 else None
        if ms is None:
            if connection_id is not None:
                untimed += 1
            ms = last_ms
        last_ms = ms if ms is not None else last_ms
        if connection_id is None or name.startswith(PAGE_EVENTS):
            if name == "connectionInfo" and isinstance(value, dict):
                client.update(value)
            continue
        if ms is None:  # a PeerConnection line before any line with a time: nowhere to put it
            bad.append(number)
            continue
        key = str(connection_id)
        seen.setdefault(key, None)
        if pc is not None and key != pc:
            continue
        session = sessions.get(key)
        if session is None:
            extra = {"user_agent": user_agent(client), "stats_format": client.get("statsFormat"),
                     "ice_servers": ice_server_urls(value) if name == "create" else []}
            info = SessionInfo(path, FORMAT, key, ms, target=str(client.get("url") or ""), extra=extra)
            session = sessions[key] = new_session(info, sinks)
        apply_line(session, name, value, ms, stats)
    if bad:
        where = ", ".join(str(n) for n in bad[:5]) + (f" and {len(bad) - 5} more" if len(bad) > 5 else "")
        problems.append(f"{path}: line(s) {where} skipped: expected {EXPECTED}")
    if untimed:
        problems.append(f"{path}: {untimed} PeerConnection line(s) without a timestamp took the time of the line "
                        "before")
    for session in sessions.values():
        finish(session)
    if pc is not None and not sessions:
        raise InputError(f"no PeerConnection {pc!r} in this dump (it has {', '.join(seen) or 'none'})", str(path))
    if not sessions:
        raise InputError(f"not an rtcstats-server dump with PeerConnection lines (expected {EXPECTED}, with a "
                         "connection id such as PC_0)", str(path))
    return [s.recorder for s in sessions.values()], problems
