"""The reference target's listening socket: aiohttp's request handler with a cap on open
connections per client address, a deadline for request headers, and 405 + Allow for request
methods that aiohttp's C parser refuses before any route is consulted."""

from __future__ import annotations

import asyncio
import logging
import re
from collections import Counter
from typing import Any

from aiohttp import hdrs, web
from aiohttp.http_exceptions import BadHttpMethod, HttpProcessingError

from .http import error_response

logger = logging.getLogger(__name__)

#: What a connection over the per-address cap gets before it is closed.
TOO_MANY_CONNECTIONS = (b"HTTP/1.1 503 Service Unavailable\r\nRetry-After: %d\r\nConnection: close\r\n"
                        b"Content-Type: text/plain\r\nContent-Length: 33\r\n\r\n"
                        b"too many connections from you\r\n\r\n")
# The request line as llhttp's (and aiohttp's Python parser's) error message quotes it.
_REQUEST_LINE = re.compile(r"""b?['"]([A-Za-z0-9!#$%&*+.^_`|~-]+) (/[^\s'"]*) HTTP/\d""")


class ConnectionCap:
    """Open connections per client address, admitted up to `per_address`."""

    def __init__(self, per_address: int) -> None:
        self.per_address = per_address
        self.open: Counter[str] = Counter()

    def admit(self, address: str) -> bool:
        if self.open[address] >= self.per_address:
            return False
        self.open[address] += 1
        return True

    def release(self, address: str) -> None:
        self.open[address] -= 1
        if self.open[address] <= 0:
            del self.open[address]


def allowed_methods(app: web.Application, path: str) -> list[str]:
    """The methods the app's routes take on `path` (what `Allow` lists); [] when no route matches."""
    methods: set[str] = set()
    for resource in app.router.resources():
        info = resource.get_info()
        pattern = info.get("pattern")
        if info.get("path") == path or (pattern is not None and pattern.fullmatch(path)):
            methods.update(route.method for route in resource)
    if hdrs.METH_ANY in methods:
        methods = set(hdrs.METH_ALL)
    return sorted(methods)


class GuardedHandler(web.RequestHandler):
    """aiohttp's per-connection protocol, admitted by a ConnectionCap. The header deadline is
    aiohttp's keep-alive timer (`keepalive_timeout`): it starts with the connection and restarts
    after each answer, and closes the connection if no complete request has arrived by then."""

    def __init__(self, manager: web.Server, *, app: web.Application, cap: ConnectionCap,
                 retry_after: int, **kwargs: Any) -> None:
        super().__init__(manager, **kwargs)
        self._app = app
        self._cap = cap
        self._retry_after = retry_after
        self._address: str | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        super().connection_made(transport)
        peer = transport.get_extra_info("peername")
        address = str(peer[0]) if peer else "unknown"
        if not self._cap.admit(address):
            logger.warning("refused a connection from %s: %d already open", address, self._cap.per_address)
            transport.write(TOO_MANY_CONNECTIONS % self._retry_after)  # type: ignore[attr-defined]
            transport.close()
            return
        self._address = address

    def connection_lost(self, exc: BaseException | None) -> None:
        if self._address is not None:
            self._cap.release(self._address)
            self._address = None
        super().connection_lost(exc)

    def log_exception(self, *args: Any, **kw: Any) -> None:
        """A request aiohttp could not parse is the client's fault: one line, not a traceback."""
        exc = kw.get("exc_info")
        if isinstance(exc, HttpProcessingError):
            logger.info("refused a malformed request: %s", str(exc).splitlines()[0] if str(exc) else exc)
            return
        super().log_exception(*args, **kw)

    def handle_error(self, request: web.BaseRequest, status: int = 500, exc: BaseException | None = None,
                     message: str | None = None) -> web.StreamResponse:
        """A well-formed request line whose method the parser does not know (`BREW /whip`) is a
        405 naming the methods the path takes, as for any other method a route does not take."""
        found = _REQUEST_LINE.search(str(exc)) if isinstance(exc, BadHttpMethod) else None
        if found is None:
            return super().handle_error(request, status, exc, message)
        method, path = found[1], found[2].partition("?")[0]
        allow = allowed_methods(self._app, path)
        if not allow:
            response = error_response(404, f"no resource at {path}", "not_found")
        else:
            response = error_response(405, f"method {method} is not allowed here", "method_not_allowed",
                                      Allow=",".join(allow))  # as aiohttp writes it
        response.force_close()
        return response


class GuardedSite(web.TCPSite):
    """A TCP site whose connections are GuardedHandlers."""

    def __init__(self, runner: web.AppRunner, host: str, port: int, *, header_timeout: float,
                 max_connections_per_ip: int, retry_after: int) -> None:
        super().__init__(runner, host, port)
        self._listen = (host, port)
        self.cap = ConnectionCap(max_connections_per_ip)
        self._handler_args = {"keepalive_timeout": header_timeout, "retry_after": retry_after}

    async def start(self) -> None:
        await web.BaseSite.start(self)  # registers the site; TCPSite.start would listen with aiohttp's handler
        loop = asyncio.get_running_loop()
        server = self._runner.server
        assert server is not None
        app = self._runner.app  # type: ignore[attr-defined]

        def protocol() -> GuardedHandler:
            return GuardedHandler(server, app=app, cap=self.cap, loop=loop, access_log=None,
                                  **self._handler_args)

        self._server = await loop.create_server(protocol, *self._listen, reuse_address=True)
