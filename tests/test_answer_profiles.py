"""`rtcprobe serve --answer-profile NAME` (answers like a recorded service) and the target's DTLS
with RSA-only clients — real aiortc sessions on loopback, real-world answers as the profiles."""

from __future__ import annotations

import argparse
import asyncio
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiortc import RTCPeerConnection, RTCSessionDescription
from aiortc.rtcdtlstransport import RTCCertificate, generate_certificate
from browser import browser_session, serve_target, stats_of_type, wait_for_media
from cryptography.hazmat.primitives.asymmetric import rsa
from OpenSSL import SSL

from rtcprobe.analyze.diff import diff
from rtcprobe.capture import Capture, load
from rtcprobe.errors import InputError
from rtcprobe.inputs import load_negotiation
from rtcprobe.probe.options import ProbeOptions
from rtcprobe.probe.session import ProbeSession
from rtcprobe.profiles import ANSWERS_DIR, AnswerProfile, load_answer_profile, load_offer_profile
from rtcprobe.sdp import parse_description
from rtcprobe.server import (
    ServerConfig,
    add_serve_arguments,
    config_from_args,
    create_app,
)
from rtcprobe.server.answer_shape import ProfileMismatch, plan_answer, served_answer

PROFILES = ("openai-2025-09", "openai-2024-11", "whip-janus")
RSA_ONLY = b"ECDHE-RSA-AES128-GCM-SHA256:AES128-SHA"  # what an RSA-only DTLS stack (webrtcbin) offers


# -- the data files ---------------------------------------------------------------------------------
@pytest.mark.parametrize("name", PROFILES)
def test_each_answer_profile_is_a_recorded_answer_with_provenance(name: str) -> None:
    profile = load_answer_profile(name)
    assert profile.description.type == "answer" and profile.service and profile.version
    assert "@" in profile.source or "study" in profile.source
    assert profile.notes and any("loopback" in note for note in profile.notes)
    assert {p.stem for p in ANSWERS_DIR.glob("*.json")} == set(PROFILES)


def test_unknown_profile_and_knobs_it_excludes_are_one_line_errors() -> None:
    parser = argparse.ArgumentParser()
    add_serve_arguments(parser)
    with pytest.raises(InputError, match="unknown profile 'openai-2023'.*openai-2025-09"):
        config_from_args(parser.parse_args(["--answer-profile", "openai-2023"]))
    with pytest.raises(InputError, match="decides codecs and candidates: drop --rtcp-candidates, --video-codecs"):
        config_from_args(parser.parse_args(["--answer-profile", "whip-janus", "--video-codecs", "VP8",
                                            "--rtcp-candidates"]))
    args = parser.parse_args(["--answer-profile", "openai-2025-09", "--dtls-cert", "rsa"])
    assert (config_from_args(args).answer_profile, config_from_args(args).dtls_cert) == ("openai-2025-09", "rsa")


def test_the_chrome_offer_is_answered_at_its_own_payload_types_in_the_recorded_order() -> None:
    """The study's answer against Google Chrome's offer: the four H.264 profiles at Chrome's PTs
    (High matched by profile, at the recorded level), aiortc shown only what is answered."""
    chrome = load_offer_profile("chrome")
    assert chrome is not None
    plan = plan_answer(chrome.sdp, load_answer_profile("openai-2025-09"))
    audio, video = plan.sections[0], plan.sections[1]
    offered = parse_description(chrome.sdp).media[1]
    plid = {c.payload_type: c.fmtp.get("profile-level-id") for c in offered.codecs if c.name == "H264"}
    assert audio.formats == ["111", "0", "8"]
    assert [plid[int(pt)] for pt in video.formats] == ["42001f", "42e01f", "4d001f", "64001f"]
    assert [line for line in video.codec_lines if line.startswith("a=fmtp:")][-1].endswith("profile-level-id=640032")
    assert video.extmaps == ["a=extmap:3 http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01",
                             "a=extmap:10 urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id",
                             "a=extmap:11 urn:ietf:params:rtp-hdrext:sdes:repaired-rtp-stream-id"]
    assert plan.setup == "passive"
    seen = parse_description(plan.aiortc_offer).media[1]
    assert [c.fmtp["profile-level-id"][:4] for c in seen.codecs] == ["4200", "42e0", "42e0", "42e0"]
    assert not any("goog-remb" in c.rtcp_fb or "ccm fir" in c.rtcp_fb for c in seen.codecs)
    assert not any(c.name == "rtx" for c in seen.codecs)


