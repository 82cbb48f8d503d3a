"""Dumps made by a real browser, in the test: headless Chromium holds a session with the reference
target (or with aiortc), chrome://webrtc-internals is driven headless and both of its download
buttons are clicked ("Create a WebRTC-Internals dump" and the RTCStatsDump one); the files are
imported and checked against what the page itself saw: its offer and answer, its candidates and
its own getStats() counters. Nothing is assembled by hand: the dumps are Chromium's.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from aiortc import RTCConfiguration, RTCPeerConnection, RTCSessionDescription
from aiortc.mediastreams import AudioStreamTrack
from browser import (
    BrowserPage,
    Chromium,
    ServedTarget,
    browser_session,
    create_answer,
    get_stats,
    serve_target,
    stats_of_type,
    wait_connected,
    wait_for_media,
)
from webrtc_internals import (
    download_webrtc_internals,
    open_webrtc_internals,
    show,
    wait_internals_stats,
)

from rtcprobe.capture import Capture
from rtcprobe.importers import load_captures
from rtcprobe.sdp import Candidate, parse_description
from rtcprobe.server import ServerConfig, create_app

pytestmark = [pytest.mark.browser, pytest.mark.slow]

TOKEN = "sk-test-import-0123456789"
COUNTERS = {"outbound-rtp": ("packetsSent", "bytesSent"), "inbound-rtp": ("packetsReceived", "bytesReceived")}


@pytest.fixture
async def target() -> AsyncIterator[ServedTarget]:
    async with serve_target(create_app(ServerConfig(token=TOKEN))) as served:
        yield served


@pytest.fixture
async def internals(chromium: Chromium) -> AsyncIterator[BrowserPage]:
    page = await open_webrtc_internals(chromium)
    try:
        yield page
    finally:
        await page.close()


async def download_both(internals: BrowserPage, after_ms: float, folder: Path) -> list[Path]:
    """Once webrtc-internals sampled stats after `after_ms`, both downloads as files."""
    await show(internals)  # background tabs poll at most once a second; keep it regular
    await wait_internals_stats(internals, after_ms)
    paths = []
    for which in ("internals", "rtcstats"):
        name, content = await download_webrtc_internals(internals, which)
        paths.append(folder / name)
        paths[-1].write_bytes(content)
    return paths


def session_with(captures: list[Capture], side: str, sdp: str) -> Capture:
    """The imported PeerConnection whose offer or answer has this description's session id (Chromium
    logs descriptions as it re-serialised them, o= address included; other tabs may hold PCs too)."""
    wanted = session_of(sdp)
    (found,) = [c for c in captures if getattr(c, side) is not None and session_of(getattr(c, side).text) == wanted]
    return found


def session_of(sdp: str) -> tuple[str, str]:
    origin = parse_description(sdp).origin
    assert origin is not None
    return origin.session_id, origin.session_version


def ids(candidates: list[Candidate]) -> set[tuple[Any, ...]]:
    return {(c.foundation, c.component, c.transport, c.address, c.port, c.type) for c in candidates}


def at(capture: Capture, report_id: str, name: str, epoch_ms: float) -> tuple[Any, Any]:
    """The dump's value of a counter at the last sample at or before, and the first after, a time."""
    start = capture.header["started_at_epoch"] * 1000.0
    series = [(start + r["timestamp"] * 1000.0, r[name]) for s in capture.stats_samples for r in s["reports"]
              if r["id"] == report_id and name in r]
    before = [v for t, v in series if t <= epoch_ms + 0.5]
    after = [v for t, v in series if t >= epoch_ms - 0.5]
    return (before[-1] if before else None), (after[0] if after else None)


async def test_webrtc_internals_dumps_of_a_whip_session(
    chromium: Chromium, target: ServedTarget, internals: BrowserPage, tmp_path: Path
) -> None:
    async with chromium.open_page(target.base_url + target.page_path) as page:
        session = await browser_session(page, target.base_url + "/whip", "whip", token=TOKEN)
        await wait_for_media(page)
        seen = await get_stats(page)  # the page's own counters, at one instant
        instant = max(s["timestamp"] for s in seen)
        dumps = await download_both(internals, instant, tmp_path)

    for path in dumps:
        capture = session_with(load_captures(path), "answer", session.answer)
        assert capture.problems == []
        assert capture.offer is not None and capture.answer is not None
        assert capture.local_description.type == "offer" and capture.remote_description.type == "answer"
        offered = parse_description(session.offer)  # as gathered: the dump has it before gathering
        assert session_of(capture.offer.text) == session_of(session.offer)
        assert [(m.mid, m.kind, m.direction, [c.payload_type for c in m.codecs]) for m in capture.offer.media] == [
            (m.mid, m.kind, m.direction, [c.payload_type for c in m.codecs]) for m in offered.media]
        assert ids(capture.candidate_list("local")) == ids(offered.candidates)  # trickled, one by one
        assert ids(capture.candidate_list("remote")) == ids(parse_description(session.answer).candidates)
        assert capture.state_reached("ice_connection", "checking") is not None
        assert capture.state_reached("connection", "connected") is not None
        assert capture.reason == "completed"
        # counters only grow: the page's value lies between the dump's samples around that instant
        for kind_type, names in COUNTERS.items():
            for report in stats_of_type(seen, kind_type):
                for name in names:
                    before, after = at(capture, report["id"], name, report["timestamp"])
                    assert after is not None, f"{path.name}: no sample of {report['id']}.{name} after the page's"
                    assert (before if before is not None else 0) <= report[name] <= after


async def test_chromium_answering_records_its_answer_as_local(
    chromium: Chromium, target: ServedTarget, internals: BrowserPage, tmp_path: Path
) -> None:
    """When the browser answers, its *local* description is the answer: the import must put the
    aiortc offer on the remote side and still know which one is the offer."""
    probe = RTCPeerConnection(RTCConfiguration(iceServers=[]))
    try:
        probe.addTrack(AudioStreamTrack())
        probe.createDataChannel("import-test")
        await probe.setLocalDescription(await probe.createOffer())
        offer = probe.localDescription.sdp
        async with chromium.open_page(target.base_url + target.page_path) as page:
            answer = await create_answer(page, offer, audio=True, video=False)
            await probe.setRemoteDescription(RTCSessionDescription(answer, "answer"))
            await wait_connected(page)
            dumps = await download_both(internals, time.time() * 1000.0, tmp_path)
    finally:
        await probe.close()

    for path in dumps:
        capture = session_with(load_captures(path), "offer", offer)
        assert (capture.local_description.type, capture.remote_description.type) == ("answer", "offer")
        assert ids(capture.candidate_list("remote")) == ids(parse_description(offer).candidates)
        assert capture.state_reached("connection", "connected") is not None
        inbound = [r for r in capture.last_stats() if r["type"] == "inbound-rtp"]
        assert [r["kind"] for r in inbound] == ["audio"] and inbound[0]["mid"] == "0"
