"""The reference target's HTTP side: WHIP, WHEP (rtcprobe.server.whep), the realtime GA and beta interfaces and a generic offer
endpoint on one aiohttp application, with bearer auth and injectable HTTP faults."""

from __future__ import annotations

import asyncio
import hashlib
import logging
import secrets
import unicodedata
from collections.abc import Callable
from typing import Any
from urllib.parse import unquote, urljoin

from aiohttp import web

from .. import limits
from ..errors import json_value
from ..probe.loopback import is_loopback, restrict_to_loopback
from ..redact import register_secret
from ..signaling.exchange import SDP_TYPE
from ..signaling.openai import DEFAULT_MODEL
from ..signaling.openai_beta import DEFAULT_MODEL as BETA_MODEL
from . import whep
from .config import ServerConfig
from .http import body_form, body_json, body_text, error_response, text_field
from .listener import GuardedSite
from .middleware import CONFIG, MIDDLEWARES
from .peer import EchoSession, OfferError, close_all, open_session

logger = logging.getLogger(__name__)

SESSIONS = web.AppKey("rtcprobe_sessions", dict)

JSON_TYPE = "application/json"
GARBAGE_PAGE = ("<!DOCTYPE html><html><head><title>502 Bad Gateway</title></head>"
                "<body><h1>502 Bad Gateway</h1><p>upstream sent nonsense</p></body></html>")

# Endpoint names, and where their resources live (the beta interface had no resource URL).
WHIP, WHEP, CALLS, BETA, OFFER = "whip", "whep", "openai", "openai-beta", "sdp-post"
RESOURCE_PREFIX = {WHIP: "/whip/", WHEP: "/whep/", CALLS: "/v1/realtime/calls/", OFFER: "/offer/"}


