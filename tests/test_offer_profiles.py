"""Offers that look like real clients: the profile files, the shaped offer, and real sessions whose
answers pick what aiortc can and cannot encode. No mocks: aiortc and headless Chromium peers."""

from __future__ import annotations

import asyncio
import contextlib
import re
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from aiortc import RTCPeerConnection, RTCSessionDescription
from browser import BrowserPage, create_answer, get_stats, sdp_post_endpoint, stats_of_type

from rtcprobe.analyze.profile import profile
from rtcprobe.capture import Capture, load
from rtcprobe.cli import build_parser
from rtcprobe.commands import UsageError
from rtcprobe.commands.probe import options_from_args
from rtcprobe.errors import InputError
from rtcprobe.negotiation import Negotiation
from rtcprobe.probe import media
from rtcprobe.probe.offer_shape import ANSWER_ADAPTED, OFFER_PROFILE, adapt_answer, shape_offer
from rtcprobe.probe.options import ProbeOptions
from rtcprobe.probe.session import ProbeSession
from rtcprobe.profiles import OFFERS_DIR, load_offer_profile
from rtcprobe.sdp import parse_description

REALWORLD = Path(__file__).parent / "data" / "realworld" / "sdp"
CHIME_CHROME = REALWORLD / "chime-chrome-offer-audio-video.sdp"  # a public Chrome offer, replayed as PATH

#: what each profile's rows must say (the study's vocabulary: rtcprobe.analyze.profile)
EXPECTED_ROWS = {
    "chrome": ("Opus with in-band FEC and RED, G.722/PCMU/PCMA fallback, DTMF",
               "VP8, VP9, H.264, AV1", "high 4:4:4 predictive, high"),
    "chromium": ("Opus with in-band FEC and RED", "VP8, H.264, AV1, VP9", "baseline, constrained baseline, main"),
    "firefox": ("Opus with in-band FEC and stereo, G.722/PCMU/PCMA fallback", "VP8, VP9, AV1", ""),
    "safari": ("Opus with in-band FEC, iSAC/G.722/iLBC/PCMU/PCMA fallback", "H.264, VP8", "constrained high"),
}


# -- the data files ---------------------------------------------------------------------------------
@pytest.mark.parametrize("name", sorted(EXPECTED_ROWS))
def test_each_profile_file_parses_and_its_rows_show_the_browsers_codecs(name: str) -> None:
    offer = load_offer_profile(name)
    assert offer is not None and offer.browser == name and offer.source and offer.version
    assert offer.description.type in (None, "offer") and offer.kinds()[:2] == ["audio", "video"]
    rows = profile(Negotiation(offer.name, offer=offer.description))
    audio, video, h264 = EXPECTED_ROWS[name]
    assert rows.row("Audio").summary.startswith(audio)
    assert rows.row("Video").summary.startswith(video)
    assert h264 in rows.row("Video").summary
    assert "transport-wide-cc" in rows.row("RTP header extensions").summary


def test_chrome_profile_offers_the_four_h264_profiles_in_both_modes_with_rtx() -> None:
    video = load_offer_profile("chrome").description.media[1]  # type: ignore[union-attr]
    h264 = {(c.fmtp["profile-level-id"], c.fmtp["packetization-mode"]) for c in video.codecs if c.name == "H264"}
    assert {(p, m) for p in ("42001f", "42e01f", "4d001f") for m in "01"} | {("64001f", "1")} <= h264
    rtx_for = {c.associated_payload_type for c in video.codecs if c.name == "rtx"}
    assert all(c.payload_type in rtx_for for c in video.codecs if c.role == "media")


def test_every_file_in_offers_is_a_profile_with_provenance() -> None:
    for path in OFFERS_DIR.glob("*.json"):
        offer = load_offer_profile(path.stem)
        assert offer is not None and offer.name == path.stem and "@" in offer.source or "recorded here" in offer.source


def test_unknown_profile_and_a_file_that_is_no_offer_are_one_line_errors(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="unknown profile 'opera'.*chrome"):
        load_offer_profile("opera")
    answer = tmp_path / "answer.json"
    answer.write_text('{"type": "answer", "sdp": "v=0\\r\\n"}')
    with pytest.raises(InputError, match="expected an offer"):
        load_offer_profile(str(answer))


