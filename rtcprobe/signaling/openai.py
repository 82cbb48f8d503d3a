"""OpenAI realtime API, GA interface: one multipart POST to /v1/realtime/calls with the offer (`sdp`)
and the session config (`session`), answered 201 application/sdp + Location; events flow over the
`oai-events` data channel; POST {Location}/hangup ends the call."""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import aiohttp

from .base import HttpSignaler
from .exchange import HttpExchange, SignalingResult

DEFAULT_MODEL = "gpt-realtime"
EVENTS_CHANNEL = "oai-events"
CALLS_PATH = "/v1/realtime/calls"


def load_session(session: Mapping[str, Any] | str | Path | None) -> dict[str, Any] | None:
    """A session config given as a dict, a JSON string, or a path to a JSON file."""
    if session is None:
        return None
    if isinstance(session, Mapping):
        return dict(session)
    text = str(session)
    if not text.lstrip().startswith("{"):
        text = Path(text).read_text()
    data = json.loads(text)
    if not isinstance(data, dict):
        raise ValueError("the session config must be a JSON object")
    return data


def endpoint(url: str, path: str) -> str:
    """`https://api.openai.com` (or the SDKs' base URL `https://api.openai.com/v1`) ->
    `https://api.openai.com/v1/realtime/calls`; a URL that already ends in the endpoint's path is
    kept as given (query included)."""
    parts = urlsplit(url)
    base = parts.path.rstrip("/")
    if base.endswith(path):
        return url
    version = path.split("/", 2)[1]  # "v1"
    if base.endswith("/" + version):
        base = base[: -len(version) - 1]
    return urlunsplit(parts._replace(path=base + path))


class OpenAISignaler(HttpSignaler):
    """The GA realtime-calls adapter. The token may be an API key or a short-lived client secret."""

    protocol = "openai"
    channels = (EVENTS_CHANNEL,)
    protocol_options = frozenset({"model", "session", "hangup"})

    def __init__(
        self,
        url: str,
        token: str | None = None,
        *,
        model: str | None = None,
        session: Mapping[str, Any] | str | Path | None = None,
        hangup: bool = True,
        **options: Any,
    ) -> None:
        super().__init__(endpoint(url, CALLS_PATH), token, **options)
        config = load_session(session) or {"type": "realtime"}
        config.setdefault("type", "realtime")
        if model or "model" not in config:
            config["model"] = model or DEFAULT_MODEL
        self.session_config = config
        self.hangup = hangup

    def _form(self, offer_sdp: str) -> aiohttp.FormData:
        # Plain text parts, as a browser's FormData sends them; multipart even with no file in it.
        form = aiohttp.FormData(default_to_multipart=True)
        form.add_field("sdp", offer_sdp)
        form.add_field("session", json.dumps(self.session_config))
        return form

    async def exchange(self, offer_sdp: str) -> SignalingResult:
        response = await self.post_offer(lambda: self._form(offer_sdp), form_fields=["sdp", "session"])
        return self.result(self.expect_answer(response))

    async def teardown(self) -> list[HttpExchange]:
        """Hang the call up (POST {call}/hangup); failures are recorded, never raised."""
        done: list[HttpExchange] = []
        if self.hangup and not self._torn_down and self.resource_url:
            self._torn_down = True
            hangup_url = self.resource_url.rstrip("/") + "/hangup"
            done.append(await self._best_effort("teardown", "POST", hangup_url))
        await self.close()
        return done
