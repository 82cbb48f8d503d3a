"""GET, HEAD and PUT (RFC 9725 §4.1, draft-ietf-wish-whep §4.1): WHIP/WHEP resources have no
representation, so GET answers 2xx with no content (drafts -00 to -05 said 405: a fail now);
HEAD answers as GET without a body (RFC 9110 §9.3.2); PUT, which neither defines, is not a 2xx."""

from __future__ import annotations

from .client import Checker, Reply
from .model import FAIL, PASS, SKIP, WARN, requirement
from .patch import _usable


def _targets(ck: Checker) -> list[str]:
    urls = [ck.url]
    if _usable(ck) is None and ck.resource:
        urls.append(ck.resource)
    return urls


def _empty_2xx(reply: Reply) -> str | None:
    if reply.status // 100 != 2:
        return f"{reply.shown}" + (" (the 405 of draft-ietf-wish-whip-00 to -05)" if reply.status == 405 else "")
    if reply.text:
        return f"{reply.shown} with {len(reply.text)} characters of content"
    return None


@requirement("methods.get", "RFC 9725 §4.1 / draft-ietf-wish-whep §4.1",
             "GET on the endpoint and on the session answers 2xx with no content")
async def get(ck: Checker) -> tuple[str, str]:
    replies = [await ck.request("GET", url) for url in _targets(ck)]
    wrong = [problem for r in replies if (problem := _empty_2xx(r))]
    return (FAIL, "; ".join(wrong)) if wrong else (PASS, "; ".join(r.shown for r in replies))


@requirement("methods.head", "RFC 9110 §9.3.2; RFC 9725 §4.1",
             "HEAD answers as GET does (2xx, no body) on the session, and on a WHIP endpoint")
async def head(ck: Checker) -> tuple[str, str]:
    urls = _targets(ck)[1:] if ck.protocol == "whep" else _targets(ck)  # WHEP's endpoint: whep.head
    if not urls:
        return SKIP, "no session URL"
    replies = [await ck.request("HEAD", url) for url in urls]
    wrong = [problem for r in replies if (problem := _empty_2xx(r))]
    return (FAIL, "; ".join(wrong)) if wrong else (PASS, "; ".join(r.shown for r in replies))


@requirement("methods.put", "RFC 9110 §15.5.6; RFC 9725 §4.1",
             "PUT, which WHIP/WHEP do not define, is refused (405) on the endpoint and the session")
async def put(ck: Checker) -> tuple[str, str]:
    replies = [await ck.request("PUT", url) for url in _targets(ck)]
    if accepted := [r.shown for r in replies if r.status // 100 == 2]:
        return FAIL, "; ".join(accepted)
    if other := [r.shown for r in replies if r.status != 405]:
        return WARN, "; ".join(other) + " (refused, though 405 says why)"
    return PASS, "; ".join(r.shown for r in replies)