class Target:
    """Request handlers around one config and one table of live sessions."""

    def __init__(self, app: web.Application) -> None:
        self.app = app
        self._opening = 0  # offers being answered, not yet in `sessions`

    @property
    def config(self) -> ServerConfig:
        return self.app[CONFIG]

    @property
    def sessions(self) -> dict[str, EchoSession]:
        return self.app[SESSIONS]

    # -- cross-cutting checks --

    def _unauthorized(self, request: web.Request) -> web.Response | None:
        token = self.config.token
        if not token:
            return None
        scheme, _, given = request.headers.get("Authorization", "").partition(" ")
        # surrogatepass: a header byte that is not UTF-8 arrives as a lone surrogate; it compares unequal
        if scheme.lower() == "bearer" and secrets.compare_digest(
                given.strip().encode("utf-8", "surrogatepass"), token.encode("utf-8", "surrogatepass")):
            return None
        message = "missing Authorization header" if not given else "the token is not valid"
        return error_response(401, message, "invalid_api_key",
                      **{"WWW-Authenticate": 'Bearer realm="rtcprobe", error="invalid_token"'})

    async def _faults(self, request: web.Request) -> web.StreamResponse | None:
        """HTTP delay, then a forced status; None when the request should be served."""
        config = self.config
        if config.http_delay_ms:
            loop = asyncio.get_running_loop()
            until = loop.time() + config.http_delay_ms / 1000
            while (left := until - loop.time()) > 0:
                await asyncio.sleep(min(left, 0.05))
                if request.transport is None or request.transport.is_closing():
                    return web.Response(status=499)  # the client gave up; nobody reads this
        if config.http_status is not None:
            return error_response(config.http_status, f"fault injected: status {config.http_status}",
                                  "injected_fault")
        return None

    def _location(self, request: web.Request, endpoint: str, session_id: str) -> str:
        path = RESOURCE_PREFIX[endpoint] + session_id
        return urljoin(str(request.url), path) if self.config.absolute_location else path

    async def _answer(self, request: web.Request, endpoint: str, offer_sdp: str,
                      realtime_session: dict[str, Any] | None = None, ga: bool = True,
                      ) -> EchoSession | web.Response:
        if self.config.garbage_body:
            return web.Response(status=201, text=GARBAGE_PAGE, content_type="text/html")
        if len(self.sessions) + self._opening >= self.config.max_sessions:
            return error_response(503, f"the target holds its maximum of {self.config.max_sessions} "
                                  "sessions; try again later", "too_many_sessions",
                                  **{"Retry-After": str(limits.RETRY_AFTER_SECONDS)})
        self._opening += 1  # counted while the answer is made, so concurrent offers see it
        try:
            session = await open_session(offer_sdp, self.config, endpoint=endpoint,
                                         realtime_session=realtime_session, ga=ga,
                                         on_closed=self._forget)
        except OfferError as exc:
            return error_response(400, str(exc), "invalid_offer")
        finally:
            self._opening -= 1
        session.owner = _owner(request)
        self.sessions[session.id] = session
        return session

    def _forget(self, session: EchoSession) -> None:
        self.sessions.pop(session.id, None)

    async def _guarded(self, request: web.Request) -> web.StreamResponse | None:
        return await self._faults(request) or self._unauthorized(request)

    # -- offer endpoints --

    async def whip(self, request: web.Request) -> web.StreamResponse:
        if stop := await self._guarded(request):
            return stop
        if request.content_type != SDP_TYPE:
            return error_response(415, f"expected Content-Type {SDP_TYPE}, got {request.content_type}")
        offer = await self._text(request)
        if not self.config.garbage_body and (problem := whep.offer_problem(offer, WHIP)):
            return error_response(422, problem, "wrong_direction")
        result = await self._answer(request, WHIP, offer)
        if isinstance(result, web.Response):
            return result
        headers = {"Location": self._location(request, WHIP, result.id), "ETag": result.etag}
        response = web.Response(status=201, text=result.answer_sdp, content_type=SDP_TYPE,
                                headers=headers)
        for link in self._ice_server_links():
            response.headers.add("Link", link)
        return response

    def _ice_server_links(self) -> list[str]:
        config = self.config
        links = []
        for url in config.ice_servers:
            link = f'<{url}>; rel="ice-server"'
            if url.startswith(("turn:", "turns:")) and config.ice_username:
                link += (f'; username="{config.ice_username}"; credential="{config.ice_credential or ""}"'
                         '; credential-type="password"')
            links.append(link)
        return links

    async def calls(self, request: web.Request) -> web.StreamResponse:
        """GA: multipart `sdp` + `session`; a bare application/sdp offer is accepted too (what
        browsers holding a client secret send)."""
        if stop := await self._guarded(request):
            return stop
        session_config: dict[str, Any] = {"type": "realtime", "model": DEFAULT_MODEL}
        if request.content_type == SDP_TYPE:
            offer = await self._text(request)
        elif request.content_type == "multipart/form-data":  # what the API takes; not urlencoded
            form = await body_form(request, self.config.body_timeout)
            offer = text_field(form, "sdp")
            if offer is None:
                return error_response(400, "the form has no \"sdp\" field", "missing_sdp")
            raw = text_field(form, "session")
            if raw is not None:
                try:
                    given = json_value(raw)
                except ValueError as exc:
                    return error_response(400, f"\"session\" is not valid JSON: {exc}", "invalid_session")
                if not isinstance(given, dict):
                    return error_response(400, "\"session\" must be a JSON object", "invalid_session")
                session_config.update(given)
        else:
            return error_response(415, f"expected multipart/form-data or {SDP_TYPE}, got {request.content_type}")
        result = await self._answer(request, CALLS, offer, session_config, ga=True)
        if isinstance(result, web.Response):
            return result
        return web.Response(status=201, text=result.answer_sdp, content_type=SDP_TYPE,
                            headers={"Location": self._location(request, CALLS, "rtc_" + result.id)})

    async def beta(self, request: web.Request) -> web.StreamResponse:
        if stop := await self._guarded(request):
            return stop
        beta_header = request.headers.get("OpenAI-Beta")
        if beta_header is None:
            if self.config.require_beta_header:
                return error_response(400, "missing header OpenAI-Beta: realtime=v1", "missing_beta_header")
            logger.info("beta offer without an OpenAI-Beta header (accepted)")
        if request.content_type != SDP_TYPE:
            return error_response(415, f"expected Content-Type {SDP_TYPE}, got {request.content_type}")
        model = request.query.get("model", BETA_MODEL)
        result = await self._answer(request, BETA, await self._text(request),
                                    {"model": model, "modalities": ["audio", "text"]}, ga=False)
        if isinstance(result, web.Response):
            return result
        return web.Response(status=201, text=result.answer_sdp, content_type=SDP_TYPE)

    async def offer(self, request: web.Request) -> web.StreamResponse:
        """Generic: application/sdp in, SDP out; JSON `{"type":"offer","sdp":...}` in, JSON out."""
        if stop := await self._guarded(request):
            return stop
        as_json = request.content_type == JSON_TYPE
        if as_json:
            data = await body_json(request, self.config.body_timeout)
            offer = data.get("sdp") if isinstance(data, dict) else None
            if not isinstance(offer, str):
                return error_response(400, "expected JSON {\"type\": \"offer\", \"sdp\": \"<SDP text>\"}",
                                      "invalid_offer")
        elif request.content_type == SDP_TYPE:
            offer = await self._text(request)
        else:
            return error_response(415, f"expected {SDP_TYPE} or {JSON_TYPE}, got {request.content_type}")
        result = await self._answer(request, OFFER, offer)
        if isinstance(result, web.Response):
            return result
        headers = {"Location": self._location(request, OFFER, result.id)}
        if as_json:
            return web.json_response({"type": "answer", "sdp": result.answer_sdp}, headers=headers)
        return web.Response(text=result.answer_sdp, content_type=SDP_TYPE, headers=headers)

    # -- resource endpoints --

    async def _text(self, request: web.Request) -> str:
        return await body_text(request, self.config.body_timeout)

    def _session(self, request: web.Request, endpoint: str) -> EchoSession | None:
        """The session at this resource URL: made on this endpoint (a WHIP session is not reachable
        as /offer/<id>) and by this token; anything else is a session that does not exist here."""
        session_id = request.match_info["id"]
        if endpoint == CALLS:
            if not session_id.startswith("rtc_"):
                return None
            session_id = session_id.removeprefix("rtc_")
        session = self.sessions.get(session_id)
        if session is None or session.endpoint != endpoint or session.owner != _owner(request):
            return None
        return session

    def deleter(self, endpoint: str) -> Callable[[web.Request], Any]:
        async def delete(request: web.Request) -> web.StreamResponse:
            if stop := self._unauthorized(request):
                return stop
            session = self._session(request, endpoint)
            if session is None:
                return error_response(404, "no such session", "not_found")
            self._forget(session)
            await session.close("deleted by the client")
            return web.Response(status=200)

        return delete

    def reader(self, endpoint: str) -> Callable[[web.Request], Any]:
        """GET/HEAD on a WHIP or WHEP session: RFC 9725 §4.1 (and WHEP §4.1) give resources no
        representation, so an existing session answers 2xx without content (drafts -00 to -05
        said 405)."""
        async def read(request: web.Request) -> web.StreamResponse:
            if stop := self._unauthorized(request):
                return stop
            if self._session(request, endpoint) is None:
                return error_response(404, "no such session", "not_found")
            return web.Response(status=204)

        return read

    def patcher(self, endpoint: str) -> Callable[[web.Request], Any]:
        """PATCH on a WHIP or WHEP resource: trickle and ICE restart (rtcprobe.server.whep)."""
        async def patch_resource(request: web.Request) -> web.StreamResponse:
            return await whep.patch(self, request, endpoint)

        return patch_resource

    async def whep_offer(self, request: web.Request) -> web.StreamResponse:
        return await whep.whep_post(self, request, WHEP)

    async def redirect(self, request: web.Request) -> web.StreamResponse:
        """`/redirect/307/whip` answers 307 to `/whip`: the redirect cases of WHIP, on demand, to
        paths on this target only (not an open redirect)."""
        code = int(request.match_info["code"])
        if code not in (301, 302, 303, 307, 308):
            return error_response(400, "redirect code must be 301, 302, 303, 307 or 308")
        prefix = f"/redirect/{request.match_info['code']}"
        target = request.rel_url.raw_path.removeprefix(prefix)
        if problem := _not_a_local_path(target):
            return error_response(400, f"redirect target {problem}: only paths on this target", "invalid_redirect")
        if request.rel_url.raw_query_string:
            target += "?" + request.rel_url.raw_query_string
        if self.config.absolute_location:
            target = urljoin(str(request.url), target)
        return web.Response(status=code, headers={"Location": target})


