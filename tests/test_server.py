"""The reference target: its knobs (candidates, codecs, impairment), its realtime events, its WHIP
resource, and its HTTP edges — real aiortc sessions on loopback where media matters."""

from __future__ import annotations

import argparse
import asyncio
import json
import time
from pathlib import Path
from typing import Any

import aiohttp
import numpy as np
import pytest
from aiortc import RTCConfiguration, RTCPeerConnection
from test_signaling import (
    TOKEN,
    WAIT,
    Client,
    connect,
    loudest_dbfs,
    offer_sdp,
    peer_connections,
    reference_targets,
)

from rtcprobe.errors import InputError
from rtcprobe.probe.media import AudioSource
from rtcprobe.sdp import parse_candidate, parse_description
from rtcprobe.server import (
    ServerConfig,
    add_serve_arguments,
    config_from_args,
    peer,
    run_server,
    serve_forever,
)
from rtcprobe.server.app import SESSIONS
from rtcprobe.server.candidates import rewrite_candidates
from rtcprobe.signaling import make_signaler

CAPTURES = Path(__file__).parent.parent / "captures"
STUDY_IPS = ["172.203.39.49", "172.214.226.198", "4.151.200.38"]

serve = pytest.fixture(name="serve")(reference_targets)
clients = pytest.fixture(name="clients")(peer_connections)


def shape(candidate: Any) -> tuple[Any, ...]:
    """What the study's tables compare: everything but foundation and ufrag."""
    return (candidate.component, candidate.transport, candidate.priority, candidate.address,
            candidate.port, candidate.type, candidate.tcptype)


def study_candidates(name: str) -> list[tuple[Any, ...]]:
    lines = (CAPTURES / name).read_text().splitlines()
    return [shape(parse_candidate(line)) for line in lines if line.startswith("a=candidate:")]


async def session(serve, clients, protocol: str = "whip", **kwargs: Any) -> tuple[Any, Client, Any]:
    config = kwargs.pop("config", {})
    target = await serve(**config)
    path = {"whip": "/whip", "openai": "/v1/realtime/calls", "openai-beta": "/v1/realtime"}[protocol]
    signaler = make_signaler(protocol, target.url(path))
    client = await connect(signaler, clients, **kwargs)
    return target, client, signaler


def answer_of(client: Client) -> Any:
    return parse_description(client.result.answer_sdp, source="answer")


# -- candidates ----------------------------------------------------------------------------------


async def test_study_candidate_set_is_advertised_and_the_session_still_connects(serve, clients) -> None:
    target, client, _ = await session(serve, clients, config={"advertise_ips": STUDY_IPS})
    await asyncio.wait_for(client.connected.wait(), WAIT)  # through the real candidates, kept
    answer = answer_of(client)
    for media in answer.media:
        advertised = [c for c in media.candidates if c.address in STUDY_IPS]
        assert [shape(c) for c in advertised] == study_candidates("openai-2025-09-candidates.txt")
        assert {c.ufrag for c in advertised} == {media.ice_ufrag}
        assert len(media.candidates) > len(advertised)  # the real ones follow
        assert media.end_of_candidates


async def test_november_shape_with_rtcp_candidates(serve) -> None:
    target = await serve(advertise_ips=["41.86.183.135"], advertise_tcp_port=3478,
                         rtcp_candidates=True, only_advertised=True)
    signaler = make_signaler("whip", target.url("/whip"))
    result = await signaler.exchange(await offer_sdp())
    [media] = parse_description(result.answer_sdp).media
    assert [shape(c) for c in media.candidates] == study_candidates("openai-2024-11-candidates.txt")
    assert media.end_of_candidates
    await signaler.teardown()


async def test_only_advertised_without_end_of_candidates(serve) -> None:
    target = await serve(advertise_ips=STUDY_IPS, only_advertised=True, end_of_candidates=False)
    signaler = make_signaler("whip", target.url("/whip"))
    result = await signaler.exchange(await offer_sdp())
    [media] = parse_description(result.answer_sdp).media
    assert [shape(c) for c in media.candidates] == study_candidates("openai-2025-09-candidates.txt")
    assert not media.end_of_candidates
    await signaler.teardown()


