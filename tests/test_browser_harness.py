"""The Chromium harness itself: launch flags, secure-context page, offer, errors, two peers."""

from __future__ import annotations

import asyncio
from pathlib import Path

import browser
import pytest
from browser import (
    BrowserError,
    BrowserPage,
    Chromium,
    apply_answer,
    browser_session,
    create_answer,
    create_offer,
    datachannel_echo,
    get_stats,
    stats_of_type,
    track_settings,
    wait_connected,
    wait_for_media,
)


@pytest.mark.browser
async def test_page_is_a_secure_localhost_context(page: BrowserPage) -> None:
    facts = await page.evaluate(
        "() => ({origin: location.origin, secure: isSecureContext, ua: navigator.userAgent,"
        " harness: typeof rtcprobe})"
    )
    assert facts["origin"].startswith("http://localhost:")
    assert facts["secure"] is True
    assert "HeadlessChrome/" in facts["ua"]
    assert facts["harness"] == "object"


@pytest.mark.browser
def test_browser_is_debian_chromium_with_a_fresh_profile(chromium: Chromium) -> None:
    assert chromium.version.split(".")[0].isdigit()
    assert chromium.profile_dir.is_dir() and any(chromium.profile_dir.iterdir())
    assert chromium.base_url.startswith("http://localhost:")


@pytest.mark.browser
async def test_offer_has_fake_media_and_gathered_candidates(page: BrowserPage) -> None:
    sdp = await create_offer(page)
    assert sdp.startswith("v=0\r\n") and sdp.endswith("\r\n")
    sections = sdp.split("\r\nm=")[1:]
    assert [s.split()[0] for s in sections] == ["audio", "video", "application"]
    for section in sections[:2]:  # a fake track is attached to both RTP m-lines
        assert "\r\na=sendrecv" in section and "\r\na=msid:" in section
    candidates = [line for line in sdp.split("\r\n") if line.startswith("a=candidate:")]
    assert candidates, "ICE gathering finished without a single candidate"
    assert not any(".local " in line for line in candidates), "host IPs hidden behind mDNS"


@pytest.mark.browser
async def test_offer_sends_video_at_the_chosen_size_and_rate(page: BrowserPage) -> None:
    """1080p at 1 fps is the shape the realtime API recommends for its frame snapshots."""
    await create_offer(page, audio=False, datachannel=None, video_size=(1920, 1080), frame_rate=1)
    (video,) = await track_settings(page)
    assert (video["kind"], video["width"], video["height"], video["frameRate"]) == ("video", 1920, 1080, 1)


@pytest.mark.browser
async def test_page_errors_are_reported_with_the_console(page: BrowserPage) -> None:
    with pytest.raises(BrowserError, match="no RTCPeerConnection"):
        await apply_answer(page, "v=0\r\n")
    await page.evaluate("() => console.error('marker-1234')")
    with pytest.raises(BrowserError, match="marker-1234"):
        await page.evaluate("() => { throw new Error('boom') }")


@pytest.mark.browser
async def test_browser_session_rejects_unknown_protocol(page: BrowserPage) -> None:
    with pytest.raises(ValueError, match="whip"):
        await browser_session(page, "http://127.0.0.1:9/", "carrier-pigeon")


@pytest.mark.browser
async def test_two_tabs_connect_to_each_other(chromium: Chromium) -> None:
    """Chromium against Chromium: exercises offer/answer, ICE, DTLS, SRTP, SCTP and the stats
    helpers without depending on any rtcprobe code."""
    async with chromium.open_page() as caller, chromium.open_page() as callee:
        offer = await create_offer(caller)
        await apply_answer(caller, await create_answer(callee, offer))
        await asyncio.gather(wait_connected(caller), wait_connected(callee))
        assert await datachannel_echo(caller, "hello from the caller") == "hello from the caller"
        stats = await wait_for_media(caller)
        for kind in ("audio", "video"):
            assert stats_of_type(stats, "inbound-rtp", kind)[0]["packetsReceived"] > 0
            assert stats_of_type(stats, "outbound-rtp", kind)[0]["packetsSent"] > 0
        pairs = [p for p in stats_of_type(await get_stats(caller), "candidate-pair") if p.get("nominated")]
        assert pairs and pairs[0]["state"] == "succeeded"


@pytest.mark.browser
async def test_missing_page_is_an_error_not_a_blank_tab(chromium: Chromium) -> None:
    with pytest.raises(BrowserError, match="no-such-page.html"):
        await chromium.new_page("no-such-page.html")


def test_missing_chromium_is_reported_not_launched(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """The one reason to skip browser tests; start() says it too and leaves nothing behind."""
    monkeypatch.setattr(browser, "CHROMIUM", tmp_path / "chromium")
    reason = browser.chromium_missing_reason()
    assert reason is not None and str(tmp_path / "chromium") in reason and ".ci/run" in reason
    unstarted = Chromium()
    with pytest.raises(BrowserError, match="not found"):
        unstarted.start()
    assert not unstarted.profile_dir.exists()