# -- the command line -------------------------------------------------------------------------------
def test_no_prefix_matching_offer_is_not_offer_format() -> None:
    args = build_parser().parse_args(["capture", "http://127.0.0.1:1/whip", "--offer", "firefox"])
    assert args.offer == "firefox" and args.offer_format == "sdp"
    with pytest.raises(SystemExit):
        build_parser().parse_args(["capture", "http://127.0.0.1:1/whip", "--offer-f", "json"])
    assert build_parser().parse_args(["capture", "http://127.0.0.1:1/whip"]).offer == "chrome"


def test_a_recorded_offer_without_video_cannot_shape_a_video_capture(tmp_path: Path) -> None:
    audio_only = tmp_path / "audio-only.sdp"
    audio_only.write_text((REALWORLD / "aiortc-audio_chrome-1.sdp").read_text())
    args = build_parser().parse_args(["capture", "http://127.0.0.1:1/whip", "--video", "--offer", str(audio_only)])
    with pytest.raises(UsageError, match="0 video m-line.*sends 1 video track.*match the probe's tracks by kind"):
        options_from_args(args)


# -- real sessions against `rtcprobe serve` ---------------------------------------------------------


async def capture_with(tmp_path: Path, url: str, offer: str, protocol: str = "whip") -> Capture:
    opts = ProbeOptions(target=url, output=tmp_path / "capture.jsonl", protocol=protocol, video=True,
                        video_size=(320, 240), fps=10, duration=2.0, stats_interval=0.5, offer=offer)
    result = await ProbeSession(opts).run()
    return load(result.path)


def events(capture: Capture, name: str) -> list[dict]:
    return [e for e in capture.events if e["event"] == name]


def first_rtp(capture: Capture, direction: str) -> dict[str, int]:
    return {e["kind"]: e["payload_type"] for e in events(capture, "rtp_first") if e["direction"] == direction}


def codec_lines(sdp: str, kind: str) -> list[str]:
    """The m-line's formats and every rtpmap/fmtp/rtcp-fb line of the first m-section of `kind`."""
    section = next(m for m in parse_description(sdp).media if m.kind == kind)
    return [" ".join(section.formats)] + [f"{c.payload_type} {c.name}/{c.clock_rate} {sorted(c.fmtp.items())} "
                                          f"{c.rtcp_fb}" for c in section.codecs]


@pytest.mark.slow
@pytest.mark.parametrize("offer", ["chrome", "firefox", "safari", "aiortc", str(CHIME_CHROME)])
async def test_capture_with_each_offer_sends_its_codecs_and_has_media_both_ways(serve, tmp_path: Path,
                                                                                offer: str) -> None:
    capture = await capture_with(tmp_path, await serve() + "/whip", offer)
    assert capture.reason == "completed", capture.diagnosis
    assert set(first_rtp(capture, "sent")) == set(first_rtp(capture, "received")) == {"audio", "video"}
    sent = next(e["sdp"] for e in events(capture, "sdp") if e["role"] == "local")
    (recorded,) = events(capture, OFFER_PROFILE)
    assert parse_description(recorded["aiortc_offer"]).media[0].ice_ufrag == parse_description(sent).media[0].ice_ufrag
    profile_offer = load_offer_profile(offer)
    for kind in ("audio", "video"):
        expected = codec_lines(profile_offer.sdp if profile_offer else recorded["aiortc_offer"], kind)
        assert codec_lines(sent, kind) == expected
    assert recorded["shaped"] is (profile_offer is not None)
    assert recorded["name"] == (profile_offer.name if profile_offer else "aiortc")
    (adapted,) = events(capture, ANSWER_ADAPTED)
    answer = parse_description(next(e["sdp"] for e in events(capture, "sdp") if e["role"] == "remote"))
    assert adapted["cannot_encode"] == {}
    assert adapted["extensions"] == {m.mid: {x.uri: x.id for x in m.extensions} for m in answer.media if m.kind != "application"}


