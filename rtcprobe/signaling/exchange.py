"""What every signaling adapter hands over and records: the HTTP facts of one request, the
result of an offer/answer exchange, the error that ends one, and the shape of an adapter."""

from __future__ import annotations

from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any, ClassVar, Protocol, runtime_checkable

from aiortc import RTCDataChannel, RTCIceServer

from ..capture import events
from ..limits import REDACT_MARGIN_CHARS
from ..redact import redact_cut, redact_headers, redact_text

#: How much of a non-SDP response body an exchange keeps.
BODY_EXCERPT_CHARS = 500
SDP_TYPE = "application/sdp"
#: The error of a request that ended because its phase was cancelled (a timeout around it, Ctrl-C).
CANCELLED = "cancelled before the answer came"


@dataclass
class HttpExchange:
    """One HTTP request and its response, secrets removed: what the `http` capture event holds."""

    phase: str
    method: str
    url: str
    status: int | None = None
    request_headers: dict[str, str] = field(default_factory=dict)
    response_headers: dict[str, str] = field(default_factory=dict)
    request_content_type: str | None = None
    response_content_type: str | None = None
    form_fields: list[str] = field(default_factory=list)
    t_request: float = 0.0
    t_response: float | None = None
    location: str | None = None
    etag: str | None = None
    body_excerpt: str | None = None
    error: str | None = None
    #: PATCH (RFC 9725 §4.3): the trickle-ice-sdpfrag sent, and the one answered (an ICE restart's).
    request_fragment: str | None = None
    response_fragment: str | None = None

    def to_event(self) -> dict[str, Any]:
        """The `http` event of rtcprobe.capture.events; `t` is when the exchange ended."""
        return {
            "event": events.HTTP,
            "t": self.t_response if self.t_response is not None else self.t_request,
            "phase": self.phase,
            "method": self.method,
            "url": self.url,
            "status": self.status,
            "request_headers": dict(self.request_headers),
            "response_headers": dict(self.response_headers),
            "request_content_type": self.request_content_type,
            "response_content_type": self.response_content_type,
            "form_fields": list(self.form_fields),
            "t_request": self.t_request,
            "t_response": self.t_response,
            "location": self.location,
            "etag": self.etag,
            "body_excerpt": self.body_excerpt,
            "error": self.error,
            **({"request_fragment": self.request_fragment} if self.request_fragment is not None else {}),
            **({"response_fragment": self.response_fragment} if self.response_fragment is not None else {}),
        }

    @property
    def summary(self) -> str:
        """`POST http://host/whip answered 401 Unauthorized` — the start of every error message."""
        if self.status is None:
            return f"{self.method} {self.url}"
        try:
            phrase = HTTPStatus(self.status).phrase
        except ValueError:
            phrase = ""
        return f"{self.method} {self.url} answered {self.status} {phrase}".rstrip()

    def rescrub(self) -> None:
        """Redact again after a new secret became known (TURN credentials in a Link header)."""
        self.response_headers = redact_headers(self.response_headers)
        if self.body_excerpt:
            self.body_excerpt = redact_text(self.body_excerpt)


@dataclass
class SignalingResult:
    """What an adapter hands the probe: the answer, the HTTP facts, and where to tear down."""

    answer_sdp: str
    exchanges: list[HttpExchange]
    ice_servers: list[RTCIceServer] = field(default_factory=list)
    resource_url: str | None = None  # absolute, unredacted: the adapter needs it for teardown


class SignalingError(Exception):
    """Signaling failed; `message` is one line a person can act on, `exchanges` all that happened."""

    KINDS: ClassVar[tuple[str, ...]] = ("http", "timeout")

    def __init__(
        self,
        phase: str,
        kind: str,
        message: str,
        exchange: HttpExchange | None = None,
        exchanges: list[HttpExchange] | None = None,
    ) -> None:
        assert kind in self.KINDS, kind
        super().__init__(message)
        self.phase = phase
        self.kind = kind
        self.message = message
        self.exchange = exchange
        self.exchanges = list(exchanges or ([exchange] if exchange else []))


@runtime_checkable
class Signaler(Protocol):
    """The one shape of every adapter."""

    protocol: str
    #: Data channels the probe should open because the protocol talks over them.
    channels: tuple[str, ...]
    exchanges: list[HttpExchange]

    async def exchange(self, offer_sdp: str) -> SignalingResult:
        """Send the offer; the answer and every HTTP exchange, or SignalingError."""
        ...

    async def teardown(self) -> list[HttpExchange]:
        """End the session at the service (best effort); the exchanges it took."""
        ...

    def on_channel_open(self, channel: RTCDataChannel) -> list[str]:
        """Messages to send on `channel` now that it is open. The caller sends them, so that
        every message sent goes through the one place that records messages."""
        ...


def is_sdp(text: str) -> bool:
    """An SDP body starts with the version line (RFC 8866 §5)."""
    return text.lstrip().startswith("v=0")


def excerpt(text: str) -> str:
    """First characters of a body, on one line, secrets removed before the cut (so that a token
    the cut splits leaves nothing of itself). Only the start of a long body is looked at."""
    window = text[:BODY_EXCERPT_CHARS + REDACT_MARGIN_CHARS]
    one_line = " ".join(window.split())
    shown = redact_cut(one_line, BODY_EXCERPT_CHARS)
    return shown + "…" if len(one_line) > BODY_EXCERPT_CHARS or len(window) < len(text) else shown


@dataclass
class Response:
    """A finished response, as the adapters need it."""

    exchange: HttpExchange
    status: int
    text: str
    url: str  # where the last request went (after redirects), unredacted
    raw_headers: list[tuple[str, str]]

    def header_values(self, name: str) -> list[str]:
        return [v for k, v in self.raw_headers if k.lower() == name.lower()]
