"""ICE restarts through PATCH (RFC 9725 §4.3.3): If-Match "*", new ufrag/pwd → 200 with the
server's new credentials and a new ETag; a refused restart leaves the session as it was; a session
that trickles but does not restart refuses with 422 (drafts -03/-04 said 501, -04 to -09 405: the
WG's draft history). Run on a
session of its own, after the others: aiortc cannot follow an accepted restart."""

from __future__ import annotations

import secrets

from .client import TRICKLE_TYPE, WIRE_WATCH_SECONDS, Checker
from .model import FAIL, PASS, SKIP, requirement
from .patch import _usable, ice_line, sdpfrag

OLD_DRAFT_STATUSES = (405, 501)


async def _attempt(ck: Checker) -> None:
    await ck.open_session()
    if _usable(ck) is not None or ck.post_error:
        return
    assert ck.resource is not None
    ufrag, pwd = secrets.token_hex(4), secrets.token_hex(12)
    body = sdpfrag(ck, ufrag, pwd)
    ck.restart_reply = await ck.request("PATCH", ck.resource, body, ck.headers(TRICKLE_TYPE, If_Match="*"))


@requirement("restart.accepted", "RFC 9725 §4.3.3",
             "an ICE restart PATCH (If-Match: *) answers 200 with a new ETag and new ice-ufrag/ice-pwd")
async def accepted(ck: Checker) -> tuple[str, str]:
    await _attempt(ck)
    reply = ck.restart_reply
    if reply is None:
        return SKIP, ck.post_error or "no session to restart"
    if reply.status == 415:
        return SKIP, f"{reply.shown}: the sdpfrag type is refused (patch.sdpfrag)"
    if reply.status in (422, *OLD_DRAFT_STATUSES):
        return SKIP, f"{reply.shown}: ICE restarts not supported (patch.unsupported)"
    if reply.status != 200:
        return FAIL, reply.shown
    new_etag = reply.headers.get("ETag")
    old_ufrag = ice_line(ck.post.text if ck.post else "", "ice-ufrag")
    new_ufrag, new_pwd = ice_line(reply.text, "ice-ufrag"), ice_line(reply.text, "ice-pwd")
    problems = []
    if not ck.etag or ck.etag.startswith("W/"):
        problems.append(f"the 201's ETag is {ck.etag or 'missing'}: a session that restarts MUST send a strong one")
    if not new_etag or new_etag == ck.etag:
        problems.append(f"ETag {new_etag or '(none)'} (was {ck.etag})")
    if not new_ufrag or not new_pwd or new_ufrag == old_ufrag:
        problems.append(f"ice-ufrag {new_ufrag or '(none)'} (was {old_ufrag})")
    if problems:
        return FAIL, f"{reply.shown}: " + "; ".join(problems)
    return PASS, f"{reply.shown}, ETag {ck.etag} → {new_etag}, ice-ufrag {old_ufrag} → {new_ufrag}"


@requirement("restart.survives", "RFC 9725 §4.3.3",
             "a refused ICE restart leaves the existing ICE session and its media running")
async def survives(ck: Checker) -> tuple[str, str]:
    reply = ck.restart_reply
    if reply is None:
        return SKIP, ck.post_error or "no restart attempted"
    if reply.status // 100 == 2:
        return SKIP, f"{reply.shown}: the restart was accepted"
    after = await ck.watch(WIRE_WATCH_SECONDS)
    state = ck.pc.connectionState if ck.pc is not None else "none"
    shown = f"{reply.shown}; then {after['rtp']} RTP, {after['rtcp']} RTCP in {WIRE_WATCH_SECONDS:g} s, {state}"
    return (PASS if state == "connected" and any(after.values()) else FAIL), shown


@requirement("patch.unsupported", "RFC 9725 §4.3.1; RFC 9110 §15.5.21",
             "a PATCH the session does not support (trickle or restart, not both) answers 422, not 405/501")
async def unsupported(ck: Checker) -> tuple[str, str]:
    first, restart = ck.first_trickle, ck.restart_reply
    if first is None or restart is None:
        return SKIP, "trickle or restart not attempted"
    trickles, restarts = first.status // 100 == 2, restart.status // 100 == 2
    if trickles == restarts:
        return SKIP, f"trickle {first.status}, restart {restart.status}: both or neither supported"
    refused = restart if trickles else first
    if refused.status == 422:
        return PASS, f"{refused.shown} (RFC 9725)"
    if refused.status in OLD_DRAFT_STATUSES:
        drafts = "-03/-04 (501)" if refused.status == 501 else "-04 to -09 (405)"
        return FAIL, f"{refused.shown}: follows draft-ietf-wish-whip {drafts}; RFC 9725 says 422"
    return FAIL, refused.shown