@pytest.mark.slow
async def test_shaped_chrome_offer_keeps_aiortcs_identity_and_adds_the_browsers_session_lines(
        serve, tmp_path: Path) -> None:
    capture = await capture_with(tmp_path, await serve() + "/whip", "chrome")
    sent = parse_description(next(e["sdp"] for e in events(capture, "sdp") if e["role"] == "local"))
    own = parse_description(events(capture, OFFER_PROFILE)[0]["aiortc_offer"])
    assert sent.extmap_allow_mixed if hasattr(sent, "extmap_allow_mixed") else "a=extmap-allow-mixed" in sent.text
    for mine, theirs in zip(sent.media, own.media, strict=True):
        assert (mine.mid, mine.ice_pwd, mine.setup, mine.msid, mine.ssrcs) == \
               (theirs.mid, theirs.ice_pwd, theirs.setup, theirs.msid, theirs.ssrcs)
        assert [f.value for f in mine.fingerprints] == [f.value for f in theirs.fingerprints]
    assert sent.media[1].rtcp_rsize and not own.media[1].rtcp_rsize


# -- an answer that picks H.264 High ----------------------------------------------------------------
def _high_answerer(peers: list[RTCPeerConnection], received: list[int], tasks: list[asyncio.Future]) -> web.Application:
    """An sdp-post target (aiortc) that answers the Chrome offer's H.264 High PT, as a service
    restricted to High does. aiortc cannot answer High itself, so it is given the offer with that
    PT alone, read as constrained baseline, and its answer names the PT High again, as the offer did."""

    async def offer(request: web.Request) -> web.Response:
        text = await request.text()
        high = re.search(r"a=fmtp:(\d+) [^\r\n]*profile-level-id=64001f", text)
        assert high is not None, "the offer has no H.264 High"
        pt = high.group(1)
        pc = RTCPeerConnection()
        peers.append(pc)
        @pc.on("track")
        def on_track(track: Any) -> None:  # the frames the probe's video decodes to, at the answerer
            async def consume() -> None:
                while True:
                    await track.recv()
                    received.append(1)
            if track.kind == "video":
                tasks.append(asyncio.ensure_future(consume()))

        await pc.setRemoteDescription(RTCSessionDescription(text.replace("profile-level-id=64001f",
                                                                          "profile-level-id=42e01f"), "offer"))
        for transceiver in pc.getTransceivers():
            if transceiver.kind == "video":
                transceiver.sender.replaceTrack(media.video_source(size=(160, 120), fps=10))
            else:
                transceiver.sender.replaceTrack(media.audio_source("tone"))
            transceiver.direction = "sendrecv"
        await pc.setLocalDescription(await pc.createAnswer())
        answer = pc.localDescription.sdp
        assert f"a=fmtp:{pt} " in answer
        answer = re.sub(rf"(a=fmtp:{pt} [^\r\n]*profile-level-id=)42e01f", r"\g<1>64001f", answer)
        answer = _only_payload_type(answer, pt)

        return web.Response(text=answer, status=201, content_type="application/sdp",
                            headers={"Location": "/offer/1"})

    app = web.Application()
    app.router.add_post("/offer", offer)
    return app


def _only_payload_type(answer: str, pt: str) -> str:
    """The answer's video m-line reduced to `pt` and its RTX: the service answers High only."""
    video = parse_description(answer).media[1]
    return _only_payload_types(answer, {pt} | {str(c.payload_type) for c in video.codecs
                                               if str(c.associated_payload_type) == pt})


def _only_payload_types(sdp: str, keep: set[str]) -> str:
    """`sdp` with its video m-line reduced to the payload types in `keep`."""
    out, in_video = [], False
    for line in sdp.split("\r\n"):
        if line.startswith("m="):
            in_video = line.startswith("m=video")
            if in_video:
                line = " ".join(line.split(" ")[:3] + sorted(keep))
        elif (in_video and line.startswith(("a=rtpmap:", "a=fmtp:", "a=rtcp-fb:"))
              and line.split(":", 1)[1].split(" ", 1)[0] not in keep):
            continue
        out.append(line)
    return "\r\n".join(out)


