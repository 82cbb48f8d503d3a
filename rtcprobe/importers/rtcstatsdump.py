"""RTCStatsDump files: chrome://webrtc-internals' "rtcstats" download and the rtcstats tools' dumps.

Layout (rtcstats `docs/file-format.md`, fileFormat 3; Chromium `dump_creator.js`): gzipped JSON
Lines; line 1 is `RTCStatsDump`, line 2 a metadata object (`{"fileFormat": 3}`), then one array
per event: `[method, connectionId, value, ...extra, delta_ms]`, where delta is the time since
the previous line and the first delta is absolute (epoch ms). Chromium writes names, ids and full
getStats() reports as they are; rtcstats clients may compress method names, stats types and
property names (`rtcstats_tables`), send getStats() as deltas against the previous report
(removed objects are null, a shared timestamp moves to the top-level key `t`) and shorten
descriptions (an unchanged SDP section is written as `v=` / `m=`). Both are read here in one
pass, line by line, so files of any size stream through.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import InputError, json_value
from . import rtcstats_tables as tables
from .common import Recorder, SessionInfo, SinkFactory
from .files import NoProgress, Progress, ice_server_urls, iter_lines
from .trace import TraceMapper, decode_value

FORMAT = "rtcstatsdump"
MAGIC = b"RTCStatsDump"
#: Events that belong to the page, not to a PeerConnection (Chromium files them under "<rid>-0").
PAGE_EVENTS = ("navigator.", "MediaStreamTrack.", "HTMLMediaElement.")


def sniff(head: bytes) -> bool:
    return head.lstrip(b"\xef\xbb\xbf").startswith(MAGIC)


@dataclass
class Connection:
    """One PeerConnection of a line-oriented rtcstats file: its recorder, and what the next lines
    are compressed against (the last full getStats() and descriptions)."""

    recorder: Recorder
    mapper: TraceMapper
    base: dict[str, Any] = field(default_factory=dict)
    created: dict[str, dict[str, str]] = field(default_factory=dict)  # last create*OnSuccess by type
    set_local: dict[str, str] | None = None


def _sections(sdp: str) -> list[str]:
    parts = sdp.split("\nm=")
    return [(part if i == 0 else "m=" + part).strip() for i, part in enumerate(parts)]


def decompress_description(base: Any, new: Any) -> Any:
    """Undo rtcstats' description compression: `v=`/`m=` stand for the base's section."""
    if not (isinstance(base, dict) and isinstance(new, dict) and base.get("type") == new.get("type")
            and isinstance(base.get("sdp"), str) and isinstance(new.get("sdp"), str)):
        return new
    new_sections = _sections(new["sdp"])
    if not any(s == ("v=" if i == 0 else "m=") for i, s in enumerate(new_sections)):
        return new
    base_sections = _sections(base["sdp"])
    merged = [base_sections[i] if s == ("v=" if i == 0 else "m=") and i < len(base_sections) else s
              for i, s in enumerate(new_sections)]
    return {"type": new["type"], "sdp": "\r\n".join(merged).strip() + "\r\n"}


def decompress_stats(base: dict[str, Any], delta: dict[str, Any]) -> dict[str, Any]:
    """Undo rtcstats' getStats() compression (property codes, delta against `base`, top-level `t`)."""
    new: dict[str, Any] = {}
    for stats_id, report in delta.items():
        if isinstance(report, dict):
            report = {tables.property_name(k): (tables.stats_type(v) if k == "type" else v) for k, v in report.items()}
        new[stats_id] = report
    timestamp = new.pop("t", None)  # the timestamp the reports share, moved to the top level
    for stats_id, old in base.items():
        if stats_id in new and new[stats_id] is None:
            del new[stats_id]  # removed since the last report
            continue
        own_time = isinstance(new.get(stats_id), dict) and "timestamp" in new[stats_id]
        if stats_id not in new:
            new[stats_id] = dict(old)
        else:
            report = new[stats_id]
            for name, value in old.items():
                if name not in report:
                    report[name] = value
                elif isinstance(value, dict) and isinstance(report[name], dict):
                    report[name] = {**value, **report[name]}
        if timestamp is not None and not own_time:
            new[stats_id]["timestamp"] = timestamp
    for stats_id, report in list(new.items()):
        if not isinstance(report, dict):
            del new[stats_id]
            continue
        report.setdefault("id", stats_id)
        if timestamp is not None:
            report.setdefault("timestamp", timestamp)
    return new


def shape(recorder: Recorder, stats_id: str, report: dict[str, Any]) -> dict[str, Any]:
    """A report in the probe's shape; webrtc-internals' computed `[...]` values are left out."""
    out = {"id": report.get("id", stats_id), "type": report.get("type"),
           "timestamp": recorder.report_time(report.get("timestamp"))}
    out.update((k, v) for k, v in report.items() if k not in out and not k.startswith("["))
    return out


