"""Data-channel traffic as recorded: messages both ways, their sizes and, for JSON, their `type`;
for a dump, which holds no messages, the channels its `data-channel` stats report."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..capture import Capture
from ..capture import events as ev
from ..errors import json_value
from .evidence import counter, evidence, last_reports


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
        payload = json_value(event.get("data") or "")
    except (ValueError, TypeError):  # not JSON, or JSON Python cannot take (too deep, too long)
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


@dataclass(frozen=True)
class ChannelStats:
    """One data channel as getStats reported it last (RTCDataChannelStats)."""

    label: str
    protocol: str
    id: int | None  # dataChannelIdentifier
    state: str | None
    messages_sent: int | None
    messages_received: int | None
    bytes_sent: int | None
    bytes_received: int | None


@dataclass
class DataChannels:
    """Where the data-channel facts come from, and the channels stats reported."""

    source: str  # "messages" (recorded by the probe) | "stats" (a dump's data-channel reports) | "none"
    note: str
    channels: list[ChannelStats] = field(default_factory=list)

    @property
    def opened(self) -> bool:
        return any(c.state in ("open", "closing", "closed") for c in self.channels)


def channel_stats(capture: Capture) -> list[ChannelStats]:
    return [ChannelStats(str(r.get("label") or ""), str(r.get("protocol") or ""), counter(r, "dataChannelIdentifier"),
                         r.get("state") if isinstance(r.get("state"), str) else None, counter(r, "messagesSent"),
                         counter(r, "messagesReceived"), counter(r, "bytesSent"), counter(r, "bytesReceived"))
            for r in last_reports(capture, "data-channel")]


def data_channels(capture: Capture) -> DataChannels:
    found = evidence(capture)
    if found.packets:
        return DataChannels("messages", "every message both ways, as the probe sent and received it",
                            channel_stats(capture))
    channels = channel_stats(capture)
    if channels:
        return DataChannels("stats", f"from getStats data-channel reports ({found.recorder} holds their counters, "
                                     "not the messages)", channels)
    return DataChannels("none", f"{found.recorder} holds no data-channel stats and no messages", [])