@pytest.mark.slow
async def test_an_answer_picking_h264_high_gets_constrained_baseline_media(tmp_path: Path) -> None:
    peers: list[RTCPeerConnection] = []
    frames: list[int] = []
    tasks: list[asyncio.Future] = []
    runner = web.AppRunner(_high_answerer(peers, frames, tasks))
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    try:
        capture = await capture_with(tmp_path, f"http://127.0.0.1:{port}/offer", "chrome", protocol="sdp-post")
        answer = parse_description(next(e["sdp"] for e in events(capture, "sdp") if e["role"] == "remote"))
        video = answer.media[1]
        (h264,) = [c for c in video.codecs if c.name == "H264"]
        assert h264.fmtp["profile-level-id"] == "64001f"  # the recorded answer is the service's
        assert capture.reason == "completed", capture.diagnosis
        assert first_rtp(capture, "sent")["video"] == h264.payload_type
        (adapted,) = events(capture, ANSWER_ADAPTED)
        assert "constrained baseline (42e01f)" in adapted["rewritten"]["1"][0]
        assert frames, "the answerer decoded no frame of the probe's constrained-baseline stream"
    finally:
        for task in tasks:
            task.cancel()
        for pc in peers:
            await pc.close()
        await runner.cleanup()


# -- an answer that picks a codec the probe cannot encode -------------------------------------------
def test_a_vp9_only_answer_is_shown_to_aiortc_receive_only_under_an_unused_payload_type() -> None:
    answer = (REALWORLD / "pion-test-chrome-offer-simulcast-vp9-mid1-vp8-mid2.sdp").read_text()
    adapted = adapt_answer(answer)
    original = parse_description(answer)
    vp9_mids = [m.mid for m in original.media if m.kind == "video"
                and {c.name for c in m.codecs if c.role == "media"} == {"VP9"}]
    assert vp9_mids and all(adapted.cannot_encode[mid] == ["VP9"] for mid in vp9_mids)
    shown = {m.mid: m for m in parse_description(adapted.sdp).media}
    used = {int(f) for m in original.media for f in m.formats if f.isdigit()}
    for mid in vp9_mids:
        (codec,) = shown[mid].codecs
        assert codec.payload_type not in used and shown[mid].direction in ("sendonly", "inactive")
    assert "cannot encode VP9" in adapted.summary()


# -- headless Chromium as the far end ----------------------------------------------------------------
def _only_vp9(offer: str) -> str:
    """The offer as a service that takes VP9 (profile 0) only sees it: every other video PT removed."""
    video = next(m for m in parse_description(offer).media if m.kind == "video")
    (vp9,) = [c.payload_type for c in video.codecs if c.name == "VP9" and c.fmtp.get("profile-id", "0") == "0"]
    keep = {str(vp9)} | {str(c.payload_type) for c in video.codecs if c.associated_payload_type == vp9}
    return _only_payload_types(offer, keep)


@contextlib.asynccontextmanager
async def chromium_target(page: BrowserPage, rewrite: Callable[[str], str] = str) -> AsyncIterator[str]:
    """An sdp-post endpoint whose answerer is the Chromium page (its fake camera and microphone)."""
    async with sdp_post_endpoint(lambda offer: create_answer(page, rewrite(offer), timeout=30)) as url:
        yield url


@pytest.mark.browser
async def test_firefox_offer_against_chromium_completes_with_media_both_ways(page: BrowserPage,
                                                                              tmp_path: Path) -> None:
    async with chromium_target(page) as url:
        capture = await capture_with(tmp_path, url, "firefox", protocol="sdp-post")
        stats = await get_stats(page)
    assert capture.reason == "completed", capture.diagnosis
    assert set(first_rtp(capture, "sent")) == set(first_rtp(capture, "received")) == {"audio", "video"}
    assert events(capture, OFFER_PROFILE)[0]["name"].startswith("firefox-")
    (inbound,) = stats_of_type(stats, "inbound-rtp", "video")
    assert inbound["framesDecoded"] > 0  # Chromium decoded the probe's VP8, sent under Firefox's PT
    firefox_vp8 = next(c.payload_type for c in load_offer_profile("firefox").description.media[1].codecs  # type: ignore[union-attr]
                       if c.name == "VP8")
    assert first_rtp(capture, "sent")["video"] == firefox_vp8


