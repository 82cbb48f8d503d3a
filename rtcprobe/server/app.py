"""The reference target's HTTP side: WHIP, the realtime GA and beta interfaces and a generic offer
endpoint on one aiohttp application, with bearer auth and injectable HTTP faults."""

from __future__ import annotations

import asyncio
import json
import logging
import secrets
from collections.abc import Callable
from typing import Any
from urllib.parse import urljoin

from aiohttp import web
from aiortc import RTCIceCandidate

from ..probe.loopback import is_loopback, loopback_candidates_only, restrict_to_loopback
from ..redact import register_secret
from ..sdp import parse_candidate
from ..signaling.exchange import SDP_TYPE
from ..signaling.openai import DEFAULT_MODEL
from ..signaling.openai_beta import DEFAULT_MODEL as BETA_MODEL
from .config import ServerConfig
from .peer import EchoSession, OfferError, close_all, open_session

logger = logging.getLogger(__name__)

CONFIG = web.AppKey("rtcprobe_config", ServerConfig)
SESSIONS = web.AppKey("rtcprobe_sessions", dict)

JSON_TYPE = "application/json"
TRICKLE_TYPE = "application/trickle-ice-sdpfrag"
GARBAGE_PAGE = ("<!DOCTYPE html><html><head><title>502 Bad Gateway</title></head>"
                "<body><h1>502 Bad Gateway</h1><p>upstream sent nonsense</p></body></html>")

# Endpoint names, and where their resources live (the beta interface had no resource URL).
WHIP, CALLS, BETA, OFFER = "whip", "openai", "openai-beta", "sdp-post"
RESOURCE_PREFIX = {WHIP: "/whip/", CALLS: "/v1/realtime/calls/", OFFER: "/offer/"}


def _error(status: int, message: str, code: str = "invalid_request", **headers: str) -> web.Response:
    """An OpenAI-shaped JSON error body; every endpoint uses it so clients can show the message."""
    body = {"error": {"message": message, "type": "invalid_request_error", "code": code}}
    return web.json_response(body, status=status, headers=headers)


