"""Real probe sessions against the reference target on loopback: every protocol, the counters that
must move, seeded loss, and every classified failure. No mocks: aiortc on both sides."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest

from rtcprobe.analyze.feedback import feedback_counts
from rtcprobe.analyze.latency import connect_breakdown
from rtcprobe.capture import Capture, load
from rtcprobe.probe.options import PhaseTimeouts, ProbeOptions
from rtcprobe.probe.session import ProbeSession

pytestmark = pytest.mark.slow

ENDPOINT = {"whip": "/whip", "openai": "/v1/realtime/calls", "openai-beta": "/v1/realtime", "sdp-post": "/offer"}
Target = Callable[..., "AsyncIterator[str]"]



async def probe(tmp_path: Path, url: str, protocol: str | None = None, **options: object) -> Capture:
    opts = ProbeOptions(target=url, output=tmp_path / "capture.jsonl", protocol=protocol, **options)  # type: ignore[arg-type]
    result = await ProbeSession(opts).run()
    capture = load(result.path)
    assert capture.reason == result.reason and not capture.cut
    return capture


def reports(capture: Capture, type_: str, kind: str | None = None) -> list[dict]:
    return [r for r in capture.last_stats() if r["type"] == type_ and (kind is None or r.get("kind") == kind)]


@pytest.mark.parametrize(("protocol", "offer_format"),
                         [("whip", "sdp"), ("openai", "sdp"), ("openai-beta", "sdp"), ("sdp-post", "sdp"),
                          ("sdp-post", "json")])
async def test_each_protocol_audio_video_datachannel(serve, tmp_path: Path, protocol: str, offer_format: str) -> None:
    base = await serve(token="t0k3n-for-e2e")
    capture = await probe(
        tmp_path, base + ENDPOINT[protocol], protocol, token="t0k3n-for-e2e", video=True, video_size=(1920, 1080),
        fps=1.0, datachannel="probe", send=['{"type": "ping"}'], duration=2.5, stats_interval=0.5,
        offer_format=offer_format,
    )
    assert capture.ok, capture.diagnosis
    for kind in ("audio", "video"):
        (out,) = reports(capture, "outbound-rtp", kind)
        (inb,) = reports(capture, "inbound-rtp", kind)
        assert out["packetsSent"] > 0 and out["bytesSent"] > 0
        assert inb["packetsReceived"] > 0 and inb["bytesReceived"] > 0
    rtt = [r["roundTripTime"] for r in reports(capture, "remote-inbound-rtp") if r.get("roundTripTime") is not None]
    assert rtt and all(0 < v < 1 for v in rtt)
    counts = feedback_counts(capture)
    assert counts.sent.get("SR", 0) > 0 and counts.received.get("SR", 0) > 0
    assert counts.sent.get("RR", 0) > 0 and counts.received.get("RR", 0) > 0
    breakdown = connect_breakdown(capture)
    assert [p.name for p in breakdown.phases] == ["http", "ice", "dtls", "first media", "data channel"]
    assert all(p.duration is not None for p in breakdown.phases)
    received = [json.loads(e["data"]) for e in capture.of("dc_message") if e["direction"] == "received"]
    types = [m.get("type") for m in received]
    if protocol == "openai":
        assert "session.created" in types
    elif protocol == "openai-beta":
        assert "session.updated" in types  # the probe's session.update over oai-events was answered
    else:
        assert {"type": "ping"} in received  # echoed
    assert capture.answer is not None and capture.offer is not None
    http = capture.http
    assert http[0]["status"] in (200, 201) and http[0]["request_headers"].get("Authorization") == "[redacted]"
    if protocol == "whip":
        assert http[0]["location"] and any(h["method"] == "DELETE" and h["status"] == 200 for h in http)
    seen = capture.of("extensions_seen")
    assert seen and all(e["ids"] for e in seen)


async def test_seeded_loss_makes_nacks(serve, tmp_path: Path) -> None:
    base = await serve(loss_percent=10, seed=7)
    capture = await probe(tmp_path, base + "/whip", audio=None, video=True, video_size=(640, 360), fps=15,
                          duration=3, stats_interval=0.5)
    assert capture.ok, capture.diagnosis
    counts = feedback_counts(capture)
    assert counts.sent.get("NACK", 0) > 0 and counts.nack_lost_sequence_numbers["sent"] > 0
    (inbound,) = reports(capture, "inbound-rtp", "video")
    assert inbound["nackCount"] == counts.sent["NACK"]
    assert inbound["packetsLost"] >= 0


@pytest.mark.parametrize(
    ("knobs", "timeouts", "reason", "words"),
    [
        ({"http_status": 503}, {}, "http", "503"),
        ({"garbage_body": True}, {}, "http", "SDP"),
        ({"http_delay_ms": 3000}, {"http": 1.0}, "timeout", "1 s"),
    ],
)
async def test_http_faults_are_classified(serve, tmp_path, knobs, timeouts, reason, words) -> None:
    base = await serve(**knobs)
    capture = await probe(tmp_path, base + "/whip", timeouts=PhaseTimeouts(**timeouts))
    assert capture.reason == reason and words in capture.diagnosis
    assert capture.end is not None and capture.first("error") is not None
    assert capture.offer is not None  # what happened before the failure is kept
    (offer_post,) = capture.http  # recorded even when the phase timed out around it
    assert offer_post["status"] == (knobs.get("http_status") or (200 if "garbage_body" in knobs else None)) \
        or offer_post["error"]


async def test_connection_refused(tmp_path: Path) -> None:
    import socket

    with socket.socket() as s:  # a port that nothing listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    capture = await probe(tmp_path, f"http://127.0.0.1:{port}/whip")
    assert capture.reason == "http" and "cannot connect" in capture.diagnosis


async def test_unreachable_candidates_fail_ice(serve, tmp_path: Path) -> None:
    base = await serve(advertise_ips=["127.0.0.2", "127.0.0.3"], advertise_tcp_port=None, only_advertised=True)
    capture = await probe(tmp_path, base + "/whip", timeouts=PhaseTimeouts(ice=3, dtls=1))
    assert capture.reason == "ice"
    assert "127.0.0.2:3478" in capture.diagnosis and "ICE" in capture.diagnosis
    assert capture.first("ice_pairs")["pairs"]


async def test_tcp_only_target_is_diagnosed(serve, tmp_path: Path) -> None:
    base = await serve(advertise_ips=["127.0.0.2"], advertise_udp_port=None, only_advertised=True)
    capture = await probe(tmp_path, base + "/whip", timeouts=PhaseTimeouts(ice=2, dtls=1))
    assert capture.reason == "ice" and "only TCP candidates" in capture.diagnosis


async def test_no_token_is_401(serve, tmp_path: Path) -> None:
    base = await serve(token="right-token")
    capture = await probe(tmp_path, base + "/v1/realtime/calls", token="wrong-token")
    assert capture.reason == "http" and "401" in capture.diagnosis


async def test_silent_peer_is_a_media_failure(serve, tmp_path: Path) -> None:
    base = await serve(loss_percent=100)
    capture = await probe(tmp_path, base + "/whip", timeouts=PhaseTimeouts(media=1.5))
    assert capture.reason == "media" and "no RTP received" in capture.diagnosis
    assert capture.state_reached("connection", "connected") is not None  # it got that far, and says so


async def test_wrong_fingerprint_is_a_dtls_failure(serve, tmp_path: Path) -> None:
    base = await serve(bad_fingerprint=True)
    capture = await probe(tmp_path, base + "/whip", timeouts=PhaseTimeouts(dtls=5))
    assert capture.reason == "dtls", capture.diagnosis
    assert "DTLS" in capture.diagnosis and capture.state_reached("ice_connection", "completed") is not None