def test_rewrite_touches_only_candidate_lines() -> None:
    sdp = ("v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\n"
           "m=audio 9 UDP/TLS/RTP/SAVPF 0\r\nc=IN IP4 0.0.0.0\r\na=mid:0\r\n"
           "a=candidate:1 1 udp 2130706431 10.0.0.1 5000 typ host\r\na=end-of-candidates\r\n"
           "a=ice-ufrag:abcd\r\na=ice-pwd:0123456789012345678901\r\n"
           "m=audio 0 UDP/TLS/RTP/SAVPF 0\r\na=mid:1\r\n")
    config = ServerConfig(advertise_ips=["192.0.2.7"], advertise_tcp_port=None, rtcp_candidates=True)
    lines = rewrite_candidates(sdp, config).split("\r\n")
    assert lines[7:12] == [
        lines[7],
        lines[7].replace(" 1 udp", " 2 udp"),
        "a=candidate:1 1 udp 2130706431 10.0.0.1 5000 typ host",
        "a=candidate:1 2 udp 2130706431 10.0.0.1 5000 typ host",
        "a=end-of-candidates",
    ]
    assert lines[7].endswith(" 1 udp 2130706431 192.0.2.7 3478 typ host ufrag abcd")
    assert lines[:7] == sdp.split("\r\n")[:7] and lines[12:] == sdp.split("\r\n")[9:]
    assert rewrite_candidates(sdp, ServerConfig()) == sdp


async def test_a_chromium_offer_gets_the_studied_codec_profile(serve) -> None:
    target = await serve(audio_codecs=["opus", "PCMU", "PCMA"], video_codecs=["H264"])
    offer = (Path(__file__).parent / "data" / "chromium-offer.sdp").read_text()
    signaler = make_signaler("whip", target.url("/whip"))
    result = await signaler.exchange(offer)
    audio, video, data = parse_description(result.answer_sdp).media
    assert [c.name for c in audio.codecs] == ["opus", "PCMU", "PCMA"]
    assert {c.name for c in video.codecs} == {"H264"}
    assert data.kind == "application"
    await signaler.teardown()
    assert target.sessions == {}


# -- codecs and directions -----------------------------------------------------------------------


async def test_codec_restriction_h264_only_and_pcmu_and_video_echo(serve, clients) -> None:
    target, client, _ = await session(serve, clients, video="sendrecv",
                                      config={"audio_codecs": ["PCMU"], "video_codecs": ["H264"]})
    audio, video = answer_of(client).media[:2]
    assert [c.name for c in audio.codecs] == ["PCMU"]
    assert {c.name for c in video.codecs} == {"H264"}  # and no RTX
    assert (audio.direction, video.direction) == ("sendrecv", "sendrecv")
    await asyncio.wait_for(client.connected.wait(), WAIT)
    frame = await asyncio.wait_for((await client.track("video")).recv(), WAIT)
    assert (frame.width, frame.height) == (320, 240)
    assert await loudest_dbfs(await client.track("audio")) > -30


async def test_rtx_is_kept_when_listed(serve) -> None:
    target = await serve(video_codecs=["VP8", "rtx"])
    pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
    pc.addTransceiver("video", direction="recvonly")
    await pc.setLocalDescription(await pc.createOffer())
    signaler = make_signaler("whep", target.url("/whep"))  # a recvonly offer is a playback
    result = await signaler.exchange(pc.localDescription.sdp)
    [video] = parse_description(result.answer_sdp).media
    assert [c.name for c in video.codecs] == ["VP8", "rtx"]
    await signaler.teardown()
    await pc.close()


async def test_directions_are_respected(serve, clients) -> None:
    target, client, _ = await session(serve, clients, audio="recvonly", video="sendonly")
    audio, video = answer_of(client).media[:2]
    assert (audio.direction, video.direction) == ("sendonly", "recvonly")
    await asyncio.wait_for(client.connected.wait(), WAIT)
    # the server makes audio for a receive-only client: silence, since there is nothing to echo
    frame = await asyncio.wait_for((await client.track("audio")).recv(), WAIT)
    assert frame.sample_rate == 48000


# -- impairment -------------------------------------------------------------------------------