class Target:
    """Request handlers around one config and one table of live sessions."""

    def __init__(self, app: web.Application) -> None:
        self.app = app

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
        if scheme.lower() == "bearer" and secrets.compare_digest(given.strip().encode(), token.encode()):
            return None
        message = "missing Authorization header" if not given else "the token is not valid"
        return _error(401, message, "invalid_api_key",
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
            return _error(config.http_status, f"fault injected: status {config.http_status}",
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
        try:
            session = await open_session(offer_sdp, self.config, endpoint=endpoint,
                                         realtime_session=realtime_session, ga=ga,
                                         on_closed=self._forget)
        except OfferError as exc:
            return _error(400, str(exc), "invalid_offer")
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
            return _error(415, f"expected Content-Type {SDP_TYPE}, got {request.content_type}")
        result = await self._answer(request, WHIP, await request.text())
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
            offer = await request.text()
        elif request.content_type in ("multipart/form-data", "application/x-www-form-urlencoded"):
            form = await request.post()
            offer = form.get("sdp")
            if not isinstance(offer, str):
                return _error(400, "the form has no \"sdp\" field", "missing_sdp")
            raw = form.get("session")
            if raw is not None:
                try:
                    given = json.loads(raw if isinstance(raw, str) else raw.file.read())
                except ValueError as exc:
                    return _error(400, f"\"session\" is not valid JSON: {exc}", "invalid_session")
                if not isinstance(given, dict):
                    return _error(400, "\"session\" must be a JSON object", "invalid_session")
                session_config.update(given)
        else:
            return _error(415, f"expected multipart/form-data or {SDP_TYPE}, got {request.content_type}")
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
                return _error(400, "missing header OpenAI-Beta: realtime=v1", "missing_beta_header")
            logger.info("beta offer without an OpenAI-Beta header (accepted)")
        if request.content_type != SDP_TYPE:
            return _error(415, f"expected Content-Type {SDP_TYPE}, got {request.content_type}")
        model = request.query.get("model", BETA_MODEL)
        result = await self._answer(request, BETA, await request.text(),
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
            try:
                data = await request.json()
                offer = data["sdp"]
            except (ValueError, KeyError, TypeError):
                return _error(400, "expected JSON {\"type\": \"offer\", \"sdp\": ...}", "invalid_offer")
        elif request.content_type == SDP_TYPE:
            offer = await request.text()
        else:
            return _error(415, f"expected {SDP_TYPE} or {JSON_TYPE}, got {request.content_type}")
        result = await self._answer(request, OFFER, offer)
        if isinstance(result, web.Response):
            return result
        headers = {"Location": self._location(request, OFFER, result.id)}
        if as_json:
            return web.json_response({"type": "answer", "sdp": result.answer_sdp}, headers=headers)
        return web.Response(text=result.answer_sdp, content_type=SDP_TYPE, headers=headers)

    # -- resource endpoints --

    def _session(self, request: web.Request) -> EchoSession | None:
        session_id = request.match_info["id"].removeprefix("rtc_")
        return self.sessions.get(session_id)

    async def delete(self, request: web.Request) -> web.StreamResponse:
        if stop := self._unauthorized(request):
            return stop
        session = self._session(request)
        if session is None:
            return _error(404, "no such session", "not_found")
        self._forget(session)
        await session.close()
        return web.Response(status=200)

    async def patch(self, request: web.Request) -> web.StreamResponse:
        """WHIP trickle (RFC 9725 §4.3): candidates in a trickle-ice-sdpfrag; no ICE restarts."""
        if stop := self._unauthorized(request):
            return stop
        session = self._session(request)
        if session is None:
            return _error(404, "no such session", "not_found")
        if request.content_type != TRICKLE_TYPE:
            return _error(415, f"expected Content-Type {TRICKLE_TYPE}, got {request.content_type}")
        if_match = request.headers.get("If-Match")
        if if_match not in (None, "*", session.etag):
            return _error(412, "If-Match does not match the session's ETag", "precondition_failed")
        lines = loopback_candidates_only(await request.text()).splitlines()
        remote = session.pc.remoteDescription
        ufrags = [line.split(":", 1)[1].strip() for line in lines if line.startswith("a=ice-ufrag:")]
        if remote is not None and ufrags and f"a=ice-ufrag:{ufrags[0]}" not in remote.sdp:
            return _error(405, "ICE restarts are not supported (aiortc cannot restart ICE)",
                          "ice_restart_unsupported")
        mid = next((line[6:].strip() for line in lines if line.startswith("a=mid:")), None)
        try:
            for line in lines:
                if line.startswith("a=candidate:"):
                    await session.pc.addIceCandidate(_ice_candidate(line, mid))
        except ValueError as exc:
            return _error(400, f"bad candidate: {exc}", "invalid_candidate")
        return web.Response(status=204)

    async def redirect(self, request: web.Request) -> web.StreamResponse:
        """`/redirect/307/whip` answers 307 to `/whip`: the redirect cases of WHIP, on demand."""
        code = int(request.match_info["code"])
        if code not in (301, 302, 303, 307, 308):
            return _error(400, "redirect code must be 301, 302, 303, 307 or 308")
        target = "/" + request.match_info["path"]
        if request.query_string:
            target += "?" + request.query_string
        if self.config.absolute_location:
            target = urljoin(str(request.url), target)
        return web.Response(status=code, headers={"Location": target})


def _ice_candidate(line: str, mid: str | None) -> RTCIceCandidate:
    c = parse_candidate(line)
    return RTCIceCandidate(
        component=c.component, foundation=c.foundation, ip=c.address, port=c.port,
        priority=c.priority, protocol=c.transport, type=c.type, relatedAddress=c.raddr,
        relatedPort=c.rport, sdpMid=mid, sdpMLineIndex=None if mid else 0, tcpType=c.tcptype,
    )


#: What a page on another origin needs to send and to read (WHIP, realtime, trickle).
CORS_ALLOW_HEADERS = "Authorization, Content-Type, If-Match, OpenAI-Beta"
CORS_EXPOSE_HEADERS = "Location, ETag, Link"
CORS_METHODS = "POST, DELETE, PATCH, OPTIONS"


@web.middleware
async def _log_requests(request: web.Request, handler: Any) -> web.StreamResponse:
    response = await handler(request)
    logger.info("%s %s -> %d", request.method, request.path, response.status)
    return response


@web.middleware
async def _cors(request: web.Request, handler: Any) -> web.StreamResponse:
    """CORS (when configured): preflights answered here, every answer readable by the page."""
    if not request.app[CONFIG].cors:
        return await handler(request)
    origin = request.headers.get("Origin", "*")
    if request.method == "OPTIONS" and "Access-Control-Request-Method" in request.headers:
        response: web.StreamResponse = web.Response(status=204, headers={
            "Access-Control-Allow-Methods": CORS_METHODS,
            "Access-Control-Allow-Headers": CORS_ALLOW_HEADERS,
            "Access-Control-Max-Age": "600",
        })
    else:
        try:
            response = await handler(request)
        except web.HTTPException as exc:
            response = exc
    response.headers["Access-Control-Allow-Origin"] = origin
    response.headers["Access-Control-Expose-Headers"] = CORS_EXPOSE_HEADERS
    response.headers["Vary"] = "Origin"
    return response


def create_app(config: ServerConfig) -> web.Application:
    """The aiohttp application of the reference target.

    On a loopback address, ICE gathers loopback candidates only (rtcprobe.probe.loopback), as
    the probe does for a loopback target, so local sessions never leave the loopback interface."""
    if is_loopback(config.host):
        restrict_to_loopback()
    register_secret(config.token)
    register_secret(config.ice_credential)
    app = web.Application(middlewares=[_log_requests, _cors])
    app[CONFIG] = config
    app[SESSIONS] = {}
    target = Target(app)
    app.add_routes([
        web.post("/whip", target.whip),
        web.delete("/whip/{id}", target.delete),
        web.patch("/whip/{id}", target.patch),
        web.post("/v1/realtime/calls", target.calls),
        web.post("/v1/realtime/calls/{id}/hangup", target.delete),
        web.delete("/v1/realtime/calls/{id}", target.delete),
        web.post("/v1/realtime", target.beta),
        web.post("/offer", target.offer),
        web.delete("/offer/{id}", target.delete),
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
    site = web.TCPSite(runner, config.host, config.port)
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
