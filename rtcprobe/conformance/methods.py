"""Methods reserved for later versions (RFC 9725 §4.2): GET, HEAD and PUT on the endpoint and on
the resource answer 405 Method Not Allowed."""

from __future__ import annotations

from .client import Checker
from .model import FAIL, PASS, SKIP, requirement
from .patch import _usable

RESERVED = ("GET", "HEAD", "PUT")


async def _reserved(ck: Checker, url: str, methods: tuple[str, ...] = RESERVED) -> tuple[str, str]:
    replies = [await ck.request(method, url) for method in methods]
    wrong = [r.shown for r in replies if r.status != 405]
    return (FAIL, "; ".join(wrong)) if wrong else (PASS, "; ".join(r.shown for r in replies))


@requirement("methods.endpoint", "RFC 9725 §4.2",
             "GET, HEAD and PUT on the endpoint answer 405 (WHEP: GET and PUT; HEAD is whep.head)")
async def endpoint(ck: Checker) -> tuple[str, str]:
    return await _reserved(ck, ck.url, ("GET", "PUT") if ck.protocol == "whep" else RESERVED)


@requirement("methods.resource", "RFC 9725 §4.2", "GET, HEAD and PUT on the resource answer 405")
async def resource(ck: Checker) -> tuple[str, str]:
    if (skip := _usable(ck)) is not None:
        return skip
    assert ck.resource is not None
    if ck.protocol == "whep":
        return SKIP, "WHEP gives the resource's GET its own meaning in some draft versions"
    return await _reserved(ck, ck.resource)
