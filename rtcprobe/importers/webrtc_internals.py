"""chrome://webrtc-internals dumps ("Create a WebRTC-Internals dump" > Download).

Layout (Chromium `dump_creator.js` `onDownloadInternals_`, `webrtc_internals.js`
`PeerConnectionRecord`): one JSON object — `getUserMedia` (list), `PeerConnections` (map from
`<rid>-<lid>`, older `<pid>-<lid>`, to `{pid, url, rtcConfiguration, constraints, stats,
updateLog}`), `UserAgent`, and in current Chromium `UserAgentData`, `timestamp`, hardware facts.
The download is gzipped when the page's "compress" box is ticked. `updateLog` entries are
`{type, value, timestamp}` (epoch ms) in current Chromium and `{time, type, value}` with a
toLocaleString() date in old ones; `stats` is described in `series`.
"""

from __future__ import annotations

import heapq
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import InputError
from . import rtcstats_json
from .common import Recorder, SessionInfo, SinkFactory
from .files import NoProgress, Progress, epoch_ms, ice_server_urls, load_json_object
from .series import SeriesProblems, build_reports, iter_ticks, plan_ticks
from .trace import TraceMapper

FORMAT = "webrtc-internals"
_MARKERS = (b'"PeerConnections"', b'"getUserMedia"', b'"UserAgent"')


def sniff(head: bytes) -> bool:
    return head.lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"{") and any(m in head for m in _MARKERS)


def load(path: Path, progress: Progress | None = None) -> tuple[dict[str, Any], list[str]]:
    """The dump object, parsed once; a truncated dump keeps every member that is complete."""
    dump, problems = load_json_object(path, "a webrtc-internals dump", progress)
    peers = dump.get("PeerConnections")
    if (not isinstance(peers, dict) or not peers) and not rtcstats_json.is_rtcstats_json(dump):
        why = "the dump ends before any" if problems else "no"
        raise InputError(f"{why} PeerConnections: nothing to import (the \"PeerConnections\" map is missing "
                         "or empty; was the dump saved while a call was open?)", str(path))
    return dump, problems


def read(path: Path, *, pc: str | None, sinks: SinkFactory, stats: bool = True,
         progress: Progress | None = None) -> tuple[list[Recorder], list[str]]:
    """One recorder (and sink) per PeerConnection of the dump, or only `pc`."""
    progress = progress or NoProgress()
    dump, problems = load(path, progress)
    if rtcstats_json.is_rtcstats_json(dump):  # its "peerConnections" came after the first 4 KB
        return rtcstats_json.import_dump(path, dump, problems, pc=pc, sinks=sinks, stats=stats)
    peers: dict[str, Any] = dump["PeerConnections"]
    if pc is not None and pc not in peers:
        raise InputError(f"no PeerConnection {pc!r} in this dump (it has {', '.join(peers)})", str(path))
    chosen = [pc] if pc is not None else list(peers)
    if stats:  # one bar for the whole file, in stats series: writing their samples is the long part
        total = sum(len(r.get("stats") or {}) for k, r in peers.items() if k in chosen and isinstance(r, dict))
        progress.stage(f"importing {path.name}", total or None)
    recorders = []
    meta = {"user_agent": dump.get("UserAgent")}
    for key in chosen:
        record = peers.pop(key)
        if not isinstance(record, dict):
            problems.append(f"{path}: PeerConnection {key!r} is not an object, skipped")
            continue
        recorders.append(_import_peer(path, key, record, meta, sinks, stats, progress))
    return recorders, problems


def _updates(record: dict[str, Any], where: str, problems: list[str]) -> list[tuple[float, int, str, Any]]:
    log = record.get("updateLog") or []
    out: list[tuple[float, int, str, Any]] = []
    local_time = False
    last = None
    for seq, entry in enumerate(log if isinstance(log, list) else []):
        if not isinstance(entry, dict) or "type" not in entry:
            continue
        ms = epoch_ms(entry.get("timestamp"))
        if ms is None and entry.get("time") is not None:
            ms = epoch_ms(entry.get("time"))
            local_time = local_time or ms is not None
        ms = ms if ms is not None else last
        if ms is None:
            continue
        last = ms
        out.append((ms, seq, str(entry["type"]), entry.get("value")))
    if local_time:
        problems.append(f"{where}: updateLog times are local wall-clock strings without a time zone (older "
                        "Chrome): read as UTC, to the second")
    return out


def _import_peer(path: Path, key: str, record: dict[str, Any], meta: dict[str, Any], sinks: SinkFactory,
                 stats: bool, progress: Progress) -> Recorder:
    where = f"{path} (PeerConnection {key})"
    problems: list[str] = []
    if "updateLog" not in record:
        problems.append(f"{where}: no updateLog (descriptions, candidates, states) in the record")
    updates = _updates(record, where, problems)
    series_problems = SeriesProblems()
    raw_stats = record.pop("stats", None)
    raw_count = len(raw_stats) if isinstance(raw_stats, dict) else 0
    reports = build_reports(raw_stats, series_problems) if stats and isinstance(raw_stats, dict) else []
    del raw_stats
    ticks = plan_ticks(reports)
    starts = [t for t in (updates[0][0] if updates else None, float(ticks.times[0]) if len(ticks) else None)
              if t is not None]
    if not updates and not raw_count:
        problems.append(f"{where}: no updateLog entries and no stats: an empty record")
    start = min(starts) if starts else 0.0
    extra = {"user_agent": meta.get("user_agent"), "ice_servers": ice_server_urls(record.get("rtcConfiguration"))}
    info = SessionInfo(path, FORMAT, key, start, target=str(record.get("url") or ""), extra=extra)
    recorder = Recorder(info, sinks(info))
    recorder.problems.extend(problems + series_problems.messages(where))
    mapper = TraceMapper(recorder)

    def report_time(times: np.ndarray) -> np.ndarray:
        return np.round((times - start) / 1000.0, 6)

    progress.advance(0 if len(ticks) else raw_count)
    scaled = _Scaled(progress, raw_count / len(ticks) if len(ticks) else 0.0)
    stream = ((ms, 1, reports_) for ms, reports_ in iter_ticks(reports, ticks, report_time, scaled))
    entries = ((ms, 0, (name, value)) for ms, _, name, value in updates)
    for ms, kind, payload in heapq.merge(entries, stream, key=lambda item: (item[0], item[1])):
        if kind == 0:
            mapper.apply(payload[0], payload[1], ms)
        else:
            recorder.stats(ms, payload)
    mapper.finish()
    recorder.finish()
    return recorder


class _Scaled:
    """Reports a PeerConnection's samples written as the share of its stats series done."""

    def __init__(self, progress: Progress, factor: float) -> None:
        self.progress, self.factor = progress, factor

    def stage(self, description: str, total: float | None = None) -> None:
        self.progress.stage(description, total)

    def advance(self, amount: float = 1) -> None:
        self.progress.advance(amount * self.factor)
