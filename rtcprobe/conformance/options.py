"""OPTIONS and CORS (RFC 9725 §4.2; Fetch's CORS protocol): a browser page can only read the
headers a WHIP/WHEP client needs (Location, ETag, Link, Accept-Patch) when the server exposes them."""

from __future__ import annotations

from ..signaling.facts import header_tokens, media_types
from .client import SDP_TYPE, Checker
from .model import FAIL, PASS, SKIP, WARN, requirement

ORIGIN = "http://rtcprobe-check.invalid"


@requirement("options.accept_post", "RFC 9725 §4.2 / draft-ietf-wish-whep §4.4",
             "OPTIONS on the endpoint answers 2xx and lists application/sdp in Accept-Post")
async def accept_post(ck: Checker) -> tuple[str, str]:
    reply = await ck.request("OPTIONS", ck.url, None, ck.headers(
        Origin=ORIGIN, Access_Control_Request_Method="POST",
        Access_Control_Request_Headers="authorization, content-type"))
    if reply.status // 100 != 2:
        return FAIL, reply.shown
    types = media_types(reply.values("Accept-Post"))
    if SDP_TYPE not in types:
        return WARN, f"{reply.shown}, Accept-Post: {', '.join(reply.values('Accept-Post')) or '(none)'}"
    return PASS, f"{reply.shown}, Accept-Post: {', '.join(types)}"


@requirement("cors.expose", "RFC 9725 §4.2; Fetch (CORS protocol)",
             "Access-Control-Expose-Headers of the POST lists Location, ETag, Link and Accept-Patch "
             "(those the response carries)")
async def expose(ck: Checker) -> tuple[str, str]:
    if ck.post is None or ck.post.status // 100 != 2:
        return SKIP, "no 2xx to the POST"
    exposed = header_tokens(ck.post.values("Access-Control-Expose-Headers"))
    if "*" in exposed:
        return PASS, "Access-Control-Expose-Headers: *"
    carried = [h for h in ("Location", "ETag", "Link", "Accept-Patch") if ck.post.values(h)]
    missing = [h for h in carried if h.lower() not in exposed]
    shown = ", ".join(ck.post.values("Access-Control-Expose-Headers")) or "(none)"
    if missing:
        return FAIL, f"{', '.join(missing)} sent but not exposed (Access-Control-Expose-Headers: {shown})"
    return PASS, f"Access-Control-Expose-Headers: {shown}"
