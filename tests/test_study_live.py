"""The study's nine-row profile table (DESIGN.md §1), reproduced live: `rtcprobe capture --offer
chrome --video` against `rtcprobe serve --answer-profile openai-2025-09`, both real commands, a real
session on loopback, then `rtcprobe analyze` of the capture."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from test_study_tables import PROFILE_TABLE

from rtcprobe.capture import load
from rtcprobe.sdp import parse_description

RTCPROBE = [sys.executable, "-m", "rtcprobe.cli"]


@pytest.fixture
def served() -> Iterator[str]:
    """`rtcprobe serve --answer-profile openai-2025-09` on a free loopback port; its base URL."""
    proc = subprocess.Popen([*RTCPROBE, "serve", "--port", "0", "--answer-profile", "openai-2025-09"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        first = proc.stdout.readline() if proc.stdout else ""
        assert first.startswith("rtcprobe reference target at http://127.0.0.1:"), first + proc.stderr.read()
        banner = [proc.stdout.readline() for _ in range(6)] if proc.stdout else []
        assert any("answering as openai-2025-09" in line for line in banner), banner
        yield first.rsplit(" ", 1)[1].strip()
    finally:
        proc.terminate()
        proc.wait(timeout=20)


@pytest.mark.slow
def test_capture_chrome_video_against_openai_2025_09_reproduces_the_nine_rows(served: str, tmp_path: Path) -> None:
    out = tmp_path / "openai-live.jsonl"
    env = {**os.environ, "OPENAI_API_KEY": "sk-test-not-a-key"}
    capture = subprocess.run([*RTCPROBE, "capture", f"{served}/v1/realtime/calls", "--offer", "chrome", "--video",
                              "--video-size", "320x240", "--fps", "10", "--duration", "2", "--no-live", "-o", str(out),
                              "--json"], capture_output=True, text=True, env=env, timeout=120)
    assert capture.returncode == 0, capture.stdout + capture.stderr
    analyzed = subprocess.run([*RTCPROBE, "analyze", str(out), "--json"], capture_output=True, text=True,
                              check=True, timeout=60)
    rows = json.loads(analyzed.stdout)["profile"]
    assert [(r["aspect"], r["summary"]) for r in rows] == PROFILE_TABLE

    # the rows are the negotiated session's, and the session carried what they say
    recorded = load(out)
    assert recorded.reason == "completed", recorded.diagnosis
    first = {(e["direction"], e["kind"]): e["payload_type"] for e in recorded.events if e["event"] == "rtp_first"}
    answer = parse_description(next(e["sdp"] for e in recorded.events
                                    if e["event"] == "sdp" and e["role"] == "remote"))
    audio, video = answer.media[0], answer.media[1]
    assert first[("sent", "audio")] == first[("received", "audio")] == audio.codecs[0].payload_type
    assert first[("sent", "video")] == first[("received", "video")] == video.codecs[0].payload_type
    assert [c.fmtp["profile-level-id"] for c in video.codecs] == ["42001f", "42e01f", "4d001f", "640032"]
    ice = next(r for r in rows if r["aspect"] == "ICE/TURN")["facts"]
    assert set(ice["candidate_types"]) == {"host"} and ice["end_of_candidates"] is False
    assert all(c.priority == (2130706431 if c.transport == "udp" else 1671430143) and c.component == 1
               for m in answer.media for c in m.candidates)
    assert {c.port for m in answer.media for c in m.candidates if c.transport == "tcp"} == {443}
    # over loopback UDP; aioice may nominate the ::1 pair its peer's check formed (prflx) a moment later
    pairs = [e for e in recorded.events if e["event"] == "selected_pair"]
    assert pairs and pairs[0]["remote"].startswith("127.0.0.1:") and pairs[0]["remote_type"] == "host", pairs
    assert all(e["remote"].startswith(("127.0.0.1:", "::1:")) and e["remote"].endswith("/udp")
               and e["remote_type"] in ("host", "prflx") for e in pairs), pairs