@pytest.mark.browser
async def test_an_answer_picking_vp9_only_sends_nothing_on_that_mline_and_keeps_receiving(
        page: BrowserPage, tmp_path: Path) -> None:
    async with chromium_target(page, _only_vp9) as url:
        capture = await capture_with(tmp_path, url, "chrome", protocol="sdp-post")
        stats = await get_stats(page)
    assert capture.reason == "completed", capture.diagnosis
    answer = parse_description(next(e["sdp"] for e in events(capture, "sdp") if e["role"] == "remote"))
    vp9 = answer.media[1].media_codecs[0]
    assert vp9.name == "VP9"
    (adapted,) = events(capture, ANSWER_ADAPTED)
    assert adapted["cannot_encode"] == {"1": ["VP9"]}
    assert "cannot encode VP9 (mid 1): nothing sent there, receiving continues" in capture.diagnosis
    sent, received = first_rtp(capture, "sent"), first_rtp(capture, "received")
    assert "video" not in sent and sent["audio"] == answer.media[0].media_codecs[0].payload_type
    assert received["video"] == vp9.payload_type  # Chromium's VP9 still arrives, and is counted
    assert not [e for e in events(capture, "rtp_first") if e["direction"] == "sent"
                and e["payload_type"] == vp9.payload_type]
    assert all(s.get("packetsReceived", 0) == 0 for s in stats_of_type(stats, "inbound-rtp", "video"))
    (outbound,) = stats_of_type(stats, "outbound-rtp", "video")
    assert outbound["packetsSent"] > 0


def _answer_with_video(formats: str, codec_lines: list[str]) -> str:
    """aiortc's own answer-shaped text with the video m-line replaced (unit input for adapt_answer)."""
    text = (REALWORLD / "aiortc-video_chrome-1.sdp").read_text().replace("\r\n", "\n")
    out, in_video = [], False
    for line in text.split("\n"):
        if line.startswith("m="):
            in_video = line.startswith("m=video")
            if in_video:
                line = " ".join(line.split(" ")[:3]) + " " + formats
                out.append(line)
                out += codec_lines
                continue
        if in_video and line.startswith(("a=rtpmap:", "a=fmtp:", "a=rtcp-fb:")):
            continue
        out.append(line)
    return "\r\n".join(out)


def test_h264_mode_0_only_cannot_be_encoded_and_high_keeps_its_level() -> None:
    mode0 = adapt_answer(_answer_with_video("104", ["a=rtpmap:104 H264/90000",
                                                   "a=fmtp:104 packetization-mode=0;profile-level-id=42e01f"]))
    assert list(mode0.cannot_encode.values()) == [["H.264 mode 0"]]
    high = adapt_answer(_answer_with_video("112", ["a=rtpmap:112 H264/90000",
                                                  "a=fmtp:112 level-asymmetry-allowed=1;packetization-mode=1;"
                                                  "profile-level-id=640028"]))
    assert high.cannot_encode == {} and "profile-level-id=42e028" in high.sdp and "640028" not in high.sdp
    assert adapt_answer(high.sdp).sdp_changed is False  # what aiortc applies is what it accepts as is


async def test_msid_semantic_follows_the_profiles_spelling_with_aiortcs_streams() -> None:
    pc = RTCPeerConnection()
    pc.addTransceiver(media.audio_source("silence"), direction="sendrecv")
    pc.addTransceiver(media.video_source(size=(160, 120), fps=1), direction="sendrecv")
    own = (await pc.createOffer()).sdp
    await pc.close()
    streams = {m.msid.split(" ")[0] for m in parse_description(own).media if m.msid}
    firefox = shape_offer("firefox", own).sdp
    chrome = shape_offer("chrome", own).sdp
    assert "a=msid-semantic:WMS *\r\n" in firefox
    assert re.search(r"a=msid-semantic: WMS (\S+)\r\n", chrome).group(1) in streams  # type: ignore[union-attr]
    assert "a=extmap-allow-mixed" in chrome
