"""What the reference target reads from a request: the body (within a time limit, in its declared
charset), JSON and forms, each failure a 4xx with a one-line message instead of an exception."""

from __future__ import annotations

import asyncio
import codecs
from typing import Any

from aiohttp import web
from multidict import MultiDictProxy

from ..errors import json_value


class RequestError(Exception):
    """A request the target cannot take: answered `status` with an OpenAI-shaped error body."""

    def __init__(self, status: int, message: str, code: str = "invalid_request", *,
                 close: bool = False, **headers: str) -> None:
        super().__init__(message)
        self.status, self.message, self.code, self.headers = status, message, code, headers
        self.close = close  # the connection cannot be reused (a body left half-sent)

    def response(self) -> web.Response:
        response = error_response(self.status, self.message, self.code, **self.headers)
        if self.close:
            response.force_close()
        return response


def error_response(status: int, message: str, code: str = "invalid_request", **headers: str) -> web.Response:
    """An OpenAI-shaped JSON error body; every endpoint uses it so clients can show the message."""
    body = {"error": {"message": message, "type": "invalid_request_error", "code": code}}
    return web.json_response(body, status=status, headers=headers)


async def _timed(request: web.Request, read: Any, timeout: float) -> Any:
    try:
        return await asyncio.wait_for(read, timeout)
    except TimeoutError:
        raise RequestError(408, f"the request body did not arrive within {timeout:g} s",
                           "request_timeout", close=True) from None


def _charset(request: web.Request) -> str:
    """The body's declared charset (utf-8 when none), refused 415 unless Python has a text codec
    of that name: a half-decoded offer is worse than a clear refusal."""
    name = request.charset or "utf-8"
    try:
        info = codecs.lookup(name)
    except (LookupError, ValueError):
        info = None
    if info is None or not getattr(info, "_is_text_encoding", True):
        raise RequestError(415, f"unsupported charset {name!r} (SDP is UTF-8)", "unsupported_charset")
    return info.name


async def body_text(request: web.Request, timeout: float) -> str:
    """The whole body as text, decoded strictly in its charset (400 when it is not that charset)."""
    charset = _charset(request)
    raw = await _timed(request, request.read(), timeout)
    try:
        return raw.decode(charset)
    except (UnicodeError, ValueError) as exc:
        raise RequestError(400, f"the body is not valid {charset}: {exc}", "invalid_encoding") from None


async def body_json(request: web.Request, timeout: float) -> Any:
    """The body as JSON; text that is not JSON, or JSON Python cannot take, is a 400."""
    text = await body_text(request, timeout)
    try:
        return json_value(text)
    except ValueError as exc:
        raise RequestError(400, f"the body is not usable JSON: {exc}", "invalid_json") from None


async def body_form(request: web.Request, timeout: float) -> MultiDictProxy[Any]:
    """A multipart form. Whatever aiohttp's multipart reader raises on a broken body (no boundary,
    a cut part, a bad header or charset) is about the client's bytes: a 400, not a 500."""
    _charset(request)
    try:
        return await _timed(request, request.post(), timeout)
    except (RequestError, web.HTTPException):
        raise
    except Exception as exc:  # noqa: BLE001 - the reader raises ValueError, AssertionError, ...
        reason = " ".join(str(exc).split()) or type(exc).__name__  # one line
        raise RequestError(400, f"the multipart body cannot be read: {reason}", "invalid_form") from None


def text_field(form: MultiDictProxy[Any], name: str) -> str | None:
    """A form field as text: a plain field, or a file part decoded as UTF-8; None when absent."""
    value = form.get(name)
    if value is None or isinstance(value, str):
        return value
    try:
        return value.file.read().decode("utf-8")
    except (UnicodeError, AttributeError, OSError) as exc:
        raise RequestError(400, f"form field {name!r} is not UTF-8 text: {exc}", "invalid_form") from None
