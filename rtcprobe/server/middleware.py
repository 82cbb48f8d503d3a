"""What wraps every request of the reference target: a logged 500 (never a traceback) for what no
handler expected, the Host check against DNS rebinding, CORS, and 4xx answers for bad requests."""

from __future__ import annotations

import logging
import time
from typing import Any

from aiohttp import web

from ..probe.loopback import is_loopback
from .config import ServerConfig
from .http import RequestError, error_response

logger = logging.getLogger(__name__)

CONFIG = web.AppKey("rtcprobe_config", ServerConfig)

#: What a page on another origin needs to send and to read (WHIP, realtime, trickle).
CORS_ALLOW_HEADERS = "Authorization, Content-Type, If-Match, OpenAI-Beta"
CORS_EXPOSE_HEADERS = "Location, ETag, Link"
CORS_METHODS = "GET, HEAD, POST, DELETE, PATCH, OPTIONS"
#: Endpoints whose POST takes a bare SDP offer (their OPTIONS carries Accept-Post).
SDP_ENDPOINTS = frozenset(("/whip", "/whep", "/offer"))


@web.middleware
async def unexpected_errors(request: web.Request, handler: Any) -> web.StreamResponse:
    """An exception no handler expected is a bug of ours: logged with its traceback here, and
    answered 500 with one line, so a client never sees server internals."""
    try:
        return await handler(request)
    except web.HTTPException:
        raise
    except Exception:
        logger.exception("%s %s: unexpected error", request.method, request.path)
        return error_response(500, "internal error of the reference target (logged on the server)",
                              "server_error")


def _session_of(request: web.Request, response: web.StreamResponse | None) -> str:
    """The session a request made (its Location) or addressed (its {id}); "-" for none."""
    location = response.headers.get("Location", "") if response is not None else ""
    return request.match_info.get("id") or (location.rstrip("/").rpartition("/")[2] if location else "") or "-"


@web.middleware
async def log_requests(request: web.Request, handler: Any) -> web.StreamResponse:
    """One line a request (`serve -v`): method, path, status, session, time taken. The path only:
    a query string may carry a credential."""
    started = time.monotonic()
    try:
        response = await handler(request)
    except web.HTTPException as exc:  # the router's 404/405: logged too, then raised as aiohttp expects
        logger.info("%s %s -> %d session=%s %.1f ms", request.method, request.path, exc.status,
                    _session_of(request, None), (time.monotonic() - started) * 1000)
        raise
    logger.info("%s %s -> %d session=%s %.1f ms", request.method, request.path, response.status,
                _session_of(request, response), (time.monotonic() - started) * 1000)
    return response


def host_name(host_header: str) -> str:
    """The name in a Host header, without port or IPv6 brackets (`[::1]:80` -> `::1`)."""
    if host_header.startswith("["):
        return host_header[1:].partition("]")[0]
    return host_header.rpartition(":")[0] if host_header.count(":") == 1 else host_header


@web.middleware
async def loopback_host_only(request: web.Request, handler: Any) -> web.StreamResponse:
    """On a loopback address, only loopback Host names (localhost, 127.x, [::1], 0.0.0.0) are served: a page
    on evil.example whose name is re-pointed at 127.0.0.1 (DNS rebinding) sends `Host: evil.example`
    and must not reach the target. A request without Host is no browser's and is served."""
    given = request.headers.get("Host")
    if given is None or not is_loopback(request.app[CONFIG].host):
        return await handler(request)
    name = host_name(given.strip()).rstrip(".")
    if is_loopback(name, destination=True):  # 0.0.0.0 as a destination reaches this host too
        return await handler(request)
    logger.warning("refused Host %r: the target listens on loopback", given[:100])
    return error_response(421, "this target listens on loopback and answers only Host names "
                          "localhost, 127.x.x.x or [::1]", "misdirected_request")


@web.middleware
async def cors(request: web.Request, handler: Any) -> web.StreamResponse:
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
        if request.path in SDP_ENDPOINTS:  # RFC 9725 §4.2: OPTIONS lists what POST takes
            response.headers["Accept-Post"] = "application/sdp"
    else:
        try:
            response = await handler(request)
        except web.HTTPException as exc:  # 404, 405 of the router: readable by the page too
            _allow_origin(exc, origin)
            raise
    _allow_origin(response, origin)
    return response


def _allow_origin(response: web.StreamResponse, origin: str) -> None:
    response.headers["Access-Control-Allow-Origin"] = origin
    response.headers["Access-Control-Expose-Headers"] = CORS_EXPOSE_HEADERS
    response.headers["Vary"] = "Origin"


@web.middleware
async def request_errors(request: web.Request, handler: Any) -> web.StreamResponse:
    """A RequestError raised while reading a request becomes its 4xx answer."""
    try:
        return await handler(request)
    except RequestError as exc:
        return exc.response()


#: Outermost first.
MIDDLEWARES = [unexpected_errors, log_requests, loopback_host_only, cors, request_errors]
