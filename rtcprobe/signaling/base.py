"""The one HTTP client every signaling adapter uses: it times, redacts and follows redirects, so
that no adapter does it differently."""

from __future__ import annotations

import abc
import asyncio
import base64
import json
import time
from collections.abc import Callable, Mapping
from typing import Any, ClassVar
from urllib.parse import unquote, urlsplit, urlunsplit

import aiohttp
from aiortc import RTCDataChannel, RTCIceServer

from ..limits import MAX_FRAGMENT_CHARS, MAX_RESPONSE_BYTES, RESPONSE_CHUNK_BYTES
from ..redact import (
    redact_headers,
    redact_text,
    redact_url,
    register_secret,
    register_url_credentials,
)
from .exchange import (
    CANCELLED,
    HttpExchange,
    Response,
    SignalingError,
    SignalingResult,
    excerpt,
    is_sdp,
)
from .facts import resolve_location
from .failures import client_error_reason
from .trickle import TRICKLE_TYPE

#: Redirects that keep method and body (RFC 9110 §15.4.8, §15.4.9); WHIP allows these (RFC 9725 §4.5).
KEEP_METHOD_REDIRECTS = (307, 308)
DEFAULT_TIMEOUT = 10.0

Clock = Callable[[], float]


class HttpSignaler(abc.ABC):
    """Base of the HTTP adapters: one aiohttp session, a clock, the token, and the exchange log."""

    protocol: ClassVar[str] = ""
    channels: ClassVar[tuple[str, ...]] = ()
    #: Keyword options of this protocol beyond the common ones (timeout, clock, headers, ...).
    protocol_options: ClassVar[frozenset[str]] = frozenset()

    def __init__(
        self,
        url: str,
        token: str | None = None,
        *,
        timeout: float = DEFAULT_TIMEOUT,
        clock: Clock = time.monotonic,
        headers: Mapping[str, str] | None = None,
        http_session: aiohttp.ClientSession | None = None,
        max_redirects: int = 5,
    ) -> None:
        register_secret(token)
        register_url_credentials(url)  # a server may echo them back in an error body
        self.url, self.basic_auth = _split_credentials(url)
        self.token = token
        self.timeout = timeout
        self.clock = clock
        self.extra_headers = dict(headers or {})
        self.max_redirects = max_redirects
        self.exchanges: list[HttpExchange] = []
        self.resource_url: str | None = None
        self.etag: str | None = None  # the resource's ETag (RFC 9725 §4.3), updated by an ICE restart
        self._session = http_session
        self._own_session = http_session is None
        self._torn_down = False

    # -- the Signaler shape; adapters override exchange() and maybe teardown()/on_channel_open() --

    @abc.abstractmethod
    async def exchange(self, offer_sdp: str) -> SignalingResult:
        """POST the offer and return the answer, or raise SignalingError saying what came instead."""

    async def teardown(self) -> list[HttpExchange]:
        """Delete the resource when there is one (best effort: failures are recorded, not raised)."""
        done: list[HttpExchange] = []
        if not self._torn_down and self.resource_url:
            self._torn_down = True
            done.append(await self._best_effort("teardown", "DELETE", self.resource_url))
        await self.close()
        return done

    def on_channel_open(self, channel: RTCDataChannel) -> list[str]:
        """Messages to send when a data channel opens (the caller sends them); most have none."""
        return []

    async def close(self) -> None:
        if self._own_session and self._session is not None:
            await self._session.close()
            self._session = None

    async def __aenter__(self) -> HttpSignaler:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    # -- helpers --

    def auth_headers(self) -> dict[str, str]:
        headers = dict(self.extra_headers)
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        elif self.basic_auth is not None:
            headers["Authorization"] = self.basic_auth
        return headers

    def _client(self) -> aiohttp.ClientSession:
        if self._session is None:
            self._session = aiohttp.ClientSession()
        return self._session

    async def request(
        self,
        phase: str,
        method: str,
        url: str,
        *,
        body: Callable[[], Any] | None = None,
        headers: Mapping[str, str] | None = None,
        form_fields: list[str] | None = None,
    ) -> Response:
        """Send one request, following 307/308 with the same method and body; every hop is an
        exchange. Connection failures and timeouts raise SignalingError; statuses do not."""
        headers = dict(headers or {})
        for _hop in range(self.max_redirects + 1):
            response = await self._send(phase, method, url, body, headers, form_fields)
            locations = response.header_values("Location")
            if response.status in KEEP_METHOD_REDIRECTS and locations:
                target = resolve_location(response.url, locations[0])
                if _origin(target) != _origin(url):  # as fetch does: no credentials elsewhere
                    headers.pop("Authorization", None)
                url = target
                continue
            return response
        message = f"{response.exchange.summary}: more than {self.max_redirects} redirects"
        response.exchange.error = message
        raise SignalingError(phase, "http", message, response.exchange, self.exchanges)

    async def _send(
        self,
        phase: str,
        method: str,
        url: str,
        body: Callable[[], Any] | None,
        headers: Mapping[str, str],
        form_fields: list[str] | None,
    ) -> Response:
        exchange = HttpExchange(
            phase=phase,
            method=method,
            url=redact_url(url),
            request_headers=redact_headers(headers),
            request_content_type=headers.get("Content-Type"),
            form_fields=list(form_fields or []),
            t_request=self.clock(),
        )
        self.exchanges.append(exchange)
        try:
            async with asyncio.timeout(self.timeout):
                async with self._client().request(
                    method, url, data=body() if body else None, headers=dict(headers),
                    allow_redirects=False,
                ) as resp:
                    sent = _headers(resp.request_info.headers)
                    exchange.request_headers = redact_headers(sent)
                    exchange.request_content_type = sent.get("Content-Type")
                    exchange.status = resp.status
                    exchange.t_response = self.clock()
                    exchange.response_headers = redact_headers(_headers(resp.headers))
                    exchange.response_content_type = resp.headers.get("Content-Type")
                    loc = resp.headers.get("Location")
                    exchange.location = redact_url(loc) if loc else None
                    exchange.etag = resp.headers.get("ETag")
                    raw, whole = await _read_limited(resp)
                    text = _decode(raw, resp.charset)
                    if not whole:
                        exchange.body_excerpt = excerpt(text) if text.strip() and not is_sdp(text) else None
                        exchange.error = (f"{exchange.summary}: the response body is larger than "
                                          f"{MAX_RESPONSE_BYTES:,} bytes; rtcprobe stopped reading it")
                        raise SignalingError(phase, "http", exchange.error, exchange, self.exchanges)
                    if not is_sdp(text) and text.strip():
                        exchange.body_excerpt = excerpt(text)
                    return Response(exchange, resp.status, text, str(resp.url),
                                    list(resp.headers.items()))
        except asyncio.CancelledError:
            exchange.error = f"{method} {redact_url(url)}: {CANCELLED}"
            raise
        except TimeoutError:
            exchange.t_response = None
            exchange.error = f"{method} {redact_url(url)}: no answer within {self.timeout:g} s"
            raise SignalingError(phase, "timeout", exchange.error, exchange, self.exchanges) from None
        except aiohttp.ClientError as exc:
            reason = client_error_reason(exc, url)
            exchange.error = f"{method} {redact_url(url)} failed: {reason}"
            raise SignalingError(phase, "http", exchange.error, exchange, self.exchanges) from None

    async def _best_effort(self, phase: str, method: str, url: str) -> HttpExchange:
        headers = self.auth_headers()
        if _origin(url) != _origin(self.url):  # a redirect took the resource elsewhere: no credentials there
            headers.pop("Authorization", None)
        try:
            response = await self.request(phase, method, url, headers=headers)
        except SignalingError as exc:
            assert exc.exchange is not None
            return exc.exchange
        if response.status >= 400:
            response.exchange.error = response.exchange.summary
        return response.exchange

    def fail(self, response: Response, why: str, phase: str = "offer") -> SignalingError:
        """Mark the exchange failed and build the error the probe reports."""
        message = f"{response.exchange.summary}: {why}"
        response.exchange.error = message
        return SignalingError(phase, "http", message, response.exchange, self.exchanges)

    async def post_offer(self, body: Callable[[], Any], content_type: str | None = None,
                         headers: Mapping[str, str] | None = None,
                         form_fields: list[str] | None = None) -> Response:
        """POST the offer to the endpoint. A 2xx with a Location made a resource, whatever its
        body turns out to be: it is remembered, so that teardown deletes it."""
        sent = {**self.auth_headers(), **({"Content-Type": content_type} if content_type else {}), **(headers or {})}
        response = await self.request("offer", "POST", self.url, body=body, headers=sent, form_fields=form_fields)
        if 200 <= response.status < 300:
            self.set_resource(response)
        return response

    def result(self, answer_sdp: str, ice_servers: list[RTCIceServer] | None = None) -> SignalingResult:
        return SignalingResult(answer_sdp, list(self.exchanges), ice_servers or [], self.resource_url)

    def expect_answer(self, response: Response, phase: str = "offer") -> str:
        """The answer SDP of a response, or a SignalingError saying what came instead."""
        if response.status >= 300:
            detail = response.exchange.body_excerpt or "(empty body)"
            raise self.fail(response, _error_detail(detail), phase)
        if not is_sdp(response.text):
            ctype = response.exchange.response_content_type or "no Content-Type"
            shown = response.exchange.body_excerpt or "(empty body)"
            raise self.fail(response, f"expected an SDP answer, got {ctype}: {shown}", phase)
        return response.text

    def set_resource(self, response: Response) -> None:
        """Resolve Location (relative or absolute) against the URL the request was sent to."""
        locations = response.header_values("Location")
        if locations:
            self.resource_url = resolve_location(response.url, locations[0])
        etags = response.header_values("ETag")
        self.etag = etags[0] if etags else None

    async def patch_fragment(self, phase: str, fragment: str, if_match: str | None) -> Response:
        """PATCH a trickle-ice-sdpfrag to the resource (RFC 9725 §4.3): `phase` "patch" for
        trickle, "restart" for an ICE restart (If-Match "*", §4.4). A 2xx with an ETag renews the
        one later PATCHes send. Connection failures raise SignalingError, statuses do not."""
        if self.resource_url is None:
            raise SignalingError(phase, "http", "no resource URL (the answer had no Location) to PATCH")
        headers = {**self.auth_headers(), "Content-Type": TRICKLE_TYPE}
        if if_match is not None:
            headers["If-Match"] = if_match
        if _origin(self.resource_url) != _origin(self.url):
            headers.pop("Authorization", None)
        body = fragment.encode()
        response = await self.request(phase, "PATCH", self.resource_url, body=lambda: body, headers=headers)
        response.exchange.request_fragment = redact_text(fragment[:MAX_FRAGMENT_CHARS])
        if (response.exchange.response_content_type or "").lower().startswith(TRICKLE_TYPE):
            response.exchange.response_fragment = redact_text(response.text[:MAX_FRAGMENT_CHARS])
            response.exchange.body_excerpt = None  # the body is the fragment, kept whole above
        if 200 <= response.status < 300 and response.header_values("ETag"):
            self.etag = response.header_values("ETag")[0]
        if response.status >= 300:
            response.exchange.error = response.exchange.summary
        return response


