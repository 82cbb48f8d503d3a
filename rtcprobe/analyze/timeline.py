"""The capture as a timeline: every event with its direction and a one-line description."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ..capture import Capture
from ..capture import events as ev


@dataclass(frozen=True)
class TimelineEntry:
    t: float
    event: str
    direction: str | None  # local/remote (sdp, candidate), sent/received (rtp, rtcp, messages)
    summary: str
    fields: dict[str, Any]


def _ms(seconds: Any) -> str:
    return f"{seconds * 1000:.0f} ms" if isinstance(seconds, int | float) else "?"


def _http(e: dict[str, Any]) -> str:
    took = (e["t_response"] - e["t_request"]) if isinstance(e.get("t_response"), int | float) and isinstance(
        e.get("t_request"), int | float) else None
    status = e.get("status") if e.get("status") is not None else (e.get("error") or "no response")
    return f"{e.get('phase', '')}: {e.get('method', '')} {e.get('url', '')} → {status}" + (
        f" in {_ms(took)}" if took is not None else "")


def _candidate(e: dict[str, Any]) -> str:
    where = f" (mid {e['mid']})" if e.get("mid") is not None else ""
    ignored = f" — ignored: {e['ignored']}" if e.get("ignored") else ""
    return (e.get("candidate") or "end-of-candidates") + where + ignored


def _end(e: dict[str, Any]) -> str:
    warnings = "".join(f"; warning: {w}" for w in e.get("warnings") or [])
    return f"{e.get('reason')}: {e.get('diagnosis')}{warnings}"


def _rtcp(e: dict[str, Any]) -> str:
    lost = f", {len(e['lost'])} lost" if e.get("lost") else ""
    return f"{e.get('packet_type')} ssrc {e.get('media_ssrc') or e.get('sender_ssrc')}, {e.get('size')} B{lost}"


def _message(e: dict[str, Any]) -> str:
    kind = e.get("json_type") or ("binary" if e.get("binary") else "text")
    return f"{e.get('label')}: {kind}, {e.get('size')} B"


_DESCRIBE: dict[str, Callable[[dict[str, Any]], str]] = {
    ev.HEADER: lambda e: f"{e.get('protocol')} {e.get('target')}",
    ev.SDP: lambda e: f"{e.get('type')} ({len(e.get('sdp') or '')} bytes)",
    ev.CANDIDATE: _candidate,
    ev.STATE: lambda e: f"{e.get('machine')} → {e.get('state')}",
    ev.HTTP: _http,
    ev.RTP_FIRST: lambda e: f"first {e.get('kind') or 'RTP'} packet, ssrc {e.get('ssrc')}, PT {e.get('payload_type')}",
    ev.DATACHANNEL: lambda e: f"{e.get('label')} {e.get('action')} (id {e.get('id')})",
    ev.DC_MESSAGE: _message,
    ev.RTCP: _rtcp,
    ev.STATS: lambda e: f"{len(e.get('reports') or [])} stats reports",
    ev.EXTENSIONS_SEEN: lambda e: f"ssrc {e.get('ssrc')}: extension ids {', '.join(map(str, e.get('ids') or []))}",
    ev.ICE_SERVERS: lambda e: f"{len(e.get('urls') or [])} ICE server(s) from {e.get('source')}"
                              + (f", policy {e['policy']}" if e.get("policy") else "")
                              + (f": {e['note']}" if e.get("applied") is False and e.get("note") else ""),
    ev.ICE_PAIRS: lambda e: f"{len(e.get('pairs') or [])} candidate pair(s) checked",
    ev.ERROR: lambda e: f"{e.get('phase')}: {e.get('message')}",
    ev.END: _end,
}

_DIRECTION_FIELD = {ev.SDP: "role", ev.CANDIDATE: "side"}


def describe(event: dict[str, Any]) -> str:
    """One line saying what an event was; unknown events list their fields."""
    name = event.get("event", "")
    describer = _DESCRIBE.get(name)
    if describer is None:
        return ", ".join(f"{k}={v}" for k, v in event.items() if k not in ("event", "t"))
    try:
        return describer(event)
    except (TypeError, KeyError, ValueError):
        return name


def timeline_entries(capture: Capture) -> list[TimelineEntry]:
    """Every event after the header, in file order (which is capture-clock order)."""
    out = []
    for e in capture.events:
        name = str(e.get("event", ""))
        direction = e.get(_DIRECTION_FIELD.get(name, "direction"))
        fields = {k: v for k, v in e.items() if k not in ("event", "t")}
        out.append(TimelineEntry(float(e.get("t", 0.0)), name, direction if isinstance(direction, str) else None,
                                 describe(e), fields))
    return out
