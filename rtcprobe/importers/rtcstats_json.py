"""The original rtcstats JSON dump: one object with every PeerConnection's trace.

Layout (fippo/rtcstats-server `extract.js` and `test/clienttest.json`; read by
fippo/webrtc-dump-importer as "format v0"): `{"url", "userAgent", "getUserMedia": [...],
"peerConnections": {"PC_0": [{"time", "type", "value"}, ...], ...}}`, where `time` is an ISO date
(later servers add `timestamp`, epoch ms) and `getStats` values are whole reports — often
pre-standard Chrome stats, which `legacy_stats` narrows to their W3C part. The file may carry an
empty `"PeerConnections": {}` next to it (what makes it look like a webrtc-internals dump).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..errors import InputError
from .common import Recorder, SessionInfo, SinkFactory
from .files import Progress, epoch_ms, ice_server_urls, load_json_object
from .rtcstats_lines import Session, apply_line, finish, new_session

FORMAT = "rtcstats-json"
EXPECTED = '{"peerConnections": {"PC_0": [{"time", "type", "value"}, ...]}}'


def sniff(head: bytes) -> bool:
    return head.lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"{") and b'"peerConnections"' in head


def is_rtcstats_json(dump: dict[str, Any]) -> bool:
    """A parsed JSON object that is this format (for a file whose first 4 KB did not show it)."""
    return isinstance(dump.get("peerConnections"), dict) and not dump.get("PeerConnections")


def read(path: Path, *, pc: str | None, sinks: SinkFactory, stats: bool = True,
         progress: Progress | None = None) -> tuple[list[Recorder], list[str]]:
    dump, problems = load_json_object(path, "an rtcstats JSON dump", progress)
    return import_dump(path, dump, problems, pc=pc, sinks=sinks, stats=stats)


def _entries(trace: list[Any], where: str, problems: list[str]) -> list[tuple[float, str, Any]]:
    """(epoch ms, method, value) of a trace; entries without a time take the one before."""
    out: list[tuple[float, str, Any]] = []
    bad, untimed, last = 0, 0, None
    for entry in trace:
        if not isinstance(entry, dict) or not isinstance(entry.get("type"), str):
            bad += 1
            continue
        ms = epoch_ms(entry.get("timestamp"))
        ms = ms if ms is not None else epoch_ms(entry.get("time"))
        if ms is None:
            untimed += 1
            ms = last
        if ms is None:
            continue
        last = ms
        out.append((ms, entry["type"], entry.get("value")))
    if bad:
        problems.append(f"{where}: {bad} entr(ies) skipped: expected {{\"time\", \"type\", \"value\"}} objects")
    if untimed:
        problems.append(f"{where}: {untimed} entr(ies) without a readable time took the time of the entry before")
    return out


def import_dump(path: Path, dump: dict[str, Any], problems: list[str], *, pc: str | None, sinks: SinkFactory,
                stats: bool = True) -> tuple[list[Recorder], list[str]]:
    """Every PeerConnection of a parsed dump (or only `pc`), one recorder each."""
    peers = dump.get("peerConnections")
    if not isinstance(peers, dict) or not peers:
        raise InputError(f"no PeerConnections in this rtcstats JSON dump (expected {EXPECTED})", str(path))
    if pc is not None and pc not in peers:
        raise InputError(f"no PeerConnection {pc!r} in this dump (it has {', '.join(peers)})", str(path))
    recorders: list[Recorder] = []
    for key in [pc] if pc is not None else list(peers):
        where = f"{path} (PeerConnection {key})"
        trace = peers[key]
        if not isinstance(trace, list):
            problems.append(f"{where}: not a list of trace entries (expected {EXPECTED}), skipped")
            continue
        entries = _entries(trace, where, problems)
        if not entries:
            problems.append(f"{where}: no trace entry with a time, skipped")
            continue
        create = next((value for _, name, value in entries if name == "create"), None)
        extra = {"user_agent": dump.get("userAgent") if isinstance(dump.get("userAgent"), str) else None,
                 "ice_servers": ice_server_urls(create) if create is not None else []}
        info = SessionInfo(path, FORMAT, str(key), min(ms for ms, _, _ in entries),
                           target=str(dump.get("url") or ""), extra=extra)
        session: Session = new_session(info, sinks)
        for ms, name, value in entries:
            apply_line(session, name, value, ms, stats)
        finish(session)
        recorders.append(session.recorder)
    if not recorders:
        raise InputError(f"no readable PeerConnection trace in this rtcstats JSON dump (expected {EXPECTED})",
                         str(path))
    return recorders, problems