def test_an_offer_without_the_profiles_codecs_is_refused() -> None:
    firefox = load_offer_profile("firefox")  # VP8, VP9, AV1: no H.264 for the study's answer
    assert firefox is not None
    with pytest.raises(ProfileMismatch, match=r"m-line 1 \(video\) offers none of the codecs"):
        plan_answer(firefox.sdp, load_answer_profile("openai-2025-09"))
    with pytest.raises(ProfileMismatch, match="openai-2024-11 has no video m-line"):
        plan_answer(firefox.sdp, load_answer_profile("openai-2024-11"))


# -- real sessions ----------------------------------------------------------------------------------


async def capture(tmp_path: Path, url: str, protocol: str, offer: str, video: bool, name: str) -> Capture:
    opts = ProbeOptions(target=url, output=tmp_path / f"{name}.jsonl", protocol=protocol, video=video,
                        video_size=(320, 240), fps=10, duration=1.5, stats_interval=0.5, offer=offer,
                        token="sk-test-not-a-key")
    return load((await ProbeSession(opts).run()).path)


def remote_sdp(recorded: Capture) -> str:
    return next(e["sdp"] for e in recorded.events if e["event"] == "sdp" and e["role"] == "remote")


@pytest.mark.slow
async def test_whip_janus_answers_a_firefox_offer_with_januss_codecs_and_feedback(serve, tmp_path: Path) -> None:
    recorded = await capture(tmp_path, await serve(answer_profile="whip-janus") + "/whip", "whip", "firefox", True,
                             "janus")
    assert recorded.reason == "completed", recorded.diagnosis
    answer = parse_description(remote_sdp(recorded))
    janus = load_answer_profile("whip-janus").description
    for served, model in zip(answer.media[:2], janus.media[:2], strict=True):
        assert [(c.identity, c.rtcp_fb) for c in served.codecs] == [(c.identity, c.rtcp_fb) for c in model.codecs]
        assert served.setup == "active" and served.end_of_candidates
        assert {c.priority for c in served.candidates} == {2013266431}
    first = {(e["direction"], e["kind"]): e["payload_type"] for e in recorded.events if e["event"] == "rtp_first"}
    assert first[("sent", "video")] == first[("received", "video")] == answer.media[1].codecs[0].payload_type


@pytest.mark.slow
async def test_the_two_openai_candidate_shapes_live_give_the_studys_candidate_rows(serve, tmp_path: Path) -> None:
    """November (beta, audio) against September (GA): the candidate table's shape rows as the study's;
    the port rows differ by design (the UDP candidate is the target's real loopback port)."""
    november = await capture(tmp_path, await serve(answer_profile="openai-2024-11") + "/v1/realtime",
                             "openai-beta", "chrome", False, "november")
    september = await capture(tmp_path, await serve(answer_profile="openai-2025-09") + "/v1/realtime/calls",
                              "openai", "chrome", False, "september")
    assert november.reason == september.reason == "completed", (november.diagnosis, september.diagnosis)
    table = {r.field: (r.a, r.b) for r in diff(load_negotiation(november.path),
                                                load_negotiation(september.path)).candidate_table}
    assert table["separate RTCP candidate"] == ("yes", "no")
    assert table["end-of-candidates"] == ("present", "absent")
    assert table["candidate type"] == ("host", "host")
    assert table["transports"] == ("UDP, TCP", "UDP, TCP")
    assert table["UDP priority"] == ("2130706431", "2130706431")
    assert table["TCP priority"] == ("1671430143", "1671430143")
    tcp = {m: {c.port for c in parse_description(remote_sdp(r)).media[0].candidates if c.transport == "tcp"}
           for m, r in (("november", november), ("september", september))}
    assert tcp == {"november": {3478}, "september": {443}}


@pytest.mark.slow
async def test_a_video_offer_to_the_audio_only_november_profile_is_a_400(serve, tmp_path: Path) -> None:
    recorded = await capture(tmp_path, await serve(answer_profile="openai-2024-11") + "/v1/realtime",
                             "openai-beta", "chrome", True, "refused")
    http = next(e for e in recorded.events if e["event"] == "http" and e.get("status"))
    assert http["status"] == 400 and recorded.reason != "completed"


# -- DTLS with clients that only offer RSA suites ---------------------------------------------------
class RsaOnlyCertificate(RTCCertificate):
    """An RSA certificate offering only RSA suites, as GStreamer's webrtcbin does."""

    def _create_ssl_context(self, srtp_profiles: list) -> SSL.Context:  # type: ignore[override]
        ctx = super()._create_ssl_context(srtp_profiles)
        ctx.set_cipher_list(RSA_ONLY)
        return ctx


