"""transport-cc end to end between two rtcprobe peers: the probe and `rtcprobe serve` both stamp,
both send feedback, both decode the other's and estimate (serve answers as openai-2025-09, which
negotiates transport-wide-cc; with aiortc's own answer nothing is negotiated and nothing is added)."""

from __future__ import annotations

import asyncio
from pathlib import Path

from test_probe_taps import until

from rtcprobe.capture import load
from rtcprobe.probe.options import ProbeOptions
from rtcprobe.probe.session import ProbeSession
from rtcprobe.probe.taps import PacketTap, peer_connection_transports
from rtcprobe.probe.twcc import TransportCC
from rtcprobe.server import ServerConfig, run_server
from rtcprobe.server.app import SESSIONS


def server_side(runner) -> list[TransportCC]:  # noqa: ANN001 - aiohttp's AppRunner
    found = []
    for session in runner.app[SESSIONS].values():
        for transport in peer_connection_transports(session.pc):
            tap = getattr(transport, "_rtcprobe_tap", None)
            if isinstance(tap, PacketTap) and isinstance(tcc := tap.find(TransportCC), TransportCC):
                found.append(tcc)
    return found


async def session(tmp_path: Path, profile: str | None) -> tuple[list[dict], list[TransportCC]]:
    runner, base = await run_server(ServerConfig(host="127.0.0.1", port=0, answer_profile=profile))
    try:
        opts = ProbeOptions(target=base + "/whip", output=tmp_path / "capture.jsonl", protocol="whip", video=True,
                            video_size=(320, 240), fps=10, duration=3.0, stats_interval=0.5)
        probe = ProbeSession(opts)
        run = asyncio.create_task(probe.run())
        await until(lambda: probe.status.phase == "running" or run.done(), "the probe's media")
        await asyncio.sleep(2.0)
        served = server_side(runner)
        result = await run
    finally:
        await runner.cleanup()
    capture = load(result.path)
    assert capture.ok, capture.diagnosis
    pairs = [r for r in capture.last_stats() if r["type"] == "candidate-pair"]
    return pairs, served


async def test_probe_and_serve_both_stamp_feed_back_and_estimate(tmp_path: Path) -> None:
    [pair], [served] = await session(tmp_path, "openai-2025-09")
    # the probe: stamped, sent feedback, received and decoded the target's, estimated
    assert pair["transportCcPacketsStamped"] > 0 and pair["transportCcFeedbackSent"] > 0
    assert pair["transportCcFeedbackReceived"] > 0
    assert 0 < pair["transportCcPacketsReportedReceived"] <= pair["transportCcPacketsStamped"]
    assert pair["transportCcPacketsReportedLost"] == 0  # loopback, no impairment
    assert pair["availableOutgoingBitrate"] > 0 and pair["transportCcDelayVariation"] >= 0
    # the target: the same, for what it echoed back
    assert served.stamped > 0 and served.feedback_sent > 0 and served.feedback_received > 0
    assert 0 < served.reported_received <= served.stamped and served.bwe.estimate > 0


async def test_without_transport_cc_in_the_answer_nothing_is_added(tmp_path: Path) -> None:
    [pair], served = await session(tmp_path, None)
    assert served == []
    assert not any(key.startswith("transportCc") for key in pair) and "availableOutgoingBitrate" not in pair
