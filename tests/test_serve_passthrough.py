"""`serve --echo packets`: what the probe sends comes back encoded as it was, frame for frame, and
decodes at the probe; the decoding echo stays where something listens (realtime VAD)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from test_probe_e2e import probe, reports

pytestmark = pytest.mark.slow


def extension_ids(capture, direction: str, ssrc: int) -> list[int]:  # noqa: ANN001 - a Capture
    return next(e["ids"] for e in capture.of("extensions_seen") if e["direction"] == direction and e["ssrc"] == ssrc)


async def test_audio_and_video_come_back_frame_for_frame_and_decode(serve, tmp_path: Path) -> None:
    base = await serve(echo="packets")
    capture = await probe(tmp_path, base + "/whip", video=True, video_size=(320, 240), fps=15.0, duration=3.0,
                          stats_interval=0.5)
    assert capture.ok, capture.diagnosis
    (video_out,), (video_in,) = reports(capture, "outbound-rtp", "video"), reports(capture, "inbound-rtp", "video")
    (audio_out,), (audio_in,) = reports(capture, "outbound-rtp", "audio"), reports(capture, "inbound-rtp", "audio")
    # the echo trails by the frames in flight at the last sample (a few at 15 fps)
    assert video_out["framesEncoded"] - 5 <= video_in["framesDecoded"] <= video_out["framesEncoded"]
    assert (video_in["frameWidth"], video_in["frameHeight"]) == (320, 240)
    assert audio_out["packetsSent"] - 10 <= audio_in["packetsReceived"] <= audio_out["packetsSent"]
    assert audio_in["totalSamplesReceived"] > 0 and audio_in["audioLevel"] > 0.05  # the tone, decoded here
    level = next(e.id for e in capture.offer.media[0].extensions if e.uri.endswith("ssrc-audio-level"))
    assert level in extension_ids(capture, "sent", audio_out["ssrc"])
    assert level not in extension_ids(capture, "received", audio_in["ssrc"])  # nothing was decoded to measure


async def test_the_realtime_vad_keeps_decoding(serve, tmp_path: Path) -> None:
    base = await serve(echo="packets")
    capture = await probe(tmp_path, base + "/v1/realtime/calls", "openai", duration=2.0, stats_interval=0.5)
    assert capture.ok, capture.diagnosis
    (audio_in,) = reports(capture, "inbound-rtp", "audio")
    level = next(e.id for e in capture.offer.media[0].extensions if e.uri.endswith("ssrc-audio-level"))
    assert level in extension_ids(capture, "received", audio_in["ssrc"])  # decoded, measured, encoded again


def test_echo_takes_decoded_or_packets() -> None:
    run = subprocess.run([sys.executable, "-m", "rtcprobe.cli", "serve", "--echo", "frames"],
                         capture_output=True, text=True, timeout=60)
    assert run.returncode == 2 and "--echo" in run.stderr and "packets" in run.stderr