def rsa_only_peer() -> RTCPeerConnection:
    pc = RTCPeerConnection()
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pc._RTCPeerConnection__certificates = [RsaOnlyCertificate(key=key, cert=generate_certificate(key))]  # type: ignore[attr-defined]
    return pc


async def echo_over_dtls(pc: RTCPeerConnection, base_url: str) -> tuple[str, str | None, str]:
    """Offer a data channel to the target's SDP-POST endpoint; (connection state, the echoed
    message, the DTLS cipher) once connected or failed."""
    channel = pc.createDataChannel("echo")
    echoed: asyncio.Future[str] = asyncio.get_running_loop().create_future()
    channel.on("open", lambda: channel.send("over DTLS"))
    channel.on("message", lambda m: echoed.done() or echoed.set_result(m))
    done = asyncio.Event()
    pc.on("connectionstatechange", lambda: done.set() if pc.connectionState in ("connected", "failed") else None)
    await pc.setLocalDescription(await pc.createOffer())
    async with aiohttp.ClientSession() as http, http.post(
            base_url + "/offer", data=pc.localDescription.sdp, headers={"Content-Type": "application/sdp"}) as r:
        assert r.status == 200, await r.text()
        answer = await r.text()
    await pc.setRemoteDescription(RTCSessionDescription(answer, "answer"))
    await asyncio.wait_for(done.wait(), 20)
    state = pc.connectionState
    message = await asyncio.wait_for(echoed, 10) if state == "connected" else None
    cipher = pc.sctp.transport._ssl.get_cipher_name() if state == "connected" else ""  # type: ignore[union-attr]
    setup = parse_description(answer).media[0].setup or ""
    await pc.close()
    return state, message, f"{setup} {cipher}"


@pytest.mark.slow
async def test_an_rsa_only_client_completes_dtls_with_the_default_target(serve) -> None:
    """The target answers setup:active (DTLS client) and offers the RSA suites next to aiortc's."""
    state, message, how = await echo_over_dtls(rsa_only_peer(), await serve())
    assert (state, message) == ("connected", "over DTLS")
    assert how == "active ECDHE-RSA-AES128-GCM-SHA256"


@pytest.mark.slow
async def test_an_rsa_only_client_fails_against_stock_aiortc_the_control() -> None:
    """Stock aiortc as DTLS client offers ECDHE-ECDSA only: the RSA-only server has no shared
    cipher — what GStreamer's WHIP client met; the client above is really RSA-only."""
    client, stock = rsa_only_peer(), RTCPeerConnection()
    client.createDataChannel("echo")
    await client.setLocalDescription(await client.createOffer())
    await stock.setRemoteDescription(client.localDescription)
    await stock.setLocalDescription(await stock.createAnswer())
    failed = asyncio.Event()
    stock.on("connectionstatechange", lambda: failed.set() if stock.connectionState == "failed" else None)
    await client.setRemoteDescription(stock.localDescription)
    await asyncio.wait_for(failed.wait(), 20)  # no shared cipher: the handshake fails, never connects
    assert stock.connectionState == "failed"
    await asyncio.gather(client.close(), stock.close())


@pytest.mark.slow
async def test_as_dtls_server_the_target_needs_dtls_cert_rsa_for_rsa_only_clients(serve) -> None:
    """openai-2025-09 answers setup:passive: the target picks the suite, so its certificate decides."""
    state, message, how = await echo_over_dtls(rsa_only_peer(), await serve(answer_profile="openai-2025-09",
                                                                            dtls_cert="rsa"))
    assert (state, message) == ("connected", "over DTLS") and how.startswith("passive ECDHE-RSA")
    state, message, _ = await echo_over_dtls(rsa_only_peer(), await serve(answer_profile="openai-2025-09"))
    assert (state, message) == ("failed", None)


@pytest.mark.slow
async def test_an_aiortc_client_is_unchanged_by_the_rsa_option_when_the_target_is_dtls_client(serve) -> None:
    state, message, how = await echo_over_dtls(RTCPeerConnection(), await serve(dtls_cert="rsa"))
    assert (state, message) == ("connected", "over DTLS") and how.startswith("active ECDHE-ECDSA")