async def test_seeded_outbound_loss_drops_server_rtp(serve, clients) -> None:
    target, client, _ = await session(serve, clients, config={"loss_percent": 30, "seed": 7})
    await asyncio.wait_for(client.connected.wait(), WAIT)
    await client.track("audio")
    [server_session] = target.sessions.values()
    loss = server_session.impairment.engine.network.pipes["up"].counts  # the alias of up:rtploss=30%

    async def inbound() -> Any:
        while True:
            stats = await client.pc.getStats()
            found = [s for s in stats.values() if s.type == "inbound-rtp" and s.kind == "audio"]
            if found and found[0].packetsReceived >= 20 and loss.rtp_dropped:
                return found[0]
            await asyncio.sleep(0.05)

    received = await asyncio.wait_for(inbound(), WAIT)
    assert 0 < loss.rtp_dropped < loss.by_class["rtp"]["packets"]
    assert received.packetsLost > 0  # the client sees the gaps


async def test_outbound_delay_holds_back_echoed_media(serve, clients) -> None:
    target, client, _ = await session(serve, clients, config={"delay_ms": 300})
    await asyncio.wait_for(client.connected.wait(), WAIT)
    connected_at = time.monotonic()
    await asyncio.wait_for((await client.track("audio")).recv(), WAIT)
    # a lower bound by construction: the server sends nothing before it is connected itself,
    # which is after this client, and every packet then waits 300 ms
    assert time.monotonic() - connected_at >= 0.3


# -- realtime events ----------------------------------------------------------------------------


class ToneBurst(AudioSource):
    """A loud 0.4 s tone, then silence: one utterance for the speech detector."""

    def samples(self, first: int, count: int) -> np.ndarray:
        n = np.arange(first, first + count)
        tone = (np.sin(2 * np.pi * 500 * n / 48000) * 12000).astype(np.int16)
        return np.where(n < 0.4 * 48000, tone, 0).astype(np.int16)


async def test_realtime_events_and_speech_detection(serve, clients) -> None:
    target, client, _ = await session(serve, clients, "openai", audio_track=ToneBurst())
    created = await client.next_event("session.created")
    assert created["session"]["type"] == "realtime" and created["event_id"].startswith("event_")
    started = await client.next_event("input_audio_buffer.speech_started")
    stopped = await client.next_event("input_audio_buffer.speech_stopped")
    assert 0 <= started["audio_start_ms"] < stopped["audio_end_ms"]

    channel = client.channel
    channel.send(json.dumps({"type": "session.update", "session": {"instructions": "hi"}}))
    assert (await client.next_event("session.updated"))["session"]["instructions"] == "hi"
    channel.send(json.dumps({"type": "response.create"}))
    assert (await client.next_event("response.created"))["response"]["status"] == "in_progress"
    assert (await client.next_event("response.done"))["response"]["status"] == "completed"
    channel.send("not json")
    assert (await client.next_event("error"))["error"]["code"] == "invalid_event"
    channel.send(json.dumps({"type": "no.such.event", "event_id": "e1"}))
    error = (await client.next_event("error"))["error"]
    assert (error["code"], error["event_id"]) == ("unknown_event", "e1")
    [server_session] = target.sessions.values()
    assert server_session.realtime.received == ["session.update", "response.create", "no.such.event"]


async def test_beta_header_can_be_required(serve) -> None:
    target = await serve(require_beta_header=True)
    async with aiohttp.ClientSession() as http, http.post(
        target.url("/v1/realtime"), data=await offer_sdp(), headers={"Content-Type": "application/sdp"}
    ) as response:
        assert response.status == 400
        assert "OpenAI-Beta" in (await response.json())["error"]["message"]


# -- HTTP edges ----------------------------------------------------------------------------------


async def test_calls_accepts_a_bare_offer_and_rejects_broken_forms(serve) -> None:
    target = await serve()
    url = target.url("/v1/realtime/calls")
    async with aiohttp.ClientSession() as http:
        async with http.post(url, data=await offer_sdp(),
                             headers={"Content-Type": "application/sdp"}) as response:
            assert response.status == 201
            assert response.headers["Location"].startswith("/v1/realtime/calls/rtc_")
        form = aiohttp.FormData(default_to_multipart=True)
        form.add_field("session", "{}")
        async with http.post(url, data=form) as response:
            assert (response.status, (await response.json())["error"]["code"]) == (400, "missing_sdp")
        form = aiohttp.FormData(default_to_multipart=True)
        form.add_field("sdp", await offer_sdp())
        form.add_field("session", "{not json")
        async with http.post(url, data=form) as response:
            assert (response.status, (await response.json())["error"]["code"]) == (400, "invalid_session")
        async with http.post(url, data="x", headers={"Content-Type": "text/plain"}) as response:
            assert response.status == 415


