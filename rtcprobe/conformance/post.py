"""Session setup (RFC 9725 §4.2, draft-ietf-wish-whep §4): POST → 201 + Location + an SDP answer,
the answer's directions, refusals of bad offers, and where the Location leads (RFC 3986 §5)."""

from __future__ import annotations

from ..sdp import SdpError, parse_description
from ..signaling.facts import is_relative_location, origin_root_resolution, resolve_location
from .client import SDP_TYPE, Checker
from .model import FAIL, PASS, SKIP, WARN, requirement

WHIP, WHEP = "RFC 9725", "draft-ietf-wish-whep"


def _needs_post(ck: Checker) -> tuple[str, str] | None:
    if ck.post is None:
        return SKIP, "no session was set up"
    return None


@requirement("post.created", f"{WHIP} §4.2 / {WHEP} §4.3.1", "POST of an SDP offer answers 201 Created with a Location")
async def created(ck: Checker) -> tuple[str, str]:
    if (skip := _needs_post(ck)) is not None:
        return skip
    assert ck.post is not None
    location = ck.post.headers.get("Location")
    if ck.post.status in (301, 302, 303):
        return SKIP, f"{ck.post.shown}: a redirect the POST cannot follow (redirect.307)"
    if ck.post.status != 201:
        return FAIL, f"{ck.post.shown}: {ck.post.text.strip()[:100]}"
    if not location:
        return FAIL, f"{ck.post.shown} without a Location header"
    return PASS, f"{ck.post.shown}, Location: {location}"


@requirement("post.answer", f"{WHIP} §4.2 / {WHEP} §4.3.1", "the 201's body is the SDP answer, Content-Type application/sdp")
async def answer_type(ck: Checker) -> tuple[str, str]:
    if (skip := _needs_post(ck)) is not None:
        return skip
    assert ck.post is not None
    ctype = ck.post.headers.get("Content-Type", "")
    if ck.post.status // 100 != 2:
        return SKIP, f"{ck.post.shown}: no answer"
    if ctype.split(";")[0].strip().lower() != SDP_TYPE:
        return FAIL, f"Content-Type: {ctype or '(none)'}"
    if not ck.post.text.lstrip().startswith("v=0"):
        return FAIL, f"the body does not start with v=0: {ck.post.text.strip()[:60]!r}"
    return PASS, f"Content-Type: {ctype}, {len(ck.post.text.splitlines())} SDP lines"


@requirement("post.direction", f"{WHIP} §4.2 / {WHEP} §4.3.5",
             "every m-line of the answer is recvonly (WHIP) / sendonly (WHEP) or inactive")
async def direction(ck: Checker) -> tuple[str, str]:
    if ck.post is None or ck.post.status // 100 != 2 or not ck.post.text.lstrip().startswith("v=0"):
        return SKIP, "no SDP answer"
    want = "sendonly" if ck.protocol == "whep" else "recvonly"
    try:
        session = parse_description(ck.post.text, "answer", type="answer")
    except SdpError as exc:
        return FAIL, f"the answer does not parse: {exc}"
    wrong = [f"m={m.kind} mid={m.mid}: {m.direction}" for m in session.media
             if m.kind in ("audio", "video") and m.direction not in (want, "inactive")]
    if wrong:
        return FAIL, "; ".join(wrong)
    return PASS, ", ".join(f"{m.kind} {m.direction}" for m in session.media if m.kind in ("audio", "video"))


async def _refused(ck: Checker, body: str, content_type: str, due: tuple[int, ...]) -> tuple[str, str]:
    reply = await ck.post_offer(body, content_type, record=False)
    if reply.status // 100 == 3:
        return SKIP, f"{reply.shown}: a redirect the POST cannot follow (redirect.307)"
    if reply.status // 100 == 2:
        location = reply.headers.get("Location")
        if location:  # it made a session: do not leave it behind
            await ck.request("DELETE", resolve_location(reply.url, location))
        return FAIL, f"{reply.shown}: accepted"
    if reply.status in due:
        return PASS, reply.shown
    if reply.status // 100 == 4:
        return WARN, f"{reply.shown} (a 4xx, though {'/'.join(map(str, due))} says why)"
    return FAIL, f"{reply.shown} (a client error is a 4xx)"


@requirement("post.bad_type", f"{WHIP} §4.2 / {WHEP} §4.3.4; RFC 9110 §15.5.16",
             "an offer with a Content-Type other than application/sdp is refused with 415")
async def bad_type(ck: Checker) -> tuple[str, str]:
    offer = ck.offer_pc()
    await offer.setLocalDescription(await offer.createOffer())
    try:
        return await _refused(ck, offer.localDescription.sdp, "text/plain", (415,))
    finally:
        await offer.close()


@requirement("post.bad_sdp", f"{WHIP} §4.2 / {WHEP} §4.3.4", "a malformed SDP offer is refused with a 4xx (400)")
async def bad_sdp(ck: Checker) -> tuple[str, str]:
    return await _refused(ck, "v=0\r\nthis is not SDP\r\n", SDP_TYPE, (400, 422))


@requirement("post.wrong_direction", f"{WHIP} §4.2, §4.4.3 / {WHEP} §4.3.5",
             "an offer in the wrong direction (recvonly to WHIP, sendonly to WHEP) is refused with a 4xx")
async def wrong_direction(ck: Checker) -> tuple[str, str]:
    ck_protocol, ck.protocol = ck.protocol, "whip" if ck.protocol == "whep" else "whep"
    offer = ck.offer_pc()  # the other protocol's offer is this one's wrong direction
    ck.protocol = ck_protocol
    await offer.setLocalDescription(await offer.createOffer())
    try:
        due = (400, 406, 422) if ck.protocol == "whep" else (400, 422)  # WHEP may counter-offer
        return await _refused(ck, offer.localDescription.sdp, SDP_TYPE, due)
    finally:
        await offer.close()


@requirement("location.resolves", f"{WHIP} §4.2; RFC 3986 §5.2",
             "the Location, resolved against the request URL, names the session (not 404 there)")
async def location_resolves(ck: Checker) -> tuple[str, str]:
    if ck.post is None or not ck.resource or ck.post.status // 100 != 2:
        return SKIP, "no Location to resolve"
    reply = await ck.request("GET", ck.resource)
    location = ck.post.headers.get("Location", "")
    if reply.status == 404:
        ck.resource_ok = False
        naive = origin_root_resolution(ck.post.url, location)
        other = await ck.request("GET", naive) if naive != ck.resource else None
        hint = (f"; {other.shown} — the server expects origin-root resolution"
                if other is not None and other.status != 404 else "")
        return FAIL, f"Location: {location} → {ck.resource}; {reply.shown}{hint}"
    return PASS, f"Location: {location} → {ck.resource}; {reply.shown}"


@requirement("location.clients", f"{WHIP} §4.2; RFC 3986 §5.2",
             "clients that resolve a relative Location against the origin root reach the same URL")
async def location_clients(ck: Checker) -> tuple[str, str]:
    if ck.post is None or ck.post.status // 100 != 2 or not ck.post.headers.get("Location"):
        return SKIP, "no Location"
    location = ck.post.headers["Location"]
    if not is_relative_location(location):
        return PASS, f"absolute Location: {location}"
    right, naive = resolve_location(ck.post.url, location), origin_root_resolution(ck.post.url, location)
    if right != naive:
        return WARN, f"relative Location {location!r}: RFC 3986 gives {right}, origin-root clients {naive}"
    return PASS, f"relative Location {location!r} resolves to {right} either way"
