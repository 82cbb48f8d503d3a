"""The reference target's WHEP endpoint and the PATCH handling of its WHIP and WHEP resources.

WHEP (draft-ietf-wish-whep): a recvonly offer in, a sendonly answer out that plays the probe's
own test pattern and tone (rtcprobe.probe.media), with Location, ETag and Link as WHIP gives them.
PATCH (RFC 9725 §4.3, §4.4): trickle with a matching If-Match → 204; no If-Match → 428; a stale
one → 412; a fragment that cannot be used → 422; new ufrag/pwd (If-Match "*" or the current
ETag) → an ICE restart: 200, a new ETag and the answer fragment with the target's new ufrag/pwd
(rtcprobe.probe.ice_restart says what such a restart is with aiortc)."""

from __future__ import annotations

import logging
import secrets
from typing import TYPE_CHECKING

from aiohttp import web
from aiortc import RTCIceCandidate
from aiortc.mediastreams import MediaStreamTrack

from ..probe import media
from ..probe.ice_restart import RESTART_SCOPE, ice_agents, renew_credentials
from ..probe.loopback import ignored_reason
from ..sdp import Candidate
from ..signaling.exchange import SDP_TYPE
from ..signaling.facts import etag_matches
from ..signaling.trickle import TRICKLE_TYPE, build_fragment, new_credentials, parse_fragment
from .http import error_response

if TYPE_CHECKING:
    from .app import Target
    from .peer import EchoSession

logger = logging.getLogger(__name__)

#: The played test pattern: small and slow, so that a loopback target on a shared machine keeps up.
PLAYBACK_SIZE = (320, 240)
PLAYBACK_FPS = 15.0


def playback_track(kind: str) -> MediaStreamTrack:
    """What the target sends on an m-line the client only receives: the 440 Hz tone or the
    moving test pattern, the sources `capture` sends."""
    if kind == "audio":
        return media.ToneSource()
    return media.video_source(PLAYBACK_SIZE, PLAYBACK_FPS)


def offer_problem(offer_sdp: str, endpoint: str = "whep") -> str | None:
    """Why an offer is in the wrong direction for its endpoint: a WHEP offer receives only (every
    audio/video m-line recvonly); a WHIP offer ingests (RFC 9725 §4.2), so all-recvonly is refused."""
    from ..sdp import SdpError, parse_description

    try:
        offer = parse_description(offer_sdp, source="offer")
    except SdpError:
        return None  # open_session says what is wrong with it (400)
    media_lines = [m for m in offer.media if m.kind in ("audio", "video") and not m.rejected]
    if endpoint == "whip":
        if media_lines and all(m.direction == "recvonly" for m in media_lines):
            return "a WHIP offer sends media (RFC 9725 §4.2): every m-line is recvonly (playback is /whep)"
        return None
    if not media_lines:
        return "a WHEP offer needs an audio or video m-line"
    sending = [m.label for m in media_lines if m.direction != "recvonly"]
    if sending:
        return f"a WHEP offer receives only: {', '.join(sending)} is not recvonly"
    return None


async def whep_post(target: Target, request: web.Request, endpoint: str) -> web.StreamResponse:
    """POST /whep: 201 + Location + ETag (+ Link) and the sendonly answer."""
    if stop := await target._guarded(request):
        return stop
    if request.content_type != SDP_TYPE:
        return error_response(415, f"expected Content-Type {SDP_TYPE}, got {request.content_type}")
    offer = await target._text(request)
    problem = None if target.config.garbage_body else offer_problem(offer)  # the fault knob answers anything
    if problem:
        return error_response(422, problem, "not_recvonly")
    result = await target._answer(request, endpoint, offer)
    if isinstance(result, web.Response):
        return result
    headers = {"Location": target._location(request, endpoint, result.id), "ETag": result.etag}
    response = web.Response(status=201, text=result.answer_sdp, content_type=SDP_TYPE, headers=headers)
    for link in target._ice_server_links():
        response.headers.add("Link", link)
    return response


async def whep_head(request: web.Request) -> web.StreamResponse:
    """HEAD /whep → 200 with Content-Type application/sdp (draft-ietf-wish-whep)."""
    return web.Response(status=200, headers={"Content-Type": SDP_TYPE})


async def patch(target: Target, request: web.Request, endpoint: str) -> web.StreamResponse:
    """Trickle or ICE restart on a WHIP or WHEP resource (see the module docstring)."""
    if stop := target._unauthorized(request):
        return stop
    session = target._session(request, endpoint)
    if session is None:
        return error_response(404, "no such session", "not_found")
    if request.content_type != TRICKLE_TYPE:
        return error_response(415, f"expected Content-Type {TRICKLE_TYPE}, got {request.content_type}")
    if_match = request.headers.get("If-Match")
    if if_match is None:
        return error_response(428, "a PATCH needs If-Match (RFC 9725 §4.3)", "precondition_required")
    try:
        fragment = parse_fragment(await target._text(request))
    except ValueError as exc:
        return error_response(422, f"not a usable trickle-ice-sdpfrag: {exc}", "invalid_fragment")
    agents = ice_agents(session.pc)
    current = agents[0].remote_username if agents else None  # the client's ufrag now (restarts change it)
    restart = fragment.ufrag is not None and current is not None and fragment.ufrag != current
    if not etag_matches(if_match, session.etag):
        return error_response(412, "If-Match does not match the session's ETag", "precondition_failed")
    if restart:
        return _restart(session, fragment.ufrag, fragment.pwd)
    mid = next((s.mid for s in fragment.sections if s.mid is not None), None)
    try:
        for candidate in fragment.candidates:
            if ignored_reason(candidate.address) is None:
                await session.pc.addIceCandidate(_ice_candidate(candidate, mid))
    except ValueError as exc:
        return error_response(422, f"bad candidate: {exc}", "invalid_candidate")
    return web.Response(status=204)


def _restart(session: EchoSession, ufrag: str | None, pwd: str | None) -> web.StreamResponse:
    """RFC 9725 §4.4: new credentials both ways, a new ETag, the answer fragment in a 200."""
    if not pwd:
        return error_response(422, "an ICE restart needs both a=ice-ufrag and a=ice-pwd", "invalid_fragment")
    local = new_credentials()
    if not renew_credentials(session.pc, local, (ufrag or "", pwd)):
        return error_response(422, "this session has no ICE agent to restart", "ice_restart_unsupported")
    session.etag = f'"{secrets.token_hex(6)}"'
    candidates = [line[2:] for line in session.answer_sdp.splitlines() if line.startswith("a=candidate:")]
    body = build_fragment(session.answer_sdp, *local, candidates=candidates)
    logger.info("session %s: ICE restart (%s)", session.id, RESTART_SCOPE)
    return web.Response(status=200, text=body, headers={"ETag": session.etag, "Content-Type": TRICKLE_TYPE})


def _ice_candidate(c: Candidate, mid: str | None) -> RTCIceCandidate:
    return RTCIceCandidate(
        component=c.component, foundation=c.foundation, ip=c.address, port=c.port,
        priority=c.priority, protocol=c.transport, type=c.type, relatedAddress=c.raddr,
        relatedPort=c.rport, sdpMid=mid, sdpMLineIndex=None if mid else 0, tcpType=c.tcptype,
    )
