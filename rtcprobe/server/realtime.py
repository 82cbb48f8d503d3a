"""The `oai-events` side of the reference target: realtime-API-shaped JSON events, enough for the
probe to see the GA and beta flows (session.created, session.update -> session.updated) and for
latency work to see the service's speech events, produced by a simple energy detector."""

from __future__ import annotations

import json
import logging
import math
import secrets
from collections.abc import Callable
from typing import Any

from aiortc import MediaStreamTrack, RTCDataChannel
from av import AudioFrame

from ..redact import redact

logger = logging.getLogger(__name__)

EVENTS_CHANNEL = "oai-events"


def _id(prefix: str) -> str:
    return f"{prefix}_{secrets.token_hex(10)}"


class RealtimeEvents:
    """Speaks the realtime event protocol on one session's `oai-events` channel."""

    def __init__(self, session: dict[str, Any], *, ga: bool) -> None:
        self.ga = ga
        self.session: dict[str, Any] = {"object": "realtime.session", "id": _id("sess"), **session}
        self.channel: RTCDataChannel | None = None
        self.received: list[str] = []  # event types the client sent, for tests and logs

    def attach(self, channel: RTCDataChannel) -> None:
        """aiortc emits `datachannel` once the channel is open, so the greeting goes out now."""
        self.channel = channel
        channel.on("message", self._on_message)
        self.send("session.created", session=self.session)

    def send(self, event_type: str, **fields: Any) -> None:
        if self.channel is None or self.channel.readyState != "open":
            return
        self.channel.send(json.dumps({"type": event_type, "event_id": _id("event"), **fields}))

    def _on_message(self, message: str | bytes) -> None:
        try:
            event = json.loads(message)
            event_type = event["type"]
        except (ValueError, TypeError, KeyError):
            self._error("invalid_event", "expected a JSON object with a \"type\"")
            return
        self.received.append(str(event_type))
        logger.debug("oai-events <- %s", redact(event))
        client_id = event.get("event_id")
        handler = self._HANDLERS.get(event_type)
        if handler is None:
            self._error("unknown_event", f"unknown event type {event_type!r}", client_id)
        else:
            handler(self, event)

    def _session_update(self, event: dict[str, Any]) -> None:
        update = event.get("session")
        if not isinstance(update, dict):
            self._error("invalid_value", "session.update needs a \"session\" object", event.get("event_id"))
            return
        self.session.update({k: v for k, v in update.items() if k not in ("id", "object")})
        self.send("session.updated", session=self.session)

    def _commit(self, event: dict[str, Any]) -> None:
        self.send("input_audio_buffer.committed", item_id=_id("item"), previous_item_id=None)

    def _clear(self, event: dict[str, Any]) -> None:
        self.send("input_audio_buffer.cleared")

    def _item_create(self, event: dict[str, Any]) -> None:
        item = {"id": _id("item"), **(event.get("item") or {})}
        self.send("conversation.item.added" if self.ga else "conversation.item.created",
                  previous_item_id=event.get("previous_item_id"), item=item)

    def _response_create(self, event: dict[str, Any]) -> None:
        response = {"object": "realtime.response", "id": _id("resp"), "status": "in_progress",
                    "output": [], **(event.get("response") or {})}
        self.send("response.created", response=response)
        self.send("response.done", response={**response, "status": "completed"})

    def _error(self, code: str, message: str, event_id: str | None = None) -> None:
        self.send("error", error={"type": "invalid_request_error", "code": code,
                                  "message": message, "event_id": event_id})

    _HANDLERS: dict[str, Callable[[RealtimeEvents, dict[str, Any]], None]] = {
        "session.update": _session_update,
        "input_audio_buffer.commit": _commit,
        "input_audio_buffer.clear": _clear,
        "conversation.item.create": _item_create,
        "response.create": _response_create,
    }

    # -- speech events, called by SpeechDetector --

    def speech_started(self, audio_ms: int) -> None:
        self.send("input_audio_buffer.speech_started", audio_start_ms=audio_ms, item_id=_id("item"))

    def speech_stopped(self, audio_ms: int) -> None:
        self.send("input_audio_buffer.speech_stopped", audio_end_ms=audio_ms, item_id=_id("item"))


class SpeechDetector(MediaStreamTrack):
    """Passes an audio track through unchanged and calls back when its level crosses a threshold:
    an energy detector, not a voice one — a tone burst from the probe counts as speech, which is
    what a repeatable latency test wants."""

    kind = "audio"

    def __init__(self, source: MediaStreamTrack, *, threshold_dbfs: float = -40.0,
                 start_ms: int = 40, hangover_ms: int = 300,
                 on_start: Callable[[int], None] | None = None,
                 on_stop: Callable[[int], None] | None = None) -> None:
        super().__init__()
        self.source = source
        self.threshold = threshold_dbfs
        self.start_ms = start_ms
        self.hangover_ms = hangover_ms
        self.on_start = on_start
        self.on_stop = on_stop
        self.speaking = False
        self._audio_ms = 0.0
        self._loud_ms = 0.0
        self._quiet_ms = 0.0

    async def recv(self) -> AudioFrame:
        frame = await self.source.recv()
        self._observe(frame)
        return frame

    def stop(self) -> None:
        super().stop()
        self.source.stop()

    def _observe(self, frame: AudioFrame) -> None:
        duration = 1000 * frame.samples / frame.sample_rate
        self._audio_ms += duration
        if level_dbfs(frame) >= self.threshold:
            self._loud_ms += duration
            self._quiet_ms = 0.0
            if not self.speaking and self._loud_ms >= self.start_ms:
                self.speaking = True
                if self.on_start:
                    self.on_start(int(self._audio_ms - self._loud_ms))
        else:
            self._quiet_ms += duration
            self._loud_ms = 0.0
            if self.speaking and self._quiet_ms >= self.hangover_ms:
                self.speaking = False
                if self.on_stop:
                    self.on_stop(int(self._audio_ms - self._quiet_ms))


def level_dbfs(frame: AudioFrame) -> float:
    """RMS level of a frame in dB relative to full scale (-inf for digital silence)."""
    samples = frame.to_ndarray().astype("float64")
    if samples.size == 0:
        return -math.inf
    full_scale = 1.0 if frame.format.name.startswith("flt") else 32768.0
    rms = math.sqrt(float((samples * samples).mean())) / full_scale
    return 20 * math.log10(rms) if rms > 0 else -math.inf