# -- a real browser against the served answer -------------------------------------------------------
@pytest.mark.browser
async def test_chromium_gets_the_studys_answer_and_sends_h264_under_it(chromium: Any) -> None:
    """Debian's Chromium offers H.264 42001f/42e01f/4d001f (no High): the served answer lists those
    three, H.264 only; Chromium sends and receives H.264 under it, from the study's candidate shape."""
    async with serve_target(create_app(ServerConfig(answer_profile="openai-2025-09"))) as target, \
            chromium.open_page(target.base_url + target.page_path) as page:
        session = await browser_session(page, target.base_url + "/v1/realtime/calls", "openai",
                                        session={"type": "realtime", "model": "gpt-realtime"})
        assert session.status == 201
        answer = parse_description(session.answer)
        video = answer.media[1]
        assert {c.name for c in video.codecs} == {"H264"}
        assert [c.h264.profile for c in video.codecs if c.h264] == ["baseline", "constrained baseline", "main"]
        assert answer.media[0].setup == "passive" and not answer.media[0].end_of_candidates
        stats = await wait_for_media(page, ("audio", "video"))
        by_id = {s["id"]: s for s in stats}
        for direction in ("inbound-rtp", "outbound-rtp"):
            (rtp,) = stats_of_type(stats, direction, "video")
            assert by_id[rtp["codecId"]]["mimeType"] == "video/H264", direction
            assert by_id[rtp["codecId"]]["payloadType"] == video.codecs[0].payload_type
        (pair,) = [p for p in stats_of_type(stats, "candidate-pair") if p.get("nominated")]
        assert by_id[pair["remoteCandidateId"]]["priority"] == 2130706431


def test_rtx_is_answered_with_the_offers_rtx_payload_types_and_what_aiortc_cannot_receive_is_left_out() -> None:
    """A real-world answer with RTX (Jitsi's sample) as the profile, against Google Chrome's offer."""
    path = Path(__file__).parent / "data" / "realworld" / "sdp" / "jitsi-multiCodecVideoSdp.sdp"
    text = path.read_text()
    jitsi = AnswerProfile("jitsi-sample", "jitsi", "sample", str(path), text, parse_description(text, str(path)), [])
    chrome = load_offer_profile("chrome")
    assert chrome is not None
    plan = plan_answer(chrome.sdp, jitsi)
    video = plan.sections[1]
    assert video.formats == ["96", "106", "97", "107"]  # VP8, H.264 42e01f mode 1, their RTX
    assert "a=fmtp:97 apt=96" in video.codec_lines and "a=fmtp:107 apt=106" in video.codec_lines
    assert any("VP9" in note for note in plan.notes) and any("telephone-event" in note for note in plan.notes)
    assert any("packetization-mode=0" in note for note in plan.notes)
    seen = parse_description(plan.aiortc_offer).media[1]
    assert [c.payload_type for c in seen.codecs] == [96, 106, 97, 107]


async def test_an_ice_lite_answer_is_served_as_ice_lite_with_its_candidate_shape() -> None:
    """Google's ICE-lite answer (werift issue 141) as the profile: a=ice-lite at session level, the
    recorded UDP priority and TCP passive port on the target's real candidates, aiortc answering."""
    path = Path(__file__).parent / "data" / "realworld" / "sdp" / "werift-issue141-google-icelite.sdp"
    text = path.read_text()
    google = AnswerProfile("google-lite", "google", "issue 141", str(path), text, parse_description(text), [])
    offerer, answerer = RTCPeerConnection(), RTCPeerConnection()
    offerer.addTransceiver("audio")
    await offerer.setLocalDescription(await offerer.createOffer())
    plan = plan_answer(offerer.localDescription.sdp, google)
    answerer.addTransceiver("audio")
    await answerer.setRemoteDescription(RTCSessionDescription(plan.aiortc_offer, "offer"))
    await answerer.setLocalDescription(await answerer.createAnswer())
    served = parse_description(served_answer(answerer.localDescription.sdp, plan))
    await asyncio.gather(offerer.close(), answerer.close())
    assert served.ice_lite
    audio = served.media[0]
    assert [c.name for c in audio.codecs] == ["opus"] and audio.codecs[0].fmtp == {"minptime": "10", "useinbandfec": "1"}
    real = [c for c in audio.candidates if c.transport == "udp"]
    assert real and {c.priority for c in real} == {2113939711}
    assert {(c.port, c.priority, c.tcptype) for c in audio.candidates if c.transport == "tcp"} == {
        (19305, 2113939710, "passive"), (19305, 2113932030, "passive")}
