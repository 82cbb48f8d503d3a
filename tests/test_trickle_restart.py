"""Trickle ICE and ICE restart through PATCH (RFC 9725 §4.3, §4.4): what `capture --trickle
--ice-restart-at` sends and records against `rtcprobe serve`, serve's answers to every
precondition (raw HTTP), and a restart the server refuses (the session goes on, said so)."""

from __future__ import annotations

import re
from pathlib import Path

import aiohttp
from aiohttp import web
from test_whep import offer, start_app

from rtcprobe.capture import load
from rtcprobe.probe.options import ProbeOptions
from rtcprobe.probe.session import ProbeSession
from rtcprobe.server import ServerConfig, run_server
from rtcprobe.server.app import create_app
from rtcprobe.signaling.trickle import TRICKLE_TYPE, credentials, parse_fragment

SDP = {"Content-Type": "application/sdp"}
FRAG = {"Content-Type": TRICKLE_TYPE}


def received(event: dict) -> int:
    return sum(r.get("packetsReceived", 0) for r in event["reports"] if r["type"] == "inbound-rtp")


async def test_whep_capture_trickles_then_restarts_and_keeps_playing(tmp_path: Path) -> None:
    runner, base = await run_server(ServerConfig(host="127.0.0.1", port=0))
    try:
        opts = ProbeOptions(target=base + "/whep", output=tmp_path / "r.jsonl", protocol="whep", duration=3.0,
                            stats_interval=0.5, trickle=True, ice_restart_at=0.0)
        result = await ProbeSession(opts).run()
    finally:
        await runner.cleanup()
    capture = load(result.path)
    assert capture.ok and result.reason == "completed", result.diagnosis
    events = list(capture.events)
    post, trickle, restart, delete = [e for e in events if e["event"] == "http"]
    assert [(e["phase"], e["method"], e["status"]) for e in (post, trickle, restart, delete)] == [
        ("offer", "POST", 201), ("patch", "PATCH", 204), ("restart", "PATCH", 200), ("teardown", "DELETE", 200)]
    assert trickle["request_headers"]["If-Match"] == post["etag"]
    assert trickle["request_content_type"] == restart["request_content_type"] == TRICKLE_TYPE
    assert restart["request_headers"]["If-Match"] == "*"
    assert restart["etag"] and restart["etag"] != post["etag"]
    [answer] = [e["sdp"] for e in events if e["event"] == "sdp" and e["role"] == "remote"]
    old_ufrag, old_pwd = credentials(answer)
    fragment = parse_fragment(restart["response_fragment"])
    assert parse_fragment(trickle["request_fragment"]).sections[0].end_of_candidates
    assert fragment.ufrag and fragment.ufrag != old_ufrag and fragment.pwd and fragment.pwd != old_pwd
    stats = [e for e in events if e["event"] == "stats"]
    after = [received(e) for e in stats if e["t"] > restart["t_response"]]
    assert len(after) >= 2 and after[-1] > after[0]  # media kept flowing after the restart
    assert "a STUN check with the new credentials was answered" in result.diagnosis
    assert "end-of-candidates PATCH answered 204" in result.diagnosis
    assert not result.warnings


async def test_serve_patch_preconditions_and_restart_over_raw_http() -> None:
    runner, base = await run_server(ServerConfig(host="127.0.0.1", port=0))
    try:
        async with aiohttp.ClientSession() as http:
            async with http.post(base + "/whep", data=await offer("recvonly"), headers=SDP) as response:
                assert response.status == 201
                url, etag, answer = base + response.headers["Location"], response.headers["ETag"], await response.text()
            end = "a=mid:0\r\na=end-of-candidates\r\n"
            async with http.patch(url, data=end, headers={**FRAG, "If-Match": etag}) as response:
                assert response.status == 204
            async with http.patch(url, data=end, headers=FRAG) as response:
                assert response.status == 428
            async with http.patch(url, data=end, headers={**FRAG, "If-Match": '"stale"'}) as response:
                assert response.status == 412
            async with http.patch(url, data=end, headers={"Content-Type": "text/plain", "If-Match": etag}) as response:
                assert response.status == 415
            async with http.patch(url, data="a=candidate:nonsense\r\n", headers={**FRAG, "If-Match": etag}) as response:
                assert response.status == 422
            restart = "a=ice-ufrag:newU\r\na=ice-pwd:newpasswordnewpassword12\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\na=mid:0\r\n"
            async with http.patch(url, data=restart, headers={**FRAG, "If-Match": "*"}) as response:
                assert response.status == 200
                assert response.headers["Content-Type"].startswith(TRICKLE_TYPE)
                new_etag, body = response.headers["ETag"], await response.text()
            assert new_etag != etag
            fragment = parse_fragment(body)
            assert (fragment.ufrag, fragment.pwd) != credentials(answer) and fragment.ufrag and fragment.pwd
            assert re.search(r"^a=candidate:", body, re.M) and "a=end-of-candidates" in body
            async with http.patch(url, data=end, headers={**FRAG, "If-Match": etag}) as response:
                assert response.status == 412  # the restart made the old ETag stale
            async with http.patch(url, data=end, headers={**FRAG, "If-Match": new_etag}) as response:
                assert response.status == 204
            async with http.delete(url) as response:
                assert response.status == 200
    finally:
        await runner.cleanup()


async def test_a_refused_restart_leaves_the_whip_session_running_and_says_so(tmp_path: Path) -> None:
    """A WHIP server that does trickle but not restarts (422, RFC 9725 §4.3): the probe's ICE
    agent keeps its credentials, media goes on, the warning says it did not restart."""

    @web.middleware
    async def no_restarts(request: web.Request, handler):  # noqa: ANN001, ANN202 - aiohttp's shapes
        if request.method == "PATCH" and request.headers.get("If-Match") == "*":
            return web.Response(status=422, text="ICE restarts are not supported")
        return await handler(request)

    app = create_app(ServerConfig(host="127.0.0.1", port=0))
    app.middlewares.insert(0, no_restarts)
    runner, base = await start_app(app)
    try:
        opts = ProbeOptions(target=base + "/whip", output=tmp_path / "w.jsonl", protocol="whip",
                            duration=2.0, stats_interval=0.5, ice_restart_at=0.0)
        result = await ProbeSession(opts).run()
    finally:
        await runner.cleanup()
    assert result.reason == "completed", result.diagnosis
    [warning] = result.warnings
    assert "answered 422" in warning and "did not restart" in warning
    events = list(load(result.path).events)
    [restart] = [e for e in events if e["event"] == "http" and e["phase"] == "restart"]
    assert restart["status"] == 422
    stats = [e for e in events if e["event"] == "stats"]
    after = [received(e) for e in stats if e["t"] > restart["t_response"]]
    assert len(after) >= 2 and after[-1] > after[0]
