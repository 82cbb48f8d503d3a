"""OpenAI realtime API, beta interface: the bare offer as application/sdp to
/v1/realtime?model=..., header `OpenAI-Beta: realtime=v1`; the session is configured afterwards
with a `session.update` event over the `oai-events` data channel."""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from aiortc import RTCDataChannel

from .base import HttpSignaler
from .exchange import SDP_TYPE, HttpExchange, SignalingResult
from .openai import EVENTS_CHANNEL, endpoint, load_session

DEFAULT_MODEL = "gpt-4o-realtime-preview"
BETA_HEADER = ("OpenAI-Beta", "realtime=v1")
REALTIME_PATH = "/v1/realtime"


def with_model(url: str, model: str | None) -> str:
    """Add `model=` to the query unless the URL already names one (an explicit model wins)."""
    parts = urlsplit(url)
    query = parse_qsl(parts.query, keep_blank_values=True)
    if model:
        query = [(k, v) for k, v in query if k != "model"] + [("model", model)]
    elif not any(k == "model" for k, _ in query):
        query.append(("model", DEFAULT_MODEL))
    return urlunsplit(parts._replace(query=urlencode(query)))


class OpenAIBetaSignaler(HttpSignaler):
    """The beta adapter; `session` becomes the `session` of the session.update event."""

    protocol = "openai-beta"
    channels = (EVENTS_CHANNEL,)
    protocol_options = frozenset({"model", "session"})

    def __init__(
        self,
        url: str,
        token: str | None = None,
        *,
        model: str | None = None,
        session: Mapping[str, Any] | str | Path | None = None,
        **options: Any,
    ) -> None:
        super().__init__(with_model(endpoint(_without_query(url), REALTIME_PATH)
                                    + _query_of(url), model), token, **options)
        self.session_config = load_session(session) or {"modalities": ["audio", "text"]}
        self._update_sent = False

    async def exchange(self, offer_sdp: str) -> SignalingResult:
        body = offer_sdp.encode()
        response = await self.post_offer(lambda: body, SDP_TYPE, dict([BETA_HEADER]))
        return self.result(self.expect_answer(response))

    async def teardown(self) -> list[HttpExchange]:
        """The beta interface has no teardown request: closing the peer connection ends the call."""
        self._torn_down = True
        await self.close()
        return []

    def on_channel_open(self, channel: RTCDataChannel) -> list[str]:
        """The session config as a session.update, once, for the first `oai-events` channel."""
        if channel.label != EVENTS_CHANNEL or self._update_sent:
            return []
        self._update_sent = True
        return [json.dumps({"type": "session.update", "session": self.session_config})]


def _without_query(url: str) -> str:
    return urlunsplit(urlsplit(url)._replace(query=""))


def _query_of(url: str) -> str:
    query = urlsplit(url).query
    return f"?{query}" if query else ""