def _owner(request: web.Request) -> str | None:
    """Who made a resource: a digest of the credential it was made with (None without one), so a
    session is only reachable with the token that made it."""
    given = request.headers.get("Authorization")
    if given is None:
        return None
    return hashlib.sha256(given.strip().encode("utf-8", "surrogatepass")).hexdigest()


def _not_a_local_path(raw_path: str) -> str | None:
    """Why `raw_path` (still percent-encoded) is not a path on this origin, or None when it is:
    `//host` and `/\\host` are other hosts to a browser, and a scheme, backslash or control
    character (also percent-encoded) has no place in a redirect to here."""
    decoded = unquote(raw_path)
    if not raw_path.startswith("/") or decoded.startswith(("//", "/\\")):
        return "names another host"
    if "\\" in decoded or ":" in decoded.split("/")[1]:
        return "has a backslash or a scheme"
    if any(unicodedata.category(c).startswith("C") or c.isspace() for c in decoded):
        return "has control characters or spaces"
    if not raw_path.isascii():
        return "is not ASCII"
    return None


async def _no_content(request: web.Request) -> web.StreamResponse:
    """GET (and HEAD) on a WHIP/WHEP endpoint: no representation (RFC 9725 §4.1)."""
    return web.Response(status=204)


def create_app(config: ServerConfig) -> web.Application:
    """The aiohttp application of the reference target.

    On a loopback address, ICE gathers loopback candidates only (rtcprobe.probe.loopback), as
    the probe does for a loopback target, so local sessions never leave the loopback interface."""
    if is_loopback(config.host):
        restrict_to_loopback()
    register_secret(config.token)
    register_secret(config.ice_credential)
    app = web.Application(middlewares=MIDDLEWARES, client_max_size=limits.MAX_REQUEST_BYTES)
    app[CONFIG] = config
    app[SESSIONS] = {}
    target = Target(app)
    app.add_routes([
        web.post("/whip", target.whip),
        web.get("/whip", _no_content),  # and HEAD: RFC 9725 §4.1, 2xx without content
        web.get("/whip/{id}", target.reader(WHIP)),
        web.delete("/whip/{id}", target.deleter(WHIP)),
        web.patch("/whip/{id}", target.patcher(WHIP)),
        web.post("/whep", target.whep_offer),
        web.get("/whep", _no_content, allow_head=False),
        web.head("/whep", whep.whep_head),
        web.get("/whep/{id}", target.reader(WHEP)),
        web.delete("/whep/{id}", target.deleter(WHEP)),
        web.patch("/whep/{id}", target.patcher(WHEP)),
        web.post("/v1/realtime/calls", target.calls),
        web.post("/v1/realtime/calls/{id}/hangup", target.deleter(CALLS)),
        web.delete("/v1/realtime/calls/{id}", target.deleter(CALLS)),
        web.post("/v1/realtime", target.beta),
        web.post("/offer", target.offer),
        web.delete("/offer/{id}", target.deleter(OFFER)),
        web.route("*", r"/redirect/{code:\d{3}}/{path:.*}", target.redirect),
    ])

    async def on_shutdown(app: web.Application) -> None:
        await close_all(app[SESSIONS])

    app.on_shutdown.append(on_shutdown)
    return app


async def run_server(config: ServerConfig) -> tuple[web.AppRunner, str]:
    """Start the target; returns the runner (await runner.cleanup() to stop) and its base URL."""
    runner = web.AppRunner(create_app(config), access_log=None)
    await runner.setup()
    site = GuardedSite(runner, config.host, config.port, header_timeout=config.header_timeout,
                       max_connections_per_ip=config.max_connections_per_ip,
                       retry_after=limits.RETRY_AFTER_SECONDS)
    await site.start()
    host, port = runner.addresses[0][:2]
    shown = f"[{host}]" if ":" in host else host
    base_url = f"http://{shown}:{port}"
    logger.info("reference target listening on %s", base_url)
    return runner, base_url


async def serve_forever(config: ServerConfig, on_ready: Callable[[str], None] | None = None) -> None:
    """Run the target until cancelled (Ctrl-C in `rtcprobe serve`); `on_ready` gets the base URL."""
    runner, base_url = await run_server(config)
    try:
        if on_ready is not None:
            on_ready(base_url)
        await asyncio.Event().wait()
    finally:
        await runner.cleanup()
