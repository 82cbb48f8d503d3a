"""Data-channel traffic as recorded: messages both ways, their sizes and, for JSON, their `type`."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from ..capture import Capture
from ..capture import events as ev


@dataclass(frozen=True)
class Message:
    t: float
    label: str
    direction: str  # "sent" | "received"
    size: int  # bytes on the channel (the recorded `data` may be truncated)
    binary: bool
    truncated: bool
    type: str | None  # the JSON message's "type" field (realtime events), None otherwise
    data: str


@dataclass(frozen=True)
class ChannelEvent:
    t: float
    label: str
    action: str  # "open" | "close"
    id: int | None
    protocol: str


def message_type(event: dict[str, Any]) -> str | None:
    """The `type` of a JSON text message: recorded as `json_type`, or read from the payload."""
    if isinstance(event.get("json_type"), str):
        return event["json_type"]
    if event.get("binary") or event.get("truncated"):
        return None
    try:
        payload = json.loads(event.get("data") or "")
    except (ValueError, TypeError):
        return None
    value = payload.get("type") if isinstance(payload, dict) else None
    return value if isinstance(value, str) else None


def datachannel_messages(capture: Capture) -> list[Message]:
    return [Message(float(e.get("t", 0.0)), str(e.get("label", "")), str(e.get("direction", "")),
                    int(e.get("size") or 0), bool(e.get("binary")), bool(e.get("truncated")),
                    message_type(e), str(e.get("data") or ""))
            for e in capture.of(ev.DC_MESSAGE)]


def channel_events(capture: Capture) -> list[ChannelEvent]:
    return [ChannelEvent(float(e.get("t", 0.0)), str(e.get("label", "")), str(e.get("action", "")),
                         e.get("id"), str(e.get("protocol") or ""))
            for e in capture.of(ev.DATACHANNEL)]
