"""Trickle ICE through PATCH (RFC 9725 §4.3.1, §4.3.2; RFC 8840): the sdpfrag media type, If-Match
against the 201's ETag, 428 without it, 412 for a stale one, 422 for what the session does not do."""

from __future__ import annotations

from .client import TRICKLE_TYPE, Checker, Reply
from .model import FAIL, PASS, SKIP, WARN, requirement

STALE_ETAG = '"rtcprobe-stale-etag"'


def ice_line(sdp: str, name: str) -> str | None:
    return next((line.split(":", 1)[1].strip() for line in sdp.splitlines()
                 if line.startswith(f"a={name}:")), None)


def sdpfrag(ck: Checker, ufrag: str | None = None, pwd: str | None = None) -> str:
    """An RFC 8840 fragment: the offer's ICE credentials (or new ones), its first mid, and
    end-of-candidates (aiortc gathered everything before the offer)."""
    mid = ice_line(ck.offer_sdp, "mid") or "0"
    return (f"a=ice-ufrag:{ufrag or ice_line(ck.offer_sdp, 'ice-ufrag')}\r\n"
            f"a=ice-pwd:{pwd or ice_line(ck.offer_sdp, 'ice-pwd')}\r\n"
            f"m=audio 9 UDP/TLS/RTP/SAVPF 0\r\na=mid:{mid}\r\na=end-of-candidates\r\n")


async def trickle(ck: Checker, if_match: str | None) -> Reply:
    assert ck.resource is not None
    extra = {"If-Match": if_match} if if_match is not None else {}
    return await ck.request("PATCH", ck.resource, sdpfrag(ck), ck.headers(TRICKLE_TYPE, **extra))


def _usable(ck: Checker) -> tuple[str, str] | None:
    if ck.post is None or ck.post_error and not ck.resource:
        return SKIP, ck.post_error or "no session"
    if not ck.resource:
        return SKIP, "no Location: no resource to PATCH"
    if not ck.resource_ok:
        return SKIP, "the Location names nothing (location.resolves)"
    return None


def _not_trickle(reply: Reply) -> tuple[str, str] | None:
    """Refusals another check is about: the media type (patch.sdpfrag), no PATCH at all."""
    if reply.status == 415:
        return SKIP, f"{reply.shown}: the sdpfrag type is refused (patch.sdpfrag)"
    if reply.status in (405, 501, 422) and not _trickles(reply):
        return SKIP, f"{reply.shown}: trickle ICE not supported"
    return None


def _trickles(reply: Reply) -> bool:
    return reply.status // 100 == 2


@requirement("patch.sdpfrag", "RFC 9725 §4.3.1; RFC 8840",
             "PATCH with Content-Type application/trickle-ice-sdpfrag is not refused as 415")
async def accepts_sdpfrag(ck: Checker) -> tuple[str, str]:
    if (skip := _usable(ck)) is not None:
        return skip
    ck.trickle_reply = ck.first_trickle = reply = await trickle(ck, ck.etag or "*")
    if reply.status == 415:
        return FAIL, f"{reply.shown} for Content-Type: {TRICKLE_TYPE}"
    return PASS, reply.shown


@requirement("patch.trickle", "RFC 9725 §4.3.1, §4.3.2",
             "a trickle PATCH with If-Match set to the 201's ETag answers 204 No Content, without an ETag")
async def trickle_if_match(ck: Checker) -> tuple[str, str]:
    if (skip := _usable(ck)) is not None:
        return skip
    reply = ck.trickle_reply or await trickle(ck, ck.etag or "*")
    if (skip := _not_trickle(reply)) is not None:
        return skip
    if reply.status == 412:
        return FAIL, f"{reply.shown} for If-Match: {ck.etag} (the ETag of the 201 does not match its own session)"
    if reply.status == 204 and reply.values("ETag"):
        return FAIL, f"{reply.shown} with ETag: {reply.headers['ETag']} (a trickle 204 MUST NOT carry one)"
    if reply.status == 204:
        return PASS, f"{reply.shown} with If-Match: {ck.etag or '* (the 201 had no ETag)'}"
    if reply.status // 100 == 2:
        return WARN, f"{reply.shown} (204 is due)"
    return FAIL, f"{reply.shown} with If-Match: {ck.etag}"


@requirement("patch.no_if_match", "RFC 9725 §4.3.1; RFC 6585 §3",
             "a trickle PATCH without If-Match answers 428 Precondition Required")
async def no_if_match(ck: Checker) -> tuple[str, str]:
    if (skip := _usable(ck)) is not None:
        return skip
    reply = await trickle(ck, None)
    if (skip := _not_trickle(reply)) is not None:
        return skip
    return (PASS if reply.status == 428 else FAIL), f"{reply.shown} without If-Match"


@requirement("patch.stale_etag", "RFC 9725 §4.3.1; RFC 9110 §13.1.1",
             "a trickle PATCH whose If-Match is not the session's ETag answers 412 Precondition Failed")
async def stale_etag(ck: Checker) -> tuple[str, str]:
    if (skip := _usable(ck)) is not None:
        return skip
    reply = await trickle(ck, STALE_ETAG)
    if (skip := _not_trickle(reply)) is not None:
        return skip
    return (PASS if reply.status == 412 else FAIL), f"{reply.shown} for If-Match: {STALE_ETAG}"