async def test_cors_preflight_and_exposed_headers_when_asked(serve) -> None:
    page = {"Origin": "http://localhost:1234"}
    preflight = {**page, "Access-Control-Request-Method": "POST",
                 "Access-Control-Request-Headers": "authorization, content-type"}
    for cors in (False, True):
        target = await serve(cors=cors)
        async with aiohttp.ClientSession() as http:
            async with http.options(target.url("/whip"), headers=preflight) as response:
                assert (response.status == 204) is cors
                if cors:
                    assert "Authorization" in response.headers["Access-Control-Allow-Headers"]
                    assert "POST" in response.headers["Access-Control-Allow-Methods"]
            async with http.post(target.url("/whip"), data=await offer_sdp(),
                                 headers={**page, "Content-Type": "application/sdp"}) as response:
                assert response.status == 201
                allowed = response.headers.get("Access-Control-Allow-Origin")
                assert allowed == ("http://localhost:1234" if cors else None)
                if cors:
                    assert "Location" in response.headers["Access-Control-Expose-Headers"]
            async with http.delete(target.url(response.headers["Location"])) as response:
                assert response.status == 200


async def test_whip_patch_trickle_etag_and_restart(serve) -> None:
    target = await serve(token=TOKEN)
    signaler = make_signaler("whip", target.url("/whip"), token=TOKEN)
    result = await signaler.exchange(await offer_sdp())
    etag = result.exchanges[0].etag
    auth = {"Authorization": f"Bearer {TOKEN}"}
    frag = "a=mid:0\r\na=candidate:9 1 udp 2130706431 192.0.2.9 9999 typ host\r\n"
    trickle = {**auth, "Content-Type": "application/trickle-ice-sdpfrag"}
    url = result.resource_url
    async with aiohttp.ClientSession() as http:
        async with http.patch(url, data=frag, headers={**trickle, "If-Match": etag}) as response:
            assert response.status == 204
        async with http.patch(url, data=frag, headers={**trickle, "If-Match": '"stale"'}) as response:
            assert response.status == 412
        async with http.patch(url, data=frag, headers={**auth, "Content-Type": "text/plain"}) as response:
            assert response.status == 415
        restart = "a=ice-ufrag:newufrag\r\na=ice-pwd:newpasswordnewpassword12\r\n"
        async with http.patch(url, data=restart, headers=trickle) as response:
            assert response.status == 428  # no If-Match (RFC 9725 §4.3); restarts: tests/test_trickle_restart.py
        async with http.delete(url) as response:
            assert response.status == 401
        async with http.patch(url + "x", data=frag, headers=trickle) as response:
            assert response.status == 404
    await signaler.teardown()


async def test_shutdown_closes_every_session() -> None:
    runner, base_url = await run_server(ServerConfig())
    assert base_url.startswith("http://127.0.0.1:")
    signaler = make_signaler("whip", base_url + "/whip")
    await signaler.exchange(await offer_sdp())
    sessions = runner.app[SESSIONS]
    [live] = sessions.values()
    await signaler.close()
    await runner.cleanup()
    assert sessions == {} and live.pc.connectionState == "closed"


async def test_sessions_that_never_connect_are_closed(serve, monkeypatch) -> None:
    monkeypatch.setattr(peer, "CONNECT_DEADLINE", 0.2)
    target = await serve()
    signaler = make_signaler("whip", target.url("/whip"))
    await signaler.exchange(await offer_sdp())  # its peer connection is already closed
    [abandoned] = target.sessions.values()

    async def gone() -> None:
        while target.sessions:
            await asyncio.sleep(0.05)

    await asyncio.wait_for(gone(), WAIT)
    assert abandoned.pc.connectionState == "closed"
    await signaler.close()


