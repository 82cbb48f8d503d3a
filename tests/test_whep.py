"""WHEP: `capture --protocol whep` against `rtcprobe serve`'s /whep on loopback (a real playback
session: recvonly offer, sendonly answer with the tone and the test pattern, DELETE at the end),
serve's WHEP HTTP edges, and what the probe does with a counter-offer (early drafts' 406)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web
from aiortc import RTCConfiguration, RTCPeerConnection

from rtcprobe.capture import load
from rtcprobe.cli import build_parser
from rtcprobe.commands import UsageError
from rtcprobe.commands.probe import options_from_args
from rtcprobe.probe.options import ProbeOptions
from rtcprobe.probe.session import ProbeSession
from rtcprobe.sdp import parse_description
from rtcprobe.server import ServerConfig, run_server
from rtcprobe.server.app import SESSIONS
from rtcprobe.signaling import guess_protocol


async def offer(direction: str) -> str:
    pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
    pc.addTransceiver("audio", direction=direction)
    pc.addTransceiver("video", direction=direction)
    await pc.setLocalDescription(await pc.createOffer())
    sdp = pc.localDescription.sdp
    await pc.close()
    return sdp


async def start_app(app: web.Application) -> tuple[web.AppRunner, str]:
    """A deliberately different server of the test's own, on 127.0.0.1; its runner and base URL."""
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    return runner, f"http://127.0.0.1:{runner.addresses[0][1]}"


def http_events(events: list[dict]) -> list[dict]:
    return [e for e in events if e["event"] == "http"]


async def test_whep_capture_against_serve_plays_audio_and_video_and_deletes(tmp_path: Path) -> None:
    runner, base = await run_server(ServerConfig(host="127.0.0.1", port=0))
    try:
        opts = ProbeOptions(target=base + "/whep", output=tmp_path / "whep.jsonl", protocol="whep",
                            duration=2.0, stats_interval=0.5)
        result = await ProbeSession(opts).run()
        left = dict(runner.app[SESSIONS])
    finally:
        await runner.cleanup()
    capture = load(result.path)
    assert capture.ok, capture.diagnosis
    assert result.reason == "completed"
    events = list(capture.events)
    [local] = [e for e in events if e["event"] == "sdp" and e["role"] == "local"]
    [remote] = [e for e in events if e["event"] == "sdp" and e["role"] == "remote"]
    offered = parse_description(local["sdp"], "offer").media
    answered = parse_description(remote["sdp"], "answer").media
    assert [(m.kind, m.direction) for m in offered] == [("audio", "recvonly"), ("video", "recvonly")]
    assert [(m.kind, m.direction) for m in answered] == [("audio", "sendonly"), ("video", "sendonly")]
    reports = capture.last_stats()
    inbound = {r["kind"]: r["packetsReceived"] for r in reports if r["type"] == "inbound-rtp"}
    assert inbound["audio"] > 0 and inbound["video"] > 0  # the tone and the test pattern arrived
    codecs = {r["id"]: r for r in reports if r["type"] == "codec"}
    mime = {r["kind"]: (codecs[r["codecId"]]["mimeType"], codecs[r["codecId"]]["clockRate"])
            for r in reports if r["type"] == "inbound-rtp"}
    # the answer's payload types name the codecs (the chrome offer's video 96 is not aiortc's audio 96)
    assert mime == {"audio": ("audio/opus", 48000), "video": ("video/VP8", 90000)}
    assert sum(r.get("packetsSent", 0) for r in reports if r["type"] == "outbound-rtp") == 0
    post, delete = http_events(events)
    assert (post["phase"], post["method"], post["status"]) == ("offer", "POST", 201)
    assert post["location"].startswith("/whep/") and post["etag"]
    assert (delete["phase"], delete["method"], delete["status"]) == ("teardown", "DELETE", 200)
    assert delete["url"].endswith(post["location"])
    assert left == {}  # the DELETE closed the target's session


async def test_serve_whep_head_and_offers_that_send() -> None:
    runner, base = await run_server(ServerConfig(host="127.0.0.1", port=0))
    try:
        async with aiohttp.ClientSession() as http:
            async with http.head(base + "/whep") as response:
                assert response.status == 200
                assert response.headers["Content-Type"] == "application/sdp"
            for direction in ("sendrecv", "sendonly"):
                async with http.post(base + "/whep", data=await offer(direction),
                                     headers={"Content-Type": "application/sdp"}) as response:
                    assert response.status == 422
                    assert "not recvonly" in await response.text()
            async with http.post(base + "/whep", data="v=0\r\n",
                                 headers={"Content-Type": "text/plain"}) as response:
                assert response.status == 415
        assert runner.app[SESSIONS] == {}
    finally:
        await runner.cleanup()


async def test_a_counter_offer_ends_the_capture_saying_so(tmp_path: Path) -> None:
    """draft-ietf-wish-whep's early 406 + counter-offer: the probe does not answer it, says so,
    and keeps the exchange."""
    counter = await offer("sendonly")

    async def whep(request: web.Request) -> web.Response:
        return web.Response(status=406, text=counter, content_type="application/sdp")

    app = web.Application()
    app.router.add_post("/whep", whep)
    runner, base = await start_app(app)
    try:
        opts = ProbeOptions(target=base + "/whep", output=tmp_path / "c.jsonl",
                            protocol="whep", duration=1.0)
        result = await asyncio.wait_for(ProbeSession(opts).run(), 30)
    finally:
        await runner.cleanup()
    assert result.reason == "http"
    assert "406" in result.diagnosis and "counter-offer" in result.diagnosis
    [post] = http_events(list(load(result.path).events))
    assert post["status"] == 406


def test_cli_maps_whep_and_refuses_patches_where_there_are_none(tmp_path: Path) -> None:
    parse = build_parser().parse_args
    args = parse(["capture", "http://127.0.0.1:1/whep", "-o", str(tmp_path / "a.jsonl"),
                  "--trickle", "--ice-restart-at", "2"])
    opts = options_from_args(args)
    assert (opts.protocol, opts.trickle, opts.ice_restart_at) == ("whep", True, 2.0)
    assert guess_protocol("https://example.com/live/whep") == "whep"
    args = parse(["capture", "http://127.0.0.1:1/offer", "-o", str(tmp_path / "b.jsonl"), "--trickle"])
    with pytest.raises(UsageError, match="WHIP or WHEP"):
        options_from_args(args)
