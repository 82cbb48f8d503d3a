"""The reference target answers a real Chromium: ICE, DTLS, SRTP and SCTP on loopback, media
echoed both ways, data-channel messages echoed, for every signaling interface it speaks.

Chromium's own getStats() is the yardstick. The harness page is served by the target's own
aiohttp app (`serve_target`), so that the page's fetch() is same-origin and works also with
`--no-cors`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from browser import (
    BrowserError,
    BrowserPage,
    Chromium,
    ServedTarget,
    browser_session,
    datachannel_echo,
    serve_target,
    stats_of_type,
    wait_for_media,
)

from rtcprobe.sdp import parse_description
from rtcprobe.server import ServerConfig, create_app

pytestmark = pytest.mark.browser

TOKEN = "sk-test-browser-0123456789"  # not a real key: the target only compares it
ENDPOINTS = {"whip": "/whip", "sdp-post": "/offer", "openai-beta": "/v1/realtime", "openai": "/v1/realtime/calls"}


@pytest.fixture
async def target() -> AsyncIterator[ServedTarget]:
    """The reference target (with a bearer token) on 127.0.0.1, plus the harness page."""
    async with serve_target(create_app(ServerConfig(token=TOKEN))) as served:
        yield served


@pytest.fixture
async def target_page(chromium: Chromium, target: ServedTarget) -> AsyncIterator[BrowserPage]:
    async with chromium.open_page(target.base_url + target.page_path) as page:
        yield page


async def test_whip_session_echoes_media_and_data(target: ServedTarget, target_page: BrowserPage) -> None:
    session = await browser_session(target_page, target.base_url + "/whip", "whip", token=TOKEN)
    assert session.status == 201
    assert session.location is not None and session.location.startswith("/whip/")
    answer = parse_description(session.answer, source="target answer")
    assert answer.type == "answer"
    assert [m.kind for m in answer.media] == ["audio", "video", "application"]
    assert all(m.direction == "sendrecv" for m in answer.media[:2])

    stats = await wait_for_media(target_page, ("audio", "video"))
    for kind in ("audio", "video"):
        (inbound,) = stats_of_type(stats, "inbound-rtp", kind)
        (outbound,) = stats_of_type(stats, "outbound-rtp", kind)
        assert inbound["packetsReceived"] > 0, f"{kind}: nothing echoed back"
        assert outbound["packetsSent"] > 0, f"{kind}: Chromium sent nothing"
    (video_in,) = stats_of_type(stats, "inbound-rtp", "video")
    codec = next(s for s in stats if s["id"] == video_in["codecId"])
    assert codec["mimeType"] in ("video/VP8", "video/H264")  # what aiortc can send

    assert await datachannel_echo(target_page, "ping from chromium") == "ping from chromium"


@pytest.mark.parametrize("protocol", ["openai", "openai-beta", "sdp-post"])
async def test_other_interfaces_connect_with_media(
    protocol: str, target: ServedTarget, target_page: BrowserPage
) -> None:
    session = await browser_session(
        target_page, target.base_url + ENDPOINTS[protocol], protocol, token=TOKEN,
        session={"type": "realtime", "model": "gpt-realtime"} if protocol == "openai" else None,
    )
    assert session.status == (200 if protocol == "sdp-post" else 201)
    if protocol == "openai":
        assert session.location is not None and session.location.startswith("/v1/realtime/calls/rtc_")
    stats = await wait_for_media(target_page, ("audio",))
    assert stats_of_type(stats, "inbound-rtp", "audio")[0]["packetsReceived"] > 0
    # the pair the transport uses, once media flows: at "connected" Chromium may already use a pair
    # the peer nominated whose own check is still in progress
    by_id = {s["id"]: s for s in stats}
    (transport,) = stats_of_type(stats, "transport")
    pair = by_id[transport["selectedCandidatePairId"]]
    assert pair["state"] == "succeeded" and pair["nominated"], pair
    # The session stays on loopback (rtcprobe.probe.loopback): both ends of the pair are loopback.
    ends = {by_id[pair["localCandidateId"]]["address"], by_id[pair["remoteCandidateId"]]["address"]}
    assert ends <= {"127.0.0.1", "::1"}, ends


async def test_wrong_token_is_refused(target: ServedTarget, target_page: BrowserPage) -> None:
    with pytest.raises(BrowserError, match="answered 401"):
        await browser_session(target_page, target.base_url + "/whip", "whip", token="wrong")



async def test_page_on_another_origin_can_post_offers(page: BrowserPage, target: ServedTarget) -> None:
    """A web app on its own origin (localhost:A) calling the target (127.0.0.1:B), as browsers
    holding a client secret call the realtime API: needs CORS, including the preflight."""
    url = target.base_url.replace("localhost", "127.0.0.1") + "/whip"
    session = await browser_session(page, url, "whip", token=TOKEN)
    assert session.status == 201 and session.location is not None
