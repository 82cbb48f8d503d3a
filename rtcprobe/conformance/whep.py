"""WHEP's own requirements (draft-ietf-wish-whep-03, the WG's latest): media flows to the player,
HEAD tells players this is a WHEP endpoint (§4.2), and a 406 counter-offer (§4.3.2) or a 409 while
nothing is published (§4.3.8) are checked when the server answers so."""

from __future__ import annotations

from .client import SDP_TYPE, WIRE_WATCH_SECONDS, Checker
from .model import FAIL, PASS, SKIP, WARN, requirement

DRAFT = "draft-ietf-wish-whep"


@requirement("whep.media", f"{DRAFT} §4.3.1", "the player receives the server's RTP after the 201",
             protocols=("whep",))
async def media(ck: Checker) -> tuple[str, str]:
    if ck.post_error:
        return SKIP, ck.post_error
    counts = await ck.watch(WIRE_WATCH_SECONDS)
    return (PASS if counts["rtp"] else FAIL), f"{counts['rtp']} RTP, {counts['rtcp']} RTCP in {WIRE_WATCH_SECONDS:g} s"


@requirement("whep.head", f"{DRAFT} §4.2",
             "HEAD on the endpoint answers 200 with Content-Type application/sdp and no body "
             "(players discover WHEP endpoints so)", protocols=("whep",))
async def head(ck: Checker) -> tuple[str, str]:
    reply = await ck.request("HEAD", ck.url)
    ctype = reply.headers.get("Content-Type", "").split(";")[0].strip().lower()
    if reply.status == 200 and ctype == SDP_TYPE and not reply.text:
        return PASS, f"{reply.shown}, Content-Type: {ctype}"
    return WARN, f"{reply.shown}, Content-Type: {ctype or '(none)'} (a SHOULD)"


@requirement("whep.counter_offer", f"{DRAFT} §4.3.2",
             "a 406 to the POST carries the server's counter-offer as application/sdp and a Location",
             protocols=("whep",))
async def counter_offer(ck: Checker) -> tuple[str, str]:
    if ck.post is None or ck.post.status != 406:
        return SKIP, "the POST was not answered 406"
    ctype = ck.post.headers.get("Content-Type", "").split(";")[0].strip().lower()
    ok = ctype == SDP_TYPE and ck.post.text.lstrip().startswith("v=0") and "Location" in ck.post.headers
    return (PASS if ok else FAIL), f"{ck.post.shown}, Content-Type: {ctype or '(none)'}"


@requirement("whep.no_publisher", f"{DRAFT} §4.3.8",
             "a 409 (nothing published yet) carries Retry-After", protocols=("whep",))
async def no_publisher(ck: Checker) -> tuple[str, str]:
    if ck.post is None or ck.post.status != 409:
        return SKIP, "the POST was not answered 409"
    value = ck.post.headers.get("Retry-After")
    return (PASS if value else FAIL), f"{ck.post.shown}, Retry-After: {value or '(none)'}"