def read(path: Path, *, pc: str | None, sinks: SinkFactory, stats: bool = True,
         progress: Progress | None = None) -> tuple[list[Recorder], list[str]]:
    """Every PeerConnection of the dump (or only `pc`), streamed into one sink each."""
    progress = progress or NoProgress()
    progress.stage(f"importing {path.name}", path.stat().st_size)
    problems: list[str] = []
    lines = iter_lines(path, problems)
    first = next(lines, None)
    if first is None or first[1].strip() != MAGIC.decode():
        raise InputError("not an RTCStatsDump (the first line must be RTCStatsDump)", str(path), 1)
    meta_line = next(lines, None)
    try:
        meta = json_value(meta_line[1]) if meta_line else None
    except ValueError:
        meta = None
    if not isinstance(meta, dict):
        raise InputError("expected the metadata object ({\"fileFormat\": 3}) on line 2", str(path), 2)
    if meta.get("fileFormat") != 3:
        problems.append(f"{path}:2: fileFormat {meta.get('fileFormat')!r}; this importer knows fileFormat 3")
    connections: dict[str, Connection] = {}
    page: dict[str, Any] = {"meta": meta}
    clock, done, bad = 0.0, 0, None
    for number, line, position in lines:
        progress.advance(position - done)
        done = position
        if not line.strip():
            continue
        if bad is not None:
            problems.append(bad)
            bad = None
        try:
            item = json_value(line)
            if not isinstance(item, list) or len(item) < 3 or not isinstance(item[-1], int | float):
                raise ValueError
        except ValueError:
            bad = f"{path}:{number}: not an event line ([method, connectionId, value, ..., delta]), skipped"
            continue
        name = tables.method(item[0])
        clock += float(item[-1])
        connection_id = item[1]
        if connection_id is None or name.startswith(PAGE_EVENTS):
            if name == "create" and isinstance(item[2], dict):
                page["client"] = item[2]
            continue
        connection_id = str(connection_id)
        if pc is not None and connection_id != pc:
            continue
        conn = connections.get(connection_id)
        if conn is None:
            url = item[3] if name == "create" and len(item) > 4 and isinstance(item[3], str) else ""
            extra = {"file_format": meta.get("fileFormat"), "user_agent": user_agent(page.get("client") or {}),
                     "ice_servers": ice_server_urls(item[2]) if name == "create" else []}
            info = SessionInfo(path, FORMAT, connection_id, clock, target=url, extra=extra)
            recorder = Recorder(info, sinks(info))
            conn = connections[connection_id] = Connection(recorder, TraceMapper(recorder))
        _apply(conn, name, item[2], clock, stats)
    if bad is not None:
        problems.append(bad.replace("not an event line", "the last line is cut (file truncated?)"))
    for conn in connections.values():
        conn.mapper.finish()
        conn.recorder.finish()
    if pc is not None and not connections:
        raise InputError(f"no PeerConnection {pc!r} in this dump", str(path))
    if not connections:
        raise InputError("holds no PeerConnection events (only page events such as getUserMedia)", str(path))
    return [c.recorder for c in connections.values()], problems


def _apply(conn: Connection, name: str, value: Any, clock: float, stats: bool) -> None:
    rec = conn.recorder
    if name == "getStats":
        if not stats or not isinstance(value, dict):
            return
        full = decompress_stats(conn.base, value) if "t" in value else value
        conn.base = full
        rec.stats(clock, [shape(rec, i, r) for i, r in full.items() if isinstance(r, dict)])
        return
    apply_trace(conn, name, value, clock)


def apply_trace(conn: Connection, name: str, value: Any, clock: float) -> None:
    """A line that is not getStats: descriptions (undoing rtcstats' `v=`/`m=` shortening), candidates,
    states, errors."""
    if name in ("setLocalDescription", "createOfferOnSuccess", "createAnswerOnSuccess"):
        value = decode_value(value)
        if isinstance(value, dict):
            if name == "setLocalDescription":
                value = decompress_description(conn.created.get(value.get("type")), value)
                conn.set_local = value
            else:
                value = decompress_description(conn.set_local, value)
                conn.created[value.get("type")] = value
    conn.mapper.apply(name, value, clock)


def user_agent(client: dict[str, Any]) -> str | None:
    data = client.get("userAgentData")
    if isinstance(data, dict):
        brands = ", ".join(f"{b.get('brand')} {b.get('version')}" for b in data.get("brands", []) if isinstance(b, dict))
        return f"{brands} ({data.get('platform', '?')})" if brands else None
    return client.get("userAgent") if isinstance(client.get("userAgent"), str) else None