def _headers(headers: Mapping[str, str]) -> dict[str, str]:
    """Header map to a plain dict; repeated headers (Link) are joined with ', ' as RFC 9110 allows."""
    out: dict[str, str] = {}
    for name, value in headers.items():
        out[name] = f"{out[name]}, {value}" if name in out else value
    return out


async def _read_limited(resp: aiohttp.ClientResponse) -> tuple[bytes, bool]:
    """The body, up to MAX_RESPONSE_BYTES, and whether that was all of it: a server must not be
    able to fill memory or disk with its answer. A declared Content-Length past the limit is not
    read at all. The request's deadline (HttpSignaler.timeout) bounds the whole read, so a server
    trickling bytes forever ends in a timeout."""
    if resp.content_length is not None and resp.content_length > MAX_RESPONSE_BYTES:
        return b"", False
    chunks: list[bytes] = []
    size = 0
    while chunk := await resp.content.read(RESPONSE_CHUNK_BYTES):
        chunks.append(chunk)
        size += len(chunk)
        if size > MAX_RESPONSE_BYTES:
            return b"".join(chunks)[:MAX_RESPONSE_BYTES], False
    return b"".join(chunks), True


def _decode(raw: bytes, charset: str | None) -> str:
    try:
        return raw.decode(charset or "utf-8", errors="replace")
    except LookupError:  # a charset Python does not know
        return raw.decode("utf-8", errors="replace")


def _split_credentials(url: str) -> tuple[str, str | None]:
    """``https://user:pw@host/x`` → the URL without them, and Basic credentials for
    `auth_headers` (a token wins over them). They are secrets from here on."""
    parts = urlsplit(url)
    if parts.username is None and parts.password is None:
        return url, None
    user, password = unquote(parts.username or ""), unquote(parts.password or "")
    netloc = parts.netloc.rpartition("@")[2]
    basic = base64.b64encode(f"{user}:{password}".encode()).decode()
    register_secret(basic)
    return urlunsplit(parts._replace(netloc=netloc)), f"Basic {basic}"


def _origin(url: str) -> tuple[str, str, int | None]:
    parts = urlsplit(url)
    return parts.scheme.lower(), (parts.hostname or "").lower(), parts.port


def _error_detail(body: str) -> str:
    """OpenAI-style `{"error": {"message": ...}}` bodies say it best; otherwise the excerpt."""
    try:
        data = json.loads(body)
    except (ValueError, TypeError):
        return body
    if isinstance(data, dict) and isinstance(data.get("error"), dict):
        message = data["error"].get("message")
        if message:
            return redact_text(str(message))
    return body