async def test_serve_forever_runs_until_cancelled() -> None:
    ready: asyncio.Future[str] = asyncio.get_running_loop().create_future()
    task = asyncio.ensure_future(serve_forever(ServerConfig(), ready.set_result))
    base_url = await asyncio.wait_for(ready, WAIT)
    async with aiohttp.ClientSession() as http, http.delete(base_url + "/whip/nope") as response:
        assert response.status == 404
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    async with aiohttp.ClientSession() as http:
        with pytest.raises(aiohttp.ClientConnectionError):
            await http.delete(base_url + "/whip/nope")


# -- configuration -----------------------------------------------------------------------------


def test_serve_flags_map_onto_the_config(monkeypatch) -> None:
    parser = argparse.ArgumentParser()
    add_serve_arguments(parser)
    args = parser.parse_args([
        "--port", "0", "--advertise-ip", STUDY_IPS[0], "--advertise-ip", STUDY_IPS[1],
        "--advertise-tcp-port", "0", "--no-end-of-candidates", "--video-codecs", "H264",
        "--audio-codecs", "opus,PCMU", "--loss-percent", "5", "--seed", "3", "--http-status", "503",
        "--token-env", "RTCPROBE_TEST_TOKEN",
    ])
    monkeypatch.setenv("RTCPROBE_TEST_TOKEN", TOKEN)
    config = config_from_args(args)
    assert config.advertise_ips == STUDY_IPS[:2]
    assert (config.advertise_udp_port, config.advertise_tcp_port) == (3478, None)
    assert config.end_of_candidates is False
    assert (config.video_codecs, config.audio_codecs) == (["H264"], ["opus", "PCMU"])
    assert (config.loss_percent, config.seed, config.http_status, config.token) == (5, 3, 503, TOKEN)
    defaults = config_from_args(parser.parse_args([]))
    assert defaults == ServerConfig(port=8080)
    service = config_from_args(parser.parse_args([
        "--header-timeout", "2.5", "--body-timeout", "3", "--max-connections-per-ip", "7", "--max-sessions", "9"]))
    assert (service.header_timeout, service.body_timeout) == (2.5, 3.0)
    assert (service.max_connections_per_ip, service.max_sessions) == (7, 9)
    with pytest.raises(InputError, match="loss percent: expected 0..100"):
        config_from_args(parser.parse_args(["--loss-percent", "120"]))
    monkeypatch.delenv("RTCPROBE_TEST_TOKEN")
    with pytest.raises(InputError, match="RTCPROBE_TEST_TOKEN is not set"):
        config_from_args(args)


@pytest.mark.parametrize("kwargs,message", [
    ({"audio_codecs": ["AAC"]}, "audio codecs: AAC not supported by aiortc"),
    ({"video_codecs": ["rtx"]}, "rtx needs a media codec"),
    ({"advertise_ips": ["example.com"]}, "expected an IPv4 or IPv6 address"),
    ({"only_advertised": True}, "give at least one advertise IP"),
    ({"loss_percent": 120}, "loss percent: expected 0..100"),
    ({"http_status": 42}, "HTTP status: expected 100..599"),
    ({"header_timeout": 0}, "header timeout: expected seconds > 0"),
    ({"body_timeout": float("nan")}, "body timeout: expected seconds > 0"),
    ({"max_sessions": 0}, "max sessions: expected at least 1"),
    ({"max_connections_per_ip": -1}, "max connections per ip: expected at least 1"),
])
def test_bad_config_is_one_clear_line(kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        ServerConfig(**kwargs)


async def test_get_and_head_answer_2xx_without_content_and_options_lists_accept_post() -> None:
    """RFC 9725 §4.1: a WHIP/WHEP resource has no representation (GET/HEAD 2xx, no content);
    §4.2: OPTIONS says what POST takes."""
    import aiohttp

    from rtcprobe.server import ServerConfig, run_server

    runner, base = await run_server(ServerConfig(host="127.0.0.1", port=0))
    try:
        async with aiohttp.ClientSession() as http:
            for method in ("GET", "HEAD"):
                async with http.request(method, f"{base}/whip") as answer:
                    assert answer.status == 204 and await answer.read() == b""
                async with http.request(method, f"{base}/whip/no-such-session") as answer:
                    assert answer.status == 404
            async with http.options(f"{base}/whip", headers={
                    "Origin": "http://localhost", "Access-Control-Request-Method": "POST"}) as answer:
                assert answer.status == 204 and answer.headers["Accept-Post"] == "application/sdp"
    finally:
        await runner.cleanup()
